"""Generate the per-source dbt files of ``navigate`` from the source YAML files.

The source YAML is the single source of truth downstream: its columns, rules, PII hints and
``history`` become the dbt sources, the masked staging models, the current-state tables with their
tests and the SCD2 snapshots (:mod:`atlas.dbt.render` says what each file holds). ``make setup``
and the image run it before ``dbt parse``::

    PYTHONPATH=plugins .venv/bin/python -m atlas.dbt.generate [--sources DIR] [--project DIR]

It owns ``<project>/models/generated/`` and ``<project>/snapshots/generated/`` (gitignored):
files whose content changed are rewritten (atomically), unchanged ones keep their mtime (so
``make`` and dbt's partial parse see no change), and any other file there is removed. Output
is deterministic: the same YAML files give the same bytes wherever they live. A source file that
does not validate stops the generation before anything is written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

from atlas.constants import ROOT
from atlas.dbt.manifest import write_if_changed
from atlas.dbt.project import dbt_project_dir
from atlas.dbt.render import GENERATED_DIRS, render_source
from atlas.exceptions import AtlasError, DbtProjectError

log = logging.getLogger(__name__)


@dataclass
class Generated:
    """What one generation did, by path relative to the project."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def render_sources(sources_dir: Path | None = None) -> dict[str, str]:
    """Every generated file of every source YAML in ``sources_dir`` (default: the sources folder)."""
    from atlas.config import load_source, source_files

    files: dict[str, str] = {}
    seen: dict[str, Path] = {}
    for path in source_files(sources_dir):
        config = load_source(path)
        if config.name in seen:
            raise DbtProjectError(f"{path} and {seen[config.name]} both define source {config.name!r}")
        seen[config.name] = path
        files.update(render_source(config, origin=_shown(path)))
    return dict(sorted(files.items()))


def generate(sources_dir: Path | None = None, project_dir: Path | None = None) -> Generated:
    """Write the generated files of ``sources_dir`` into ``project_dir`` (default: the dbt project)."""
    project = project_dir or dbt_project_dir()
    if not (project / "dbt_project.yml").is_file():
        raise DbtProjectError(f"{project} is not a dbt project (no dbt_project.yml)")
    files = render_sources(sources_dir)  # everything validated before the first write
    done = Generated()
    for relative, text in files.items():
        changed = write_if_changed(project / relative, text)
        (done.written if changed else done.unchanged).append(relative)
    for folder in GENERATED_DIRS:
        done.removed += _remove_stale(project, project / folder, set(files))
    log.info(
        "dbt files generated in %s: %s written, %s unchanged, %s removed",
        project,
        len(done.written),
        len(done.unchanged),
        len(done.removed),
    )
    return done


def _shown(path: Path) -> str:
    """The YAML's path as the headers show it: relative to the repository when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


def _remove_stale(project: Path, folder: Path, keep: set[str]) -> list[str]:
    """Remove every file under ``folder`` not in ``keep`` (project-relative), then empty folders."""
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        relative = path.relative_to(project).as_posix()
        if relative not in keep:
            path.unlink()
            removed.append(relative)
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    return removed


def main(argv: list[str] | None = None) -> int:
    """``python -m atlas.dbt.generate [--sources DIR] [--project DIR]``; exit 2 on a bad source."""
    parser = argparse.ArgumentParser(prog="atlas.dbt.generate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sources",
        type=Path,
        default=None,
        help="folder of source YAML files (default: $ATLAS_SOURCES_DIR or include/sources)",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="dbt project (default: $ATLAS_DBT_PROJECT_DIR or include/atlas_dbt)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        done = generate(args.sources, args.project)
    except AtlasError as exc:
        print(f"atlas.dbt.generate: {exc}", file=sys.stderr)
        return 2
    for relative in done.written:
        print(f"written: {relative}")
    for relative in done.removed:
        print(f"removed: {relative}")
    print(f"{len(done.written) + len(done.unchanged)} generated file(s), {len(done.written)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
