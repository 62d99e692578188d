"""OpenLineage datasets of Atlas's own operators: source → explore → chart, with schema and row counts.

The OpenLineage provider calls ``get_openlineage_facets_on_complete`` of an operator after it
succeeded (same process, same operator object); Atlas's operators keep what they wrote in
``execute`` and answer with :func:`operator_lineage`. dbt's nodes (``navigate.<model>``) are
reported by Cosmos. Everything here is imported lazily and fails soft: lineage that cannot be
built is logged and never fails a task.

Naming follows the OpenLineage spec: a PostgreSQL table is namespace ``postgres://host:port``,
name ``database.schema.table``. A warehouse reached through a Unix socket keeps the socket
directory as its host (``postgres:///run/postgresql:5432``): the spec has no form of its own for
a socket, and this is the form Cosmos's dbt events use for the same connection, so the explore
and chart datasets here and dbt's navigate datasets join in one graph. (OpenLineage namespaces
are free text; only Airflow Assets need a host, and Atlas builds none from this.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

EXPLORE_RAW = ("explore", "raw_data")
EXPLORE_QUARANTINE = ("explore", "quarantine")
CHART_QUARANTINE = ("chart", "quarantine")
RAW_DATA_COLUMNS = {
    "raw_id": "bigint",
    "source_name": "text",
    "entity_name": "text",
    "batch_id": "uuid",
    "interval_start": "timestamptz",
    "record_key": "text",
    "payload": "jsonb",
    "payload_checksum": "text",
    "source_location": "text",
    "ingested_at": "timestamptz",
}
"""``explore.raw_data`` (sql/V004), the schema facet of the landing's output."""


@dataclass(frozen=True)
class DatasetRef:
    """One dataset of a task's lineage: where, which, and what is known of it."""

    namespace: str
    name: str
    columns: Mapping[str, str] = field(default_factory=dict)
    """Column name → type, for the schema facet (empty: no facet)."""
    rows: int | None = None
    """Rows the task wrote to it (outputs only: the outputStatistics facet)."""


def postgres_namespace(conn_id: str) -> tuple[str, str]:
    """(``postgres://host:port``, database) of an Airflow ``postgres`` connection."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return f"postgres://{conn.host or 'localhost'}:{conn.port or 5432}", conn.schema or ""


def warehouse_table(
    conn_id: str, table: tuple[str, str], columns: Mapping[str, str] | None = None, rows: int | None = None
) -> DatasetRef:
    """The dataset of a warehouse table (schema, table) reached through ``conn_id``."""
    namespace, database = postgres_namespace(conn_id)
    return DatasetRef(namespace, ".".join([database, *table]), dict(columns or {}), rows)


def operator_lineage(inputs: Iterable[DatasetRef], outputs: Iterable[DatasetRef]) -> Any:
    """The provider's ``OperatorLineage`` of these datasets."""
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    def facets(ref: DatasetRef) -> dict[str, Any]:
        if not ref.columns:
            return {}
        fields = [SchemaDatasetFacetFields(name=name, type=kind) for name, kind in ref.columns.items()]
        return {"schema": SchemaDatasetFacet(fields=fields)}

    return OperatorLineage(
        inputs=[InputDataset(namespace=r.namespace, name=r.name, facets=facets(r)) for r in inputs],
        outputs=[
            OutputDataset(
                namespace=r.namespace,
                name=r.name,
                facets=facets(r),
                outputFacets=(
                    {"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=r.rows)}
                    if r.rows is not None
                    else {}
                ),
            )
            for r in outputs
        ],
    )


def fail_soft(build: Any, task: str) -> Any:
    """``build()``, or ``None`` (no lineage) with the error logged: lineage never fails a task."""
    try:
        return build()
    except Exception:
        log.warning("no OpenLineage datasets for %s: building them failed", task, exc_info=True)
        return None
