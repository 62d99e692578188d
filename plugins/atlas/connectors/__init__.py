"""Connectors: files (local or S3), PostgreSQL (incremental), HTTP JSON APIs (paginated)."""

from __future__ import annotations
