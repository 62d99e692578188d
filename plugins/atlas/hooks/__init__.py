"""Hooks: the warehouse (``WarehouseHook``) and whatever else Atlas talks to."""

from __future__ import annotations
