"""Consistency of navigate with chart after the build: the interval's keys and measure sums.

For every entity, the chart rows the interval promoted (``_interval_start`` in the interval) are
compared with the entity's current-state table ``navigate.<source>__<entity>``:

- ``<entity>.navigate.keys`` (consistency): every such chart key has its navigate row;
- ``<entity>.navigate.sum.<column>`` (accuracy): for each numeric column that is a measure (not a
  key, a reference or an ``*_id`` identifier), the sum over those keys is the same in chart and
  navigate.

Both are ``fail`` checks: a build that lost or changed rows must not be published. The results
go to ``quality.check_results`` beside the gate's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from atlas.batches import Interval, batch_id
from atlas.config.source import SourceConfig
from atlas.config.types import ColumnType
from atlas.sql import load_sql

MEASURE_TYPES = frozenset({ColumnType.INTEGER, ColumnType.BIGINT, ColumnType.NUMERIC})


@dataclass(frozen=True)
class NavigateCheck:
    name: str
    dimension: str
    table: str
    passed: bool
    metric: Decimal | int
    details: dict[str, Any]


def check_navigate(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    interval: Interval,
    *,
    dag_id: str | None,
    run_id: str | None,
) -> list[NavigateCheck]:
    """Run and record the checks of every entity whose navigate table exists."""
    results: list[NavigateCheck] = []
    with conn.transaction(), conn.cursor() as cur:
        for entity in config.entities:
            name = f"{config.name}__{entity.name}"
            exists = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (f"navigate.{name}",)).fetchone()
            if not exists or not exists[0]:
                continue
            keys = list(entity.key)
            references = {column for ref in entity.references for column in ref.columns}
            measures = [
                c.name
                for c in entity.columns
                if c.type in MEASURE_TYPES
                and c.name not in keys
                and c.name not in references
                and not c.name.endswith("_id")  # an identifier: its sum means nothing
            ]
            select = sql.SQL(", ").join(
                [
                    sql.SQL("count(*)"),
                    sql.SQL("count(*) FILTER (WHERE n.{} IS NULL)").format(sql.Identifier("_atlas_found")),
                    *(
                        sql.SQL("coalesce(sum(c.{0}), 0), coalesce(sum(n.{0}), 0)").format(sql.Identifier(m))
                        for m in measures
                    ),
                ]
            )
            query = sql.SQL(
                "SELECT {select} FROM (SELECT * FROM chart.{table} WHERE _interval_start >= %s AND _interval_start < %s) AS c"
                " LEFT JOIN (SELECT *, true AS _atlas_found FROM navigate.{table}) AS n ON {on}"
            ).format(
                select=select,
                table=sql.Identifier(name),
                on=sql.SQL(" AND ").join(sql.SQL("n.{0} = c.{0}").format(sql.Identifier(k)) for k in keys),
            )
            row = cur.execute(query, (interval.start, interval.end)).fetchone()
            assert row is not None
            rows, missing, *sums = row
            results.append(
                NavigateCheck(
                    f"{entity.name}.navigate.keys",
                    "consistency",
                    f"navigate.{name}",
                    missing == 0,
                    missing,
                    {"chart_rows": rows, "missing_in_navigate": missing},
                )
            )
            for i, measure in enumerate(measures):
                chart_sum, navigate_sum = sums[2 * i], sums[2 * i + 1]
                results.append(
                    NavigateCheck(
                        f"{entity.name}.navigate.sum.{measure}",
                        "accuracy",
                        f"navigate.{name}",
                        chart_sum == navigate_sum,
                        navigate_sum - chart_sum,
                        {"chart_sum": str(chart_sum), "navigate_sum": str(navigate_sum)},
                    )
                )
            cur.execute(load_sql("quality", "ensure_results_partition"))
            for result in results[-(1 + len(measures)) :]:
                cur.execute(
                    load_sql("quality", "insert_result"),
                    {
                        "check_id": None,
                        "batch_id": batch_id(config.name, entity.name, interval),
                        "dag_id": dag_id,
                        "run_id": run_id,
                        "table_name": result.table,
                        "check_name": result.name,
                        "dimension_name": result.dimension,
                        "outcome": "pass" if result.passed else "fail",
                        "metric_value": result.metric,
                        "details": Jsonb(result.details),
                    },
                )
    return results
