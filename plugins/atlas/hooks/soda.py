"""SodaHook: runs ``soda scan`` (soda-core-postgres 3.5.6) from its own venv as a subprocess.

Soda's pins have broken Airflow installs before, so it lives in ``.venv-soda`` and is reached only
through its CLI (``$ATLAS_SODA_EXECUTABLE``, default ``<root>/.venv-soda/bin/soda``). Each scan
runs in a temporary directory that is also the process's ``HOME``: its ``.soda/config.yml`` sets
``send_anonymous_usage_stats: false`` (else every scan stalls ~8 s exporting telemetry offline),
its data source configuration names the warehouse connection's host and database, and the
password goes through the environment (``${ATLAS_SODA_PASSWORD}``), never into a file.
Exit codes: 0 pass, 1 warn, 2 fail, 3 error (raised as :class:`QualityError`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from atlas.constants import ROOT, WAREHOUSE_CONN_ID, Schema
from atlas.exceptions import QualityError
from atlas.quality.results import CheckResult, parse_scan_results, scan_errors

log = logging.getLogger(__name__)

SODA_EXECUTABLE_ENV = "ATLAS_SODA_EXECUTABLE"
DATA_SOURCE = "atlas"
SCAN_TIMEOUT_S = 3600
PASSWORD_ENV = "ATLAS_SODA_PASSWORD"  # noqa: S105 - the variable's name, not a password


def soda_executable() -> Path:
    """The ``soda`` CLI of the Soda venv: ``$ATLAS_SODA_EXECUTABLE`` or ``<root>/.venv-soda/bin/soda``."""
    path = Path(os.environ.get(SODA_EXECUTABLE_ENV) or ROOT / ".venv-soda" / "bin" / "soda")
    if not path.is_file():
        raise QualityError(
            f"no Soda CLI at {path}: run `make setup` (it creates .venv-soda) or set {SODA_EXECUTABLE_ENV}"
        )
    return path


@dataclass(frozen=True)
class ScanReport:
    """One scan: its exit code, its checks' results, and how long the process took."""

    exit_code: int
    results: list[CheckResult]
    seconds: float


class SodaHook:
    """Runs SodaCL files against the warehouse connection's database (schema ``chart`` by default)."""

    def __init__(self, warehouse_conn_id: str = WAREHOUSE_CONN_ID, schema: str = Schema.CHART.value) -> None:
        self.warehouse_conn_id = warehouse_conn_id
        self.schema = schema

    def connection_params(self) -> dict[str, Any]:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.warehouse_conn_id)
        extra = conn.extra_dejson or {}
        return {
            "host": conn.host or extra.get("host") or "localhost",
            "port": conn.port or 5432,
            "username": conn.login or "postgres",
            "password": conn.password or "",
            "database": conn.schema or "postgres",
        }

    def scan(self, sodacl: str, variables: Mapping[str, str], extra_files: Sequence[Path] = ()) -> ScanReport:
        """Scan ``sodacl`` (and ``extra_files``) with ``variables``; raise on a scan error (exit 3)."""
        params = self.connection_params()
        with tempfile.TemporaryDirectory(prefix="atlas-soda-") as tmp:
            work = Path(tmp)
            (work / ".soda").mkdir()
            (work / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: false\n")
            source = {
                "type": "postgres",
                "host": str(params["host"]),
                "port": str(params["port"]),
                "username": params["username"],
                "password": "${" + PASSWORD_ENV + "}",
                "database": params["database"],
                "schema": self.schema,
            }
            config = work / "configuration.yml"
            config.write_text(yaml.safe_dump({f"data_source {DATA_SOURCE}": source}, sort_keys=False))
            checks = work / "checks.yml"
            checks.write_text(sodacl)
            results_file = work / "results.json"
            command = [str(soda_executable()), "scan", "-d", DATA_SOURCE, "-c", str(config)]
            for key, value in variables.items():
                command += ["-v", f"{key}={value}"]
            command += ["-srf", str(results_file), str(checks), *(str(p) for p in extra_files)]
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")},
                "HOME": str(work),
                PASSWORD_ENV: str(params["password"]),
            }
            started = time.perf_counter()
            done = subprocess.run(  # noqa: S603 - our own executable and arguments
                command, cwd=work, env=env, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S
            )
            seconds = time.perf_counter() - started
            if not results_file.is_file():
                raise QualityError(
                    f"soda scan exited {done.returncode} without results: {_tail(done.stdout + done.stderr)}"
                )
            document = json.loads(results_file.read_text())
        log.info("soda scan: exit %s in %.2fs", done.returncode, seconds)
        if done.returncode == 3 or document.get("hasErrors"):
            errors = scan_errors(document) or [_tail(done.stdout + done.stderr)]
            raise QualityError("soda scan failed with errors: " + "; ".join(errors))
        return ScanReport(done.returncode, parse_scan_results(document), seconds)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
