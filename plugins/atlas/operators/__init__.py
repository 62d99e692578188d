"""Operators: thin wrappers that log and call a hook."""

from __future__ import annotations
