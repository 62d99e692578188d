"""Where the dbt project, its manifest and the dbt executable are.

dbt-core 1.11 is installed with Airflow (requirements.txt) and Cosmos runs it in-process
(``InvocationMode.DBT_RUNNER``); the ``dbt`` executable next to the interpreter builds the
manifest and runs dbt in tests. At setup the per-source models are generated from the source YAML
files (:mod:`atlas.dbt.generate`), then the manifest is built once, without a database::

    cd include/atlas_dbt && ../../.venv/bin/dbt parse --profiles-dir . --target-path target

and cut into one small manifest per source (:mod:`atlas.dbt.manifest`), from which DAGs
render (``LoadMode.DBT_MANIFEST``): no ``dbt ls`` at DAG-parse time.

``$ATLAS_DBT_PROJECT_DIR``, read at call time, points everything here at another copy of the
project (a test generating the models of its own sources folder into a temporary copy).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from atlas.constants import DBT_PROJECT_DIR
from atlas.exceptions import DbtProjectError

log = logging.getLogger(__name__)

DBT_PROJECT_DIR_ENV = "ATLAS_DBT_PROJECT_DIR"
"""Environment variable naming the dbt project folder; default ``<repo>/include/atlas_dbt``."""
PARSE_COMMAND = (
    "PYTHONPATH=plugins .venv/bin/python -m atlas.dbt.generate"
    " && cd include/atlas_dbt && ../../.venv/bin/dbt parse --profiles-dir . --target-path target"
)
"""What ``make setup`` runs to build the manifest (quoted in error messages): generate, then parse."""


def dbt_project_dir() -> Path:
    """The dbt project: ``$ATLAS_DBT_PROJECT_DIR`` as set now, else ``include/atlas_dbt``."""
    configured = os.environ.get(DBT_PROJECT_DIR_ENV)
    return Path(configured) if configured else DBT_PROJECT_DIR


def manifest_path() -> Path:
    """The manifest ``dbt parse`` writes (``<project>/target/manifest.json``)."""
    return dbt_project_dir() / "target" / "manifest.json"


def dbt_executable() -> Path:
    """The ``dbt`` installed next to this Python (dbt is in Airflow's environment)."""
    return Path(sys.executable).parent / "dbt"


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
    """Unique ids of the models and snapshots of the manifest carrying ``tag``.

    Read from the per-source slices' index (:mod:`atlas.dbt.manifest`), so the full manifest
    is read at most once per process.
    """
    from atlas.dbt.manifest import resolve_slices  # imports this module

    return list(resolve_slices(path).tags.get(tag, ()))
