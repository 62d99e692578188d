"""Where the dbt project, its manifest and the dbt executable are.

dbt runs from its own venv (``.venv-dbt``: dbt-core 1.11 cannot share Airflow's), so Cosmos
invokes it as a subprocess. The manifest is built once at setup, without a database::

    cd include/atlas_dbt && ../../.venv-dbt/bin/dbt parse --profiles-dir . --target-path target

and DAGs render from it (``LoadMode.DBT_MANIFEST``): no ``dbt ls`` at DAG-parse time.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path

from atlas.constants import DBT_PROJECT_DIR, ROOT
from atlas.exceptions import DbtProjectError

log = logging.getLogger(__name__)

DBT_EXECUTABLE_ENV = "ATLAS_DBT_EXECUTABLE"
"""Environment variable naming the dbt executable; default ``<repo>/.venv-dbt/bin/dbt``."""
PARSE_COMMAND = "cd include/atlas_dbt && ../../.venv-dbt/bin/dbt parse --profiles-dir . --target-path target"
"""What ``make setup`` runs to build the manifest (quoted in error messages)."""


def dbt_project_dir() -> Path:
    """The dbt project (``include/atlas_dbt``)."""
    return DBT_PROJECT_DIR


def manifest_path() -> Path:
    """The manifest ``dbt parse`` writes (``include/atlas_dbt/target/manifest.json``)."""
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> Path:
    """The dbt executable: ``$ATLAS_DBT_EXECUTABLE`` or ``<repo>/.venv-dbt/bin/dbt``."""
    return Path(os.environ.get(DBT_EXECUTABLE_ENV) or ROOT / ".venv-dbt" / "bin" / "dbt")


def require_manifest(path: Path | None = None) -> Path:
    """The manifest (default :func:`manifest_path`); a clear error when it was never built."""
    path = path or manifest_path()
    if not path.is_file():
        raise DbtProjectError(
            f"dbt manifest not found at {path}: run `make setup` (it runs `{PARSE_COMMAND}`), "
            "then reload the DAGs"
        )
    return path


def tagged_nodes(tag: str, path: Path | None = None) -> list[str]:
    """Unique ids of the models and snapshots of the manifest carrying ``tag``."""
    path = require_manifest(path)
    stat = path.stat()
    return list(_tagged_nodes(str(path), stat.st_mtime_ns, stat.st_size, tag))


@lru_cache(maxsize=32)
def _tagged_nodes(path: str, mtime_ns: int, size: int, tag: str) -> tuple[str, ...]:
    # keyed on mtime and size, so a rebuilt manifest is read again; one read per parse otherwise
    try:
        nodes = json.loads(Path(path).read_text(encoding="utf-8")).get("nodes", {})
    except (OSError, ValueError) as exc:
        raise DbtProjectError(f"dbt manifest {path} is unreadable ({exc}): run `{PARSE_COMMAND}`") from exc
    found = tuple(
        sorted(
            unique_id
            for unique_id, node in nodes.items()
            if node.get("resource_type") in ("model", "snapshot") and tag in node.get("tags", ())
        )
    )
    log.debug("manifest %s: %s node(s) tagged %s", path, len(found), tag)
    return found
