"""Source DAGs (Airflow): one generated DAG per ``include/sources/*.yaml`` (see ``atlas.factory``).

A broken YAML yields a paused ``config-error`` placeholder DAG for that file only;
``ATLAS_STRICT_SOURCES=1`` turns it into an import error of this file instead (CI).
"""

from __future__ import annotations

from atlas.factory import load_dags

load_dags(globals())
