"""Names Atlas agrees on: connection ids, schemas, repository paths and closed choices."""

from __future__ import annotations

import os
import uuid
from enum import StrEnum
from pathlib import Path

WAREHOUSE_CONN_ID = "atlas_warehouse"
"""Airflow connection of the warehouse (``AIRFLOW_CONN_ATLAS_WAREHOUSE``)."""
S3_CONN_ID = "atlas_s3"
"""Airflow connection of object storage: an ``aws`` connection, ``endpoint_url`` for MinIO."""
PSEUDONYM_KEY_CONN_ID = "atlas_pseudonym_key"
"""Airflow connection whose password is the key of navigate's keyed pseudonyms (sql/V023)."""

ROOT = Path(os.environ.get("ATLAS_ROOT") or Path(__file__).resolve().parents[2])
"""The repository (the Astro project) root."""
INCLUDE_DIR = ROOT / "include"
SOURCES_DIR = INCLUDE_DIR / "sources"
"""The repository's folder of source YAML files (``atlas.config.sources_folder()`` may override it)."""
SQL_DIR = INCLUDE_DIR / "sql"
"""Templated task SQL, ``<layer>/<verb>.sql``."""
MIGRATIONS_DIR = ROOT / "sql"
"""Warehouse migrations (DDL), applied in order with a ledger."""
DBT_PROJECT_DIR = INCLUDE_DIR / "atlas_dbt"
"""The dbt project (not called ``dbt``: a folder of that name on sys.path shadows the package)."""

BATCH_NAMESPACE = uuid.UUID("6f1c7b7e-3a51-4f0e-9a8e-5c0d2b7a9e11")
"""Namespace of the deterministic batch ids (uuid5)."""


class Schema(StrEnum):
    """The seven warehouse schemas."""

    EXPLORE = "explore"
    CHART = "chart"
    NAVIGATE = "navigate"
    PIPELINE = "pipeline"
    QUALITY = "quality"
    COMPLIANCE = "compliance"
    ARCHIVE = "archive"


class Layer(StrEnum):
    """Medallion layers, used as DAG tags."""

    EXPLORE = "explore"
    CHART = "chart"
    NAVIGATE = "navigate"


class PartitionGrain(StrEnum):
    """Range-partition grains understood by ``pipeline.ensure_partition``."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
