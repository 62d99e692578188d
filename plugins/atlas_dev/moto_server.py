"""A real S3 HTTP endpoint where no MinIO runs: ``moto_server`` in a child process.

No MinIO binary installs here, so the tests, the demo and the archive benchmark talk to moto
through the Amazon provider's ``S3Hook`` and the ``atlas_s3`` connection, whose extra sets
``endpoint_url`` (:func:`aws_connection`; :func:`s3_connection` sets it for a block). moto runs
as a separate process rather than a thread so that an in-process ``moto.mock_aws`` can never
intercept, or share state with, the endpoint.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from atlas_dev.env import environment_variable

log = logging.getLogger(__name__)

S3_CONN_ENV = "AIRFLOW_CONN_ATLAS_S3"
"""The variable that defines the ``atlas_s3`` connection."""
REGION = "us-east-1"
"""Region of the test buckets (the one region that needs no ``LocationConstraint``)."""
ACCESS_KEY = "atlas-test"
"""Dummy credentials: moto accepts any."""
SECRET_KEY = "atlas-test-secret"  # noqa: S105 - moto accepts any key; nothing to protect
START_TIMEOUT_S = 30.0


@dataclass
class MotoServer:
    """A running ``moto_server`` process."""

    endpoint_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        """Terminate the process (and kill it if it does not exit within 5 s)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _answers(endpoint_url: str) -> bool:
    """Whether the endpoint answers an S3 ``ListBuckets`` (no proxy, 1 s timeout)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(endpoint_url + "/", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_moto_server(log_path: Path, *, host: str = "127.0.0.1", attempts: int = 3) -> MotoServer:
    """Start ``moto_server`` on a free port and wait until it answers."""
    for attempt in range(1, attempts + 1):
        port = free_port(host)
        endpoint_url = f"http://{host}:{port}"
        started = time.perf_counter()
        with log_path.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - this interpreter running moto, fixed arguments
                [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = MotoServer(endpoint_url, process, log_path)
        while time.perf_counter() - started < START_TIMEOUT_S and process.poll() is None:
            if _answers(endpoint_url):
                log.info(
                    "moto_server answers at %s after %.2fs",
                    endpoint_url,
                    time.perf_counter() - started,
                )
                return server
            time.sleep(0.1)
        server.stop()
        log.warning("moto_server attempt %s on port %s failed, see %s", attempt, port, log_path)
    raise RuntimeError(f"moto_server did not start after {attempts} attempts; see {log_path}")


def aws_connection(endpoint_url: str) -> str:
    """``AIRFLOW_CONN_ATLAS_S3`` for an endpoint: an ``aws`` connection in Airflow's JSON form.

    Path-style addressing keeps bucket names out of the host name, which MinIO and moto
    behind a plain host name need.
    """
    return json.dumps(
        {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {
                "endpoint_url": endpoint_url,
                "region_name": REGION,
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        }
    )


@contextmanager
def s3_connection(log_path: Path) -> Iterator[MotoServer]:
    """A ``moto_server`` for the block, with ``AIRFLOW_CONN_ATLAS_S3`` pointing at it (restored after)."""
    server = start_moto_server(log_path)
    try:
        with environment_variable(S3_CONN_ENV, aws_connection(server.endpoint_url)):
            yield server
    finally:
        server.stop()
