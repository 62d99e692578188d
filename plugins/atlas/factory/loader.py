"""Load one DAG per source YAML into a DAG file's globals.

A broken YAML never hides the others: every good file still yields its DAG, and the broken one
yields a paused placeholder DAG ``atlas_<file stem>`` (tagged ``config-error``) whose doc shows the
error and whose only task, ``config_error``, raises it, so the source fails visibly in the UI
with the reason. With ``ATLAS_STRICT_SOURCES=1`` (CI) the first error is raised instead, and the
DagBag records an import error for the loader file.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, get_parsing_context

from atlas.config import SourceConfig, load_source, source_files, sources_folder
from atlas.exceptions import AtlasError, SourceConfigError
from atlas.factory.builder import build_dag
from atlas.operators.config_error import ConfigErrorOperator

log = logging.getLogger(__name__)

STRICT_ENV = "ATLAS_STRICT_SOURCES"
"""``1`` makes :func:`load_dags` raise the first broken source instead of building a placeholder."""
CONFIG_ERROR_TAG = "config-error"
PLACEHOLDER_START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def strict_mode() -> bool:
    """Whether ``ATLAS_STRICT_SOURCES`` asks for errors to be raised (CI)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def load_dags(globals_: dict[str, Any], sources_dir: Path | None = None) -> dict[str, DAG]:
    """Build one DAG per source file of ``sources_dir`` and register them in ``globals_``; only
    the DAG Airflow's parsing context names (a worker about to run one of its tasks), if any."""
    folder = sources_dir or sources_folder()
    strict = strict_mode()
    if not folder.is_dir():
        error = SourceConfigError(str(folder), [("", "<folder>", "the sources folder does not exist")])
        if strict:
            raise error
        log.error("%s", error)
        return {}

    # A worker running a task of one DAG parses this file with that DAG's id in the parsing
    # context: every YAML is still read and checked (cheap), but only that DAG is built (the
    # dbt graph of each is not): with many sources, each task would otherwise build them all.
    wanted = get_parsing_context().dag_id
    dags: dict[str, DAG] = {}
    owners: dict[str, Path] = {}  # source name -> the file that defined it first
    for path in source_files(folder):
        try:
            config = load_source(path)
            _check_unique(config, path, owners)
            if wanted is not None and config.dag_id != wanted:
                owners[config.name] = path
                continue
            dag = build_dag(config, path)
        except Exception as exc:
            if strict:
                raise
            dag = _placeholder(path, exc, taken=dags.keys())
            if wanted is not None and dag.dag_id != wanted:
                continue
            if isinstance(exc, AtlasError):
                log.error("source %s skipped, placeholder DAG %s created:\n%s", path, dag.dag_id, exc)
            else:
                log.exception("source %s could not be built; placeholder DAG %s created", path, dag.dag_id)
        else:
            owners[config.name] = path
        dags[dag.dag_id] = dag
    globals_.update(dags)
    log.debug("loaded %d source DAG(s) from %s", len(dags), folder)
    return dags


def _check_unique(config: SourceConfig, path: Path, owners: dict[str, Path]) -> None:
    first = owners.get(config.name)
    if first is not None:
        raise SourceConfigError(
            str(path),
            [("name", config.name, f"is already the name of {first}; each source needs its own name")],
        )


def placeholder_dag_id(path: Path) -> str:
    """``atlas_<file stem>`` made safe for a DAG id."""
    stem = re.sub(r"[^a-z0-9_]+", "_", path.stem.lower()).strip("_") or "unnamed"
    return f"atlas_{stem}"


def _placeholder(path: Path, error: BaseException, taken: Any) -> DAG:
    """A paused DAG that documents ``error`` and fails with it when run."""
    dag_id = placeholder_dag_id(path)
    if dag_id in taken:  # e.g. crm.yaml and crm.yml: keep the good DAG, name the broken one apart
        dag_id = f"{dag_id}_{path.suffix.lstrip('.')}"
    message = str(error) if isinstance(error, AtlasError) else f"{path}: {type(error).__name__}: {error}"
    doc = "\n".join(
        [
            f"# {dag_id}: configuration error",
            "",
            f"The source file `{path}` could not be turned into a DAG. Fix the file; the DAG "
            "reappears at the next parse. Running this DAG fails with the same error.",
            "",
            "```text",
            message,
            "```",
        ]
    )
    dag = DAG(
        dag_id=dag_id,
        description=f"Configuration error in {path.name}",
        schedule=None,
        start_date=PLACEHOLDER_START,
        catchup=False,
        is_paused_upon_creation=True,
        tags=["atlas", CONFIG_ERROR_TAG],
        doc_md=doc,
        default_args={"owner": "atlas", "retries": 0},
    )
    with dag:
        ConfigErrorOperator(
            task_id="config_error",
            source_file=str(path),
            message=message,
            config_error=isinstance(error, SourceConfigError),
        )
    return dag
