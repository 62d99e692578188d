"""``python -m atlas_dev run`` (``make run``): ``atlas.cli run`` on the given warehouse, else on an embedded one."""

from __future__ import annotations

import os
import re

import pytest

from atlas.constants import SOURCES_DIR
from atlas_dev import demo
from atlas_dev.run import serves_samples
from tests.plugins.atlas.run_sources import (
    DAY,
    EXPECTED_COUNTS,
    printed_batch,
    stored_batch,
    use_source,
)


@pytest.mark.parametrize(
    ("source", "folder", "serves"),
    [
        pytest.param("crm", None, True, id="sample-in-include-sources"),
        pytest.param("support", SOURCES_DIR, True, id="sample-folder-given-explicitly"),
        pytest.param("library", None, False, id="not-a-sample"),
        pytest.param("crm", "elsewhere", False, id="same-name-in-another-folder"),
    ],
)
def test_sample_data_is_served_only_for_the_bundled_sample_sources(
    source, folder, serves, monkeypatch, tmp_path
):
    """The demo's sample data is served for crm, shop and support of include/sources, never for other files."""
    if folder is None:
        monkeypatch.delenv("ATLAS_SOURCES_DIR", raising=False)
    else:
        monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path if folder == "elsewhere" else folder))
    assert serves_samples(source) is serves


def test_run_takes_the_arguments_of_atlas_cli_run():
    """A missing --date is the same usage error as for atlas.cli run."""
    with pytest.raises(SystemExit) as missing:
        demo.main(["run", "crm"])
    assert missing.value.code == 2


@pytest.mark.slow
def test_run_uses_the_given_warehouse(fresh_warehouse_dsn, airflow_db, tmp_path, monkeypatch, capsys):
    """With AIRFLOW_CONN_ATLAS_WAREHOUSE set it runs there, as atlas.cli run, and serves no sample."""
    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / "demo")
    use_source(tmp_path, monkeypatch, "dev_given")
    assert demo.main(["run", "dev_given", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "warehouse: the atlas_warehouse connection" in out
    assert not re.search(r"^sample ", out, re.M), out
    assert printed_batch(out, "orders") == EXPECTED_COUNTS
    assert stored_batch(fresh_warehouse_dsn, "dev_given") == [EXPECTED_COUNTS]
    assert not (tmp_path / "demo" / "pgdata").exists()


@pytest.mark.slow
def test_run_without_a_connection_starts_the_embedded_warehouse(airflow_db, tmp_path, monkeypatch, capsys):
    """Without AIRFLOW_CONN_ATLAS_WAREHOUSE it starts the embedded PostgreSQL, migrates it, runs there, stops it."""
    monkeypatch.delenv("AIRFLOW_CONN_ATLAS_WAREHOUSE", raising=False)
    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / "demo")
    use_source(tmp_path, monkeypatch, "dev_embedded")
    assert demo.main(["run", "dev_embedded", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"warehouse: embedded PostgreSQL in {tmp_path / 'demo' / 'pgdata'}" in out
    assert "migrations: " in out
    assert printed_batch(out, "orders") == EXPECTED_COUNTS
    assert "AIRFLOW_CONN_ATLAS_WAREHOUSE" not in os.environ, "the stopped server's connection was left set"
