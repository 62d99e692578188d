"""The ``pii`` stage in a real run: undeclared personal data alerts, or fails the batch; masking is the default."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import psycopg
import pytest

from atlas.cli import main
from tests.plugins.atlas.run_sources import DAY

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

YAML = """\
name: {name}
owner: data-team
schedule: "@daily"
start_date: 2026-01-01
{policy}
connector:
  type: files
  format: csv
  location: {location}
  select: path
entities:
  - name: signups
    path: "signups/{{start:%Y%m%d}}.csv"
    key: [signup_id]
    columns:
      - {{name: signup_id, type: bigint, required: true}}
      - {{name: contact, type: text}}
      - {{name: plan, type: text}}
"""
ROWS = "signup_id,contact,plan\n" + "".join(
    f"{i},{name}@example.org,{plan}\n"
    for i, (name, plan) in enumerate([("anna.m", "gold"), ("ben.k", "basic"), ("clara.v", "gold")] * 4)
)
"""Twelve signups whose ``contact`` holds e-mail addresses the YAML does not declare."""


def use_signups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, policy: str) -> None:
    (tmp_path / "data" / "signups").mkdir(parents=True)
    (tmp_path / "data" / "signups" / f"{DAY:%Y%m%d}.csv").write_text(ROWS, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    text = YAML.format(name=name, policy=policy, location=tmp_path / "data")
    (tmp_path / "sources" / f"{name}.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path / "sources"))


def detections(dsn: str, source: str) -> list[tuple[str, str, bool]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT column_name, presidio_entity, declared FROM compliance.pii_detections WHERE source_name = %s",
            (source,),
        ).fetchall()


def test_undeclared_personal_data_alerts_and_the_run_goes_on(
    fresh_warehouse_dsn, airflow_db, tmp_path, monkeypatch, capsys, caplog
):
    use_signups(tmp_path, monkeypatch, "pii_alert", "pii: {on_undeclared: alert}")
    caplog.set_level(logging.INFO, logger="atlas")
    assert main(["run", "pii_alert", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+success\s+scan_pii_signups$", out, re.M), out
    assert re.search(r"^\s+success\s+promote_signups$", out, re.M), out
    assert detections(fresh_warehouse_dsn, "pii_alert") == [("contact", "EMAIL_ADDRESS", False)]
    # the alert, through the source's routes (none here: logged as such)
    alerts = [r.getMessage() for r in caplog.records if r.name == "atlas.alerts"]
    assert any(
        "personal data in columns the YAML does not declare: contact (EMAIL_ADDRESS)" in m for m in alerts
    )


def test_undeclared_personal_data_fails_the_batch_under_the_fail_policy(
    fresh_warehouse_dsn, airflow_db, tmp_path, monkeypatch, capsys
):
    use_signups(tmp_path, monkeypatch, "pii_fail", "pii: {on_undeclared: fail, sample_size: 50}")
    assert main(["run", "pii_fail", "--date", DAY.isoformat()]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^\s+failed\s+scan_pii_signups$", out, re.M), out
    assert re.search(r"^\s+upstream_failed\s+promote_signups$", out, re.M), out
    assert detections(fresh_warehouse_dsn, "pii_fail") == [("contact", "EMAIL_ADDRESS", False)]
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'pii_fail__signups'"
        ).fetchone() == (0,)


@pytest.mark.parametrize(
    "policy",
    [pytest.param("", id="default"), pytest.param("pii: {on_undeclared: mask_and_alert}", id="explicit")],
)
def test_mask_and_alert_is_accepted_and_the_default(tmp_path, monkeypatch, capsys, policy):
    """A source without a pii section masks undeclared personal data (tests/dags/test_personal_data_masking.py)."""
    from atlas.config import load_source

    use_signups(tmp_path, monkeypatch, "pii_mask", policy)
    assert main(["validate", str(tmp_path / "sources" / "pii_mask.yaml")]) == 0, capsys.readouterr().out
    assert load_source(tmp_path / "sources" / "pii_mask.yaml").pii.on_undeclared == "mask_and_alert"
