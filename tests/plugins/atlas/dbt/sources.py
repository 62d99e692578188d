"""Test helpers: small source YAML documents for the dbt generator tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from atlas.config import parse_source


def library(**entity_changes: Any) -> dict[str, Any]:
    """A files source ``library``: ``members`` (personal data) and ``loans`` (composite key, a reference)."""
    members: dict[str, Any] = {
        "name": "members",
        "description": "Members of the library.",
        "path": "members/{start:%Y%m%d}.csv",
        "key": ["member_id"],
        "columns": [
            {"name": "member_id", "type": "bigint", "required": True},
            {"name": "full_name", "type": "text", "required": True, "pii": "PERSON"},
            {"name": "email", "type": "text", "pii": "EMAIL_ADDRESS"},
            {
                "name": "tier",
                "type": "text",
                "required": True,
                "allowed_values": ["basic", "gold", "O'Brien"],
            },
            {"name": "notes", "type": "text", "classification": "restricted"},
            {"name": "nickname", "type": "text", "pii": "PERSON", "classification": "public"},
            {"name": "updated_at", "type": "timestamp", "required": True},
        ],
        **entity_changes,
    }
    loans = {
        "name": "loans",
        "path": "loans/{start:%Y%m%d}.csv",
        "key": ["member_id", "book_id"],
        "references": [{"columns": ["member_id"], "entity": "members"}],
        "columns": [
            {"name": "member_id", "type": "bigint", "required": True},
            {"name": "book_id", "type": "bigint", "required": True},
            {"name": "due_on", "type": "date"},
        ],
    }
    return {
        "name": "library",
        "description": "The town library.",
        "start_date": "2026-01-01",
        "connector": {"type": "files", "format": "csv", "location": "include/sample_data/library"},
        "entities": [members, loans],
    }


def config(document: dict[str, Any]) -> Any:
    """The validated ``SourceConfig`` of a document."""
    return parse_source(document, "library.yaml")


def write_source(folder: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as ``<folder>/<its source name>.yaml``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{document['name']}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
