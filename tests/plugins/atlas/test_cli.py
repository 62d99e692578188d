"""``python -m atlas.cli validate`` and ``run``: what a newcomer sees for good and broken sources, and a real run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atlas.cli import main
from atlas.constants import SOURCES_DIR
from tests.plugins.atlas.run_sources import (
    DAY,
    EXPECTED_COUNTS,
    SOURCE_YAML,
    printed_batch,
    stored_batch,
    use_source,
    write_source,
)

# -- validate ---------------------------------------------------------------------------------


def test_validate_passes_the_sample_sources_and_names_their_dags(monkeypatch, capsys):
    """Without arguments every file of include/sources is checked; each gets an OK line with its DAG id."""
    monkeypatch.delenv("ATLAS_SOURCES_DIR", raising=False)
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    for name in ("crm", "shop", "support"):
        line = next(line for line in out.splitlines() if f"{name}.yaml" in line)
        assert line.startswith("OK"), out
        assert f"-> DAG atlas_{name}, " in line
    assert re.search(r"crm\.yaml: source crm \(files; entities: customers\) -> DAG atlas_crm, \d+ tasks", out)
    assert "3 source file(s) checked: all valid" in out


def test_validate_reports_file_key_and_value_and_still_checks_the_good_file(tmp_path, capsys):
    """A bad key and a bad value are both named with file, key path and value; the good file still gets OK."""
    good = write_source(tmp_path, "good", tmp_path / "data")
    bad = tmp_path / "bad.yaml"
    text = SOURCE_YAML.format(name="bad", location=tmp_path / "data")
    bad.write_text(text.replace("type: numeric", "type: money") + "colour: blue\n", encoding="utf-8")
    assert main(["validate", str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {bad}: invalid source configuration (2 problem(s))" in out
    assert "entities[0].columns[1].type = 'money'" in out
    assert "colour = 'blue'" in out
    assert re.search(
        rf"^OK    {re.escape(str(good))}: source good \(files; entities: orders\) -> DAG atlas_good",
        out,
        re.M,
    )
    assert "2 source file(s) checked: 1 invalid" in out


def test_validate_refuses_a_name_used_by_two_files(tmp_path, capsys):
    """Two files defining the same source: the second is an error naming the first."""
    first = write_source(tmp_path / "a", "twice", tmp_path / "data")
    second = write_source(tmp_path / "b", "twice", tmp_path / "data")
    assert main(["validate", str(first), str(second)]) == 1
    out = capsys.readouterr().out
    assert f"OK    {first}" in out
    assert f"FAIL  {second}" in out
    assert f"name = 'twice': is already the name of {first}" in out


def test_validate_reports_the_dag_build_problem_of_a_valid_file(tmp_path, monkeypatch, capsys):
    """A valid file whose DAG cannot be built (no dbt manifest) fails with the file and what to do."""
    monkeypatch.setenv("ATLAS_DBT_PROJECT_DIR", str(tmp_path / "no_dbt_project"))
    path = write_source(tmp_path, "lonely", tmp_path / "data")
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {path}: the DAG cannot be built: dbt manifest not found" in out
    assert "make setup" in out
    assert "what building the DAGs logged: " in out


def test_validate_of_a_missing_file_is_a_usage_error(tmp_path, capsys):
    """A path that does not exist is exit 2, not a validation result."""
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


# -- run --------------------------------------------------------------------------------------


def test_run_needs_a_date():
    """--date is required and must be YYYY-MM-DD (argparse exit 2)."""
    with pytest.raises(SystemExit) as missing:
        main(["run", "crm"])
    with pytest.raises(SystemExit) as malformed:
        main(["run", "crm", "--date", "31.12.2025"])
    assert missing.value.code == malformed.value.code == 2


def test_run_of_an_unknown_source_lists_the_known_ones(tmp_path, monkeypatch, capsys):
    """A name without a YAML file is exit 2 naming the folder and its sources."""
    use_source(tmp_path, monkeypatch, "known", orders=False)
    assert main(["run", "unknown", "--date", "2026-01-05"]) == 2
    assert f"no source 'unknown' in {tmp_path / 'sources'} (sources there: known)" in capsys.readouterr().err


def test_run_without_the_warehouse_connection_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    """Without atlas_warehouse: exit 2 naming AIRFLOW_CONN_ATLAS_WAREHOUSE and make run."""
    monkeypatch.delenv("AIRFLOW_CONN_ATLAS_WAREHOUSE", raising=False)
    use_source(tmp_path, monkeypatch, "nowhere", orders=False)
    assert main(["run", "nowhere", "--date", "2026-01-05"]) == 2
    err = capsys.readouterr().err
    assert "the Airflow connection 'atlas_warehouse' is not defined" in err
    assert "AIRFLOW_CONN_ATLAS_WAREHOUSE=postgresql://" in err
    assert "make run SOURCE=" in err


@pytest.mark.slow
def test_run_lands_the_day_and_prints_the_batch_counts_the_warehouse_holds(
    fresh_warehouse_dsn, airflow_db, tmp_path, monkeypatch, capsys
):
    """The day D runs the interval [D, D+1): every task succeeds and the printed counts are pipeline.batches'."""
    use_source(tmp_path, monkeypatch, "cli_ok")
    assert main(["run", "cli_ok", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert ": success (" in out
    assert "interval 2026-01-05 00:00 .. 2026-01-06 00:00 UTC" in out
    for task in ("ensure_partitions", "land_orders", "promote_orders", "publish"):
        assert re.search(rf"^\s+success\s+{task}$", out, re.M), out
    stored = stored_batch(fresh_warehouse_dsn, "cli_ok")
    assert stored == [EXPECTED_COUNTS]
    assert printed_batch(out, "orders") == stored[0]
    log_file = Path(re.search(r"task logs in (\S+)", out).group(1))
    assert log_file.name == "atlas_cli_ok_20260105.log"
    assert "land_orders" in log_file.read_text(encoding="utf-8")


@pytest.mark.slow
def test_run_that_fails_exits_1_and_shows_the_failed_task(
    fresh_warehouse_dsn, airflow_db, tmp_path, monkeypatch, capsys
):
    """A source whose folder is missing fails at land_orders (no retry), exit 1, and no batch is recorded."""
    use_source(tmp_path, monkeypatch, "cli_fail", orders=False)
    assert main(["run", "cli_fail", "--date", DAY.isoformat()]) == 1
    out = capsys.readouterr().out
    assert ": failed (" in out
    assert re.search(r"^\s+success\s+ensure_partitions$", out, re.M), out
    assert re.search(r"^\s+failed\s+land_orders$", out, re.M), out
    assert re.search(r"^\s+upstream_failed\s+promote_orders$", out, re.M), out
    assert re.search(r"^\s+orders\s+-\s+-\s+-\s+-\s+-\s+no batch", out, re.M), out
    assert "the run failed: the task logs are in" in out


# -- retention --------------------------------------------------------------------------------


def test_retention_show_lists_each_partitioned_table_and_who_set_it(tmp_path, monkeypatch, capsys):
    """retention show: one line per partitioned table with its period; a source's longer explore wins."""
    monkeypatch.delenv("ATLAS_RETENTION_FILE", raising=False)
    monkeypatch.delenv("ATLAS_SOURCES_DIR", raising=False)
    assert main(["retention", "show"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert re.search(r"monthly\s+13 months\s+project: retention\.explore", lines["explore.raw_data"])
    assert re.search(r"quarterly\s+7 years", lines["compliance.audit_log"])
    assert re.search(r"yearly\s+forever", lines["navigate.fact_orders"])

    folder = tmp_path / "sources"
    folder.mkdir()
    source = SOURCES_DIR / "shop.yaml"
    (folder / "shop.yaml").write_text(
        source.read_text(encoding="utf-8")
        + "retention:\n  explore: 2 years\n  tables: {fact_orders: 10 years}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(folder))
    assert main(["retention", "show"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert re.search(r"2 years\s+source shop: retention\.explore", lines["explore.raw_data"])
    assert re.search(r"10 years\s+source shop: retention\.tables", lines["navigate.fact_orders"])

    (folder / "shop.yaml").write_text(
        source.read_text(encoding="utf-8") + "retention:\n  tables: {fact_tickets: 1 year}\n",
        encoding="utf-8",
    )
    assert main(["retention", "show"]) == 1
    assert (
        "warning: shop: retention.tables.fact_tickets names no partitioned navigate fact of that source"
        in capsys.readouterr().out
    )


def test_retention_show_of_a_broken_project_file_names_it(tmp_path, monkeypatch, capsys):
    """A bad include/retention.yaml is a usage error naming the file and the key."""
    bad = tmp_path / "retention.yaml"
    bad.write_text("retention:\n  explore: soon\n", encoding="utf-8")
    monkeypatch.setenv("ATLAS_RETENTION_FILE", str(bad))
    assert main(["retention", "show"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "retention.explore" in err
