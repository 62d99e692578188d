"""The DAG builder: tags, docs, task graph in reference order, and real data intervals."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
import pytest
import yaml
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.timetables.base import TimeRestriction

from atlas.config import load_source
from atlas.constants import INCLUDE_DIR
from atlas.factory import build_dag, navigate_asset
from atlas.factory.builder import timetable_for
from atlas.stages.promote import promotion_order

SOURCES = INCLUDE_DIR / "sources"

TINY: dict[str, Any] = {
    "name": "tiny",
    "owner": "tiny-team",
    "schedule": "@daily",
    "start_date": "2026-01-01",
    "tags": ["demo", "atlas"],
    "connector": {"type": "files", "format": "csv", "location": "include/sample_data/tiny"},
    "entities": [
        {
            "name": name,
            "path": f"{name}/*.csv",
            "key": [f"{name}_id"],
            "references": [{"columns": [f"{ref}_id"], "entity": ref} for ref in refs],
            "columns": [{"name": f"{name}_id", "type": "bigint"}]
            + [{"name": f"{ref}_id", "type": "bigint"} for ref in refs if ref != name],
        }
        for name, refs in [("c", ["b"]), ("b", ["a"]), ("a", ["a"])]  # YAML order is the reverse
    ],
}


def _tiny(tmp_path: Path, **changes: Any) -> tuple[Any, Path]:
    doc = copy.deepcopy(TINY) | changes
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return load_source(path), path


def _upstream_closure(dag: Any, task_id: str) -> set[str]:
    seen: set[str] = set()
    todo = [task_id]
    while todo:
        for up in dag.get_task(todo.pop()).upstream_task_ids:
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return seen


def test_tags_owner_and_retries() -> None:
    """A generated DAG carries the Atlas tags, the YAML's tags, its owner and the retry policy."""
    path = SOURCES / "crm.yaml"
    config = load_source(path)
    dag = build_dag(config, path)
    assert dag.dag_id == "atlas_crm"
    assert set(dag.tags) == {
        "atlas",
        "source:crm",
        "layer:explore",
        "layer:chart",
        "layer:navigate",
        "customers",
    }
    for task in dag.tasks:
        assert task.owner == config.owner != "airflow"
        assert task.retries == 2
        assert dt.timedelta(minutes=1) <= task.retry_delay <= dt.timedelta(minutes=5)
        assert task.retry_exponential_backoff > 1
        assert task.execution_timeout is not None
    assert dag.max_active_runs == 1
    assert dag.start_date == dt.datetime.combine(config.start_date, dt.time(), tzinfo=dt.UTC)
    assert dag.catchup is config.catchup


def test_yaml_tags_are_not_duplicated(tmp_path: Path) -> None:
    """A YAML tag that repeats an Atlas tag appears once."""
    config, path = _tiny(tmp_path)
    tags = list(build_dag(config, path).tags)
    assert sorted(tags) == sorted(set(tags))
    assert "demo" in tags


def test_doc_md_summarises_and_embeds_yaml() -> None:
    """doc_md names the connector, the steps the DAG runs, entities, keys and references, and embeds the YAML."""
    path = SOURCES / "shop.yaml"
    doc = build_dag(load_source(path), path).doc_md
    assert "postgres: connection `shop_source`" in doc
    for entity in ("### products", "### orders", "### order_lines"):
        assert entity in doc
    assert "key `order_id, line_number`" in doc
    assert "references `products` via `product_id`" in doc
    steps = doc.split("## What each run does", 1)[1].split("## Entities", 1)[0]
    tasks = (
        "`ensure_partitions`",
        "`land_<entity>`",
        "`scan_pii_<entity>`",
        "`promote_<entity>`",
        "`quality_gate`",
        "`navigate`",
        "`publish`",
    )
    for task in tasks:
        assert task in steps
    assert "products → orders → order_lines" in steps
    assert "atlas://warehouse/navigate/shop" in steps
    for unbuilt in ("archive", "retention"):  # not in this Atlas yet
        assert unbuilt not in doc.split("## Source YAML", 1)[0].lower()
    assert f"```yaml\n{path.read_text(encoding='utf-8').rstrip()}\n```" in doc


def test_shop_graph_lands_then_promotes_in_reference_order() -> None:
    """ensure_partitions precedes every land; every land, then every PII scan, precedes every
    promote; refs go first."""
    path = SOURCES / "shop.yaml"
    dag = build_dag(load_source(path), path)
    entities = ["products", "orders", "order_lines"]
    assert {f"land_{e}" for e in entities} | {f"promote_{e}" for e in entities} <= set(dag.task_ids)
    for entity in entities:
        assert "ensure_partitions" in dag.get_task(f"land_{entity}").upstream_task_ids
        promote_upstream = dag.get_task(f"promote_{entity}").upstream_task_ids
        assert {f"scan_pii_{e}" for e in entities} <= promote_upstream
        assert {f"land_{e}" for e in entities} <= dag.get_task(f"scan_pii_{entity}").upstream_task_ids
    lines_upstream = dag.get_task("promote_order_lines").upstream_task_ids
    assert {"promote_orders", "promote_products"} <= lines_upstream
    assert "promote_order_lines" not in _upstream_closure(dag, "promote_orders")


def test_publish_is_last_and_emits_the_navigate_asset() -> None:
    """publish runs after every other task and has the source's navigate Asset as outlet."""
    path = SOURCES / "shop.yaml"
    dag = build_dag(load_source(path), path)
    publish = dag.get_task("publish")
    assert publish.outlets == [navigate_asset("shop")]
    assert navigate_asset("shop").uri == "atlas://warehouse/navigate/shop"
    assert _upstream_closure(dag, "publish") == set(dag.task_ids) - {"publish"}
    assert not publish.downstream_task_ids


def test_promotion_order_follows_references(tmp_path: Path) -> None:
    """A referenced entity is promoted before its referrers even when the YAML lists it last."""
    config, path = _tiny(tmp_path)
    assert promotion_order(config) == ["a", "b", "c"]
    dag = build_dag(config, path)
    assert "promote_a" in dag.get_task("promote_b").upstream_task_ids
    assert "promote_b" in dag.get_task("promote_c").upstream_task_ids
    assert "promote_a" not in dag.get_task("promote_a").upstream_task_ids  # self-reference ignored


def test_task_arguments_point_at_the_source_file(tmp_path: Path) -> None:
    """land and promote tasks get the YAML path and their entity; partitions cover explore.raw_data."""
    config, path = _tiny(tmp_path)
    dag = build_dag(config, path)
    land = dag.get_task("land_b")
    promote = dag.get_task("promote_b")
    assert (land.source_path, land.entity) == (str(path), "b")
    assert (promote.source_path, promote.entity) == (str(path), "b")
    assert ("explore.raw_data", "month") in dag.get_task("ensure_partitions").tables


@pytest.mark.parametrize(
    ("schedule", "length"),
    [
        pytest.param("@daily", dt.timedelta(days=1), id="daily"),
        pytest.param("@hourly", dt.timedelta(hours=1), id="hourly"),
        pytest.param("@weekly", dt.timedelta(days=7), id="weekly"),
        pytest.param("30 2 * * *", dt.timedelta(days=1), id="cron"),
    ],
)
def test_schedule_has_real_data_intervals(tmp_path: Path, schedule: str, length: dt.timedelta) -> None:
    """Cron strings and presets produce data intervals with start < end, not trigger points."""
    config, path = _tiny(tmp_path, schedule=schedule)
    timetable = coerce_to_core_timetable(build_dag(config, path).timetable)
    start = pendulum.datetime(2026, 1, 1, tz="UTC")  # the scheduler passes pendulum datetimes
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=start, latest=None, catchup=True),
    )
    assert info is not None
    assert info.data_interval.end - info.data_interval.start == length
    manual = timetable.infer_manual_data_interval(run_after=pendulum.datetime(2026, 3, 4, 12, tz="UTC"))
    assert manual.end - manual.start == length


def test_null_schedule_runs_only_when_triggered(tmp_path: Path) -> None:
    """schedule: null yields a DAG without automatic runs."""
    config, path = _tiny(tmp_path, schedule=None)
    dag = build_dag(config, path)
    assert timetable_for(None) is None
    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=pendulum.datetime(2026, 1, 1, tz="UTC"), latest=None, catchup=True)
    assert timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction) is None


@pytest.mark.parametrize("schedule", ["@daily", None])
def test_trigger_on_assets_adds_the_assets_to_the_schedule(tmp_path: Path, schedule: str | None) -> None:
    """With ``trigger_on_assets`` the DAG also runs on events of those assets (and keeps its cron)."""
    from airflow.timetables.assets import AssetOrTimeSchedule
    from airflow.timetables.simple import AssetTriggeredTimetable

    uris = ["helpdesk://exports/a", "s3://bucket/b"]
    config, path = _tiny(tmp_path, schedule=schedule, trigger_on_assets=uris)
    timetable = coerce_to_core_timetable(build_dag(config, path).timetable)
    assert isinstance(timetable, AssetTriggeredTimetable)
    assert isinstance(timetable, AssetOrTimeSchedule) == (schedule is not None)
    assert "helpdesk://exports/a" in str(timetable.asset_condition)
    assert "s3://bucket/b" in str(timetable.asset_condition)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(["airflow://x"], "asset URI", id="reserved-scheme"),
        pytest.param(["postgres://h/db"], "asset URI", id="bad-postgres-uri"),
        pytest.param(["a://x", "a://x"], "twice", id="duplicate"),
    ],
)
def test_trigger_on_assets_refuses_what_airflow_refuses(
    tmp_path: Path, value: list[str], message: str
) -> None:
    from atlas.exceptions import SourceConfigError

    with pytest.raises(SourceConfigError, match="trigger_on_assets") as error:
        _tiny(tmp_path, trigger_on_assets=value)
    assert message in str(error.value)
