"""SourceToExploreOperator run for real with dag.test(): a three-month backfill, re-run, rejects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from atlas.batches import Interval, batch_id
from tests.fixtures.airflow_db import write_and_load_dag

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

SOURCE_YAML = """\
name: h5src
owner: data-team
schedule: "@monthly"
start_date: 2025-01-01
connector:
  type: files
  format: csv
  location: {location}
entities:
  - name: customers
    path: "customers_{{start:%Y%m}}.csv"
    key: [customer_id]
    columns:
      - {{name: customer_id, type: bigint}}
      - {{name: name, type: text}}
"""

# The DAG file lands the CSV files through a small real connector (csv module) that follows the
# SourceConnector protocol, so the operator is tested apart from the production connectors.
DAG_SOURCE = """\
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from atlas.connectors.base import Chunk, Reject
from atlas.operators.partitions import EnsurePartitionsOperator
from atlas.operators.source_to_explore import SourceToExploreOperator


class CsvConnector:
    def __init__(self, config):
        self.location = Path(config.connector.location)

    def extract(self, entity, interval):
        path = self.location / entity.path.format(start=interval.start, end=interval.end)
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            chunk = Chunk()
            for line, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    reason = f"row has {{len(row)}} fields, header has {{len(header)}}"
                    chunk.rejects.append(Reject(str(path), line, ",".join(row), reason))
                else:
                    chunk.records.append((dict(zip(header, row)), f"{{path}}:{{line}}"))
                if len(chunk) >= 2:
                    yield chunk
                    chunk = Chunk()
            if len(chunk):
                yield chunk


class CsvToExploreOperator(SourceToExploreOperator):
    def get_connector(self, config):
        return CsvConnector(config)


with DAG(
    "{dag_id}",
    schedule=CronDataIntervalTimetable("@monthly", timezone="UTC"),
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    tags=["test"],
):
    ensure = EnsurePartitionsOperator(task_id="ensure_partitions")
    land = CsvToExploreOperator(task_id="land_customers", source_path="{source_path}", entity="customers")
    ensure >> land
"""

MONTHS = [dt.datetime(2025, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3)]


def _write_month(folder: Path, month: dt.datetime, rows: int, bad: int = 0) -> None:
    lines = ["customer_id,name"]
    lines += [f"{month.month * 1000 + i},name {i}" for i in range(rows)]
    lines += [f"{9000 + i},too,many,fields" for i in range(bad)]
    (folder / f"customers_{month:%Y%m}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _month_interval(month: dt.datetime) -> Interval:
    nxt = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=dt.UTC)
    return Interval(month, nxt)


def test_three_month_backfill_lands_each_month_once_in_its_partition(
    fresh_warehouse_dsn: str, airflow_db: Path, session_dirs, tmp_path: Path
) -> None:
    """Each backfilled month gets its partition and one batch there; re-running a month replaces it."""
    data = tmp_path / "data"
    data.mkdir()
    for i, month in enumerate(MONTHS):
        _write_month(data, month, rows=5 + i, bad=1 if i == 1 else 0)
    source = tmp_path / "h5src.yaml"
    source.write_text(SOURCE_YAML.format(location=data), encoding="utf-8")
    dag = write_and_load_dag(
        session_dirs.test_dags,
        "h5_backfill",
        DAG_SOURCE.format(dag_id="h5_backfill", source_path=source),
    )

    runs = {}
    for month in MONTHS:
        interval = _month_interval(month)
        run = dag.test(logical_date=interval.end)
        assert run.state == "success", f"run for {month:%Y-%m} ended {run.state}"
        runs[month] = run

    with psycopg.connect(fresh_warehouse_dsn) as conn:
        placement = conn.execute(
            "SELECT b.batch_id, b.interval_start, b.rows_read, b.rows_landed, b.rows_quarantined, "
            "       array_agg(DISTINCT r.tableoid::regclass::text), count(r.*) "
            "  FROM pipeline.batches AS b JOIN explore.raw_data AS r USING (batch_id) "
            " GROUP BY 1, 2, 3, 4, 5 ORDER BY b.interval_start"
        ).fetchall()
        quarantined = conn.execute("SELECT reason, line_number FROM explore.quarantine").fetchall()
        registered = conn.execute("SELECT source_name, connector_type FROM explore.source_systems").fetchall()
    assert [p[1] for p in placement] == MONTHS
    for i, (bid, start, read, landed, rejected, partitions, count) in enumerate(placement):
        assert bid == batch_id("h5src", "customers", _month_interval(start))
        assert partitions == [f"explore.raw_data_p{start:%Y%m}"]
        assert landed == count == 5 + i
        assert read == landed + rejected
    assert quarantined == [("row has 4 fields, header has 2", 8)]
    assert registered == [("h5src", "files")]

    _write_month(data, MONTHS[1], rows=3)
    rerun = dag.test(logical_date=_month_interval(MONTHS[1]).end)
    assert rerun.state == "success"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        counts = conn.execute(
            "SELECT interval_start, count(*) FROM explore.raw_data GROUP BY 1 ORDER BY 1"
        ).fetchall()
        batches = conn.execute("SELECT count(*), sum(rows_quarantined) FROM pipeline.batches").fetchone()
    assert counts == [(MONTHS[0], 5), (MONTHS[1], 3), (MONTHS[2], 7)]
    assert batches == (3, 0)


def test_operator_lands_through_the_real_files_connector(fresh_warehouse_dsn: str, tmp_path: Path) -> None:
    """With the production files connector, the operator's summary matches what landed and what it rejected."""
    import types

    from atlas.operators.source_to_explore import SourceToExploreOperator

    _write_month(tmp_path, MONTHS[0], rows=4, bad=2)
    source = tmp_path / "h5src.yaml"
    source.write_text(SOURCE_YAML.format(location=tmp_path), encoding="utf-8")
    interval = _month_interval(MONTHS[0])
    from atlas.hooks.warehouse import WarehouseHook

    WarehouseHook().ensure_partitions("explore.raw_data", "month", interval.start, interval.start)
    op = SourceToExploreOperator(task_id="land", source_path=str(source), entity="customers")
    context = {
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
        "ti": types.SimpleNamespace(dag_id="atlas_h5src"),
        "run_id": "manual__h5",
    }
    summary = op.execute(context)
    assert summary["batch_id"] == str(batch_id("h5src", "customers", interval))
    assert (summary["rows_read"], summary["rows_landed"], summary["rows_quarantined"]) == (6, 4, 2)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        landed = conn.execute("SELECT count(*) FROM explore.raw_data").fetchone()[0]
        rejected = conn.execute("SELECT count(*) FROM explore.quarantine WHERE reason <> ''").fetchone()[0]
        run = conn.execute("SELECT dag_id, run_id FROM pipeline.batches").fetchone()
    assert (landed, rejected) == (4, 2)
    assert run == ("atlas_h5src", "manual__h5")
