"""Check source YAML files the way Airflow will load them, without a database.

Each file is validated (:func:`atlas.config.load_source`: problems name the file, the key path and
the value), its name checked against the files before it (every source needs its own name, as
:func:`atlas.factory.load_dags` requires), and its DAG built (:func:`atlas.factory.build_dag`,
which reads only files: the YAML and the dbt manifest), so a build-time problem such as a missing
manifest shows here rather than as a placeholder DAG in the UI. One bad file never stops the
others from being checked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from atlas.config import SourceConfig, load_source
from atlas.exceptions import AtlasError, SourceConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceCheck:
    """The outcome of checking one source file: its DAG, or the problem that stops it."""

    path: Path
    config: SourceConfig | None = None
    dag_id: str | None = None
    task_count: int = 0
    problem: str | None = None
    """The full text of the problem, naming the file (``None``: the file is good)."""
    build_failed: bool = False
    """The file is valid but building its DAG raised (the problem says why)."""

    @property
    def ok(self) -> bool:
        """Whether the file validated and its DAG was built."""
        return self.problem is None


def check_sources(paths: Sequence[Path]) -> list[SourceCheck]:
    """Check every file of ``paths`` in order; names must be unique across them."""
    owners: dict[str, Path] = {}
    checks = []
    for path in paths:
        check = check_source(path, owners)
        if check.config is not None and check.config.name not in owners:
            owners[check.config.name] = path
        checks.append(check)
    return checks


def check_source(path: Path, owners: dict[str, Path] | None = None) -> SourceCheck:
    """Validate one file, check its name is not one of ``owners`` (name -> file), build its DAG."""
    try:
        config = load_source(path)
    except SourceConfigError as exc:
        return SourceCheck(path, problem=str(exc))
    first = (owners or {}).get(config.name)
    if first is not None:
        duplicate = SourceConfigError(
            str(path),
            [("name", config.name, f"is already the name of {first}; each source needs its own name")],
        )
        return SourceCheck(path, config, problem=str(duplicate))
    try:
        from atlas.factory.builder import build_dag

        dag = build_dag(config, path)
    except AtlasError as exc:
        return SourceCheck(path, config, problem=f"{path}: the DAG cannot be built: {exc}", build_failed=True)
    except Exception as exc:  # a bug or a broken part of Atlas: report it with the file, go on
        log.debug("building %s failed", path, exc_info=True)
        problem = f"{path}: the DAG cannot be built: {type(exc).__name__}: {exc}"
        return SourceCheck(path, config, problem=problem, build_failed=True)
    return SourceCheck(path, config, dag_id=dag.dag_id, task_count=len(dag.tasks))
