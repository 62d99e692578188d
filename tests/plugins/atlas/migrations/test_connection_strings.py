"""Connection strings: libpq DSNs to yoyo URLs, and the warehouse DSN from its Airflow connection."""

from __future__ import annotations

import pytest

from atlas.migrations import warehouse_dsn, yoyo_url


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/atlas",
            "postgresql+psycopg://postgres@127.0.0.1:5432/atlas",
            id="url",
        ),
        pytest.param(
            "postgres://u:p%40ss@db.example:6543/atlas?sslmode=require",
            "postgresql+psycopg://u:p%40ss@db.example:6543/atlas?sslmode=require",
            id="postgres-scheme-and-quoted-password",
        ),
        pytest.param(
            "host=/tmp/pgserver user=pgserver dbname=atlas",
            "postgresql+psycopg://pgserver@/atlas?host=%2Ftmp%2Fpgserver",
            id="unix-socket-keyword-dsn",
        ),
    ],
)
def test_yoyo_url_converts_libpq_dsns(dsn: str, expected: str) -> None:
    """yoyo_url turns a libpq URL or key=value DSN into yoyo's postgresql+psycopg URL."""
    assert yoyo_url(dsn) == expected


@pytest.mark.slow
def test_warehouse_dsn_reads_the_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """warehouse_dsn reads AIRFLOW_CONN_ATLAS_WAREHOUSE, as postgresql:// and with libpq options only."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_WAREHOUSE",
        "postgres://atlas:s%40cret@db.example:5433/warehouse?sslmode=disable&cursor=dictcursor",
    )
    assert warehouse_dsn() == "postgresql://atlas:s%40cret@db.example:5433/warehouse?sslmode=disable"
