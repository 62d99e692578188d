"""The DAG factory: one Airflow DAG per source YAML (``builder``, with ``docs`` for its doc_md),
loaded by one DAG file (``loader``)."""

from __future__ import annotations

from atlas.factory.builder import build_dag, navigate_asset
from atlas.factory.loader import load_dags
from atlas.stages.publish import navigate_asset_uri

__all__ = ["build_dag", "load_dags", "navigate_asset", "navigate_asset_uri"]
