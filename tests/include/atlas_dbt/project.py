"""Test helpers: a private copy of the dbt project with the models of a given sources folder.

Tests never depend on what ``make setup`` last generated in ``include/atlas_dbt``: each copies
the hand-written project (without ``target/``, ``logs/`` and the generated folders), generates
the models of its own sources folder into the copy and parses it there, as ``make setup`` does.
Point ``$ATLAS_DBT_PROJECT_DIR`` at the copy to render and run DAGs from it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from atlas.constants import DBT_PROJECT_DIR
from atlas.dbt.generate import generate
from atlas.dbt.manifest import split_manifest
from atlas.dbt.project import dbt_executable
from atlas.dbt.render import GENERATED_DIRS

_NOT_COPIED = ("target", "logs", "dbt_packages")


def copy_project(dest: Path, sources_dir: Path | None = None) -> Path:
    """``dest``: the hand-written dbt project plus the files generated for ``sources_dir``."""
    generated = {Path(d).parts[0]: Path(d).parts[1] for d in GENERATED_DIRS}

    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        skipped = [n for n in names if here == DBT_PROJECT_DIR and n in _NOT_COPIED]
        skipped += [n for n in names if generated.get(here.name) == n and here.parent == DBT_PROJECT_DIR]
        return skipped

    shutil.copytree(DBT_PROJECT_DIR, dest, ignore=ignore)
    generate(sources_dir, dest)
    return dest


def parse_project(project: Path) -> Path:
    """``dbt parse`` the project (no database needed) and split the manifest; the manifest's path."""
    result = subprocess.run(
        [str(dbt_executable()), "parse", "--profiles-dir", ".", "--target-path", "target"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed in {project}:\n{result.stdout[-4000:]}")
    manifest = project / "target" / "manifest.json"
    split_manifest(manifest)
    return manifest


def generated_project(dest: Path, sources_dir: Path | None = None) -> Path:
    """A parsed and split copy of the project for ``sources_dir``; its manifest's path."""
    return parse_project(copy_project(dest, sources_dir))
