"""Writing the generated dbt files: only what changed, stale files removed, nothing on a bad YAML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from atlas.constants import ROOT, SOURCES_DIR
from atlas.dbt.generate import generate, main, render_sources
from atlas.dbt.project import DBT_PROJECT_DIR_ENV
from atlas.exceptions import DbtProjectError, SourceConfigError
from tests.plugins.atlas.dbt.sources import library, write_source


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty dbt project (a dbt_project.yml is all the generator looks for)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "dbt_project.yml").write_text("name: atlas\n")
    return folder


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A sources folder holding library.yaml (members with scd2 history)."""
    folder = tmp_path / "sources"
    write_source(folder, library(history="scd2"))
    return folder


def mtimes(project: Path) -> dict[str, int]:
    return {
        p.relative_to(project).as_posix(): p.stat().st_mtime_ns for p in project.rglob("*") if p.is_file()
    }


def test_generation_writes_every_file_then_only_what_changed(project, sources):
    """A second run rewrites nothing; a changed YAML rewrites only the files it changes."""
    first = generate(sources, project)
    assert len(first.written) == 8
    assert "snapshots/generated/library/library__members_history.sql" in first.written
    before = mtimes(project)
    again = generate(sources, project)
    assert (again.written, again.removed, len(again.unchanged)) == ([], [], 8)
    assert mtimes(project) == before

    document = library(history="scd2")
    document["entities"][1]["columns"][2]["description"] = "When the book is due back."
    write_source(sources, document)
    assert generate(sources, project).written == ["models/generated/library/_library__models.yml",
                                                  "models/generated/library/_library__sources.yml"]  # fmt: skip


def test_stale_and_edited_files_are_replaced(project, sources):
    """Files of a source gone, of history dropped or added by hand are removed; an edited file is restored."""
    generate(sources, project)
    staging = project / "models/generated/library/stg_library__members.sql"
    text = staging.read_text()
    staging.write_text(text + "-- edited\n")
    (project / "models/generated/old/stg_old__x.sql").parent.mkdir(parents=True)
    (project / "models/generated/old/stg_old__x.sql").write_text("select 1")
    write_source(sources, library())  # history dropped

    done = generate(sources, project)
    assert staging.read_text() != text + "-- edited\n"
    assert sorted(done.removed) == [
        "models/generated/old/stg_old__x.sql",
        "snapshots/generated/library/_library__snapshots.yml",
        "snapshots/generated/library/library__members_history.sql",
    ]
    assert not (project / "models/generated/old").exists()
    assert not (project / "snapshots/generated/library").exists()
    assert (project / "dbt_project.yml").read_text() == "name: atlas\n", (
        "the rest of the project is left alone"
    )


def test_a_broken_source_stops_the_generation_before_any_write(project, sources, capsys):
    """One invalid YAML: exit 2 naming the file; the files of the previous run stay as they were."""
    generate(sources, project)
    before = mtimes(project)
    (sources / "broken.yaml").write_text("name: Not-An-Identifier\n")
    assert main(["--sources", str(sources), "--project", str(project)]) == 2
    assert "broken.yaml" in capsys.readouterr().err
    assert mtimes(project) == before
    with pytest.raises(SourceConfigError):
        render_sources(sources)


def test_two_files_of_one_source_are_refused(sources):
    """Two YAML files naming the same source (library.yaml, library.yml) would generate the same models twice."""
    (sources / "library.yml").write_text((sources / "library.yaml").read_text())
    with pytest.raises(DbtProjectError, match="both define source 'library'"):
        render_sources(sources)


def test_the_project_must_be_a_dbt_project(tmp_path, sources):
    """A folder without dbt_project.yml is refused: the generator deletes files in what it owns."""
    with pytest.raises(DbtProjectError, match="not a dbt project"):
        generate(sources, tmp_path)


def test_the_project_defaults_to_the_environment(project, sources, monkeypatch, capsys):
    """Without --project, $ATLAS_DBT_PROJECT_DIR (read at call time) names the project."""
    monkeypatch.setenv(DBT_PROJECT_DIR_ENV, str(project))
    assert main(["--sources", str(sources)]) == 0
    assert "8 generated file(s), 8 changed" in capsys.readouterr().out
    assert (project / "models/generated/library/library__members.sql").is_file()


def test_headers_name_the_yaml_relative_to_the_repository():
    """The sample sources' files name include/sources/<name>.yaml, wherever the repository lives."""
    files = render_sources(SOURCES_DIR)
    assert files["snapshots/generated/crm/dim_customer.sql"].startswith(
        "{#- Generated by atlas.dbt.generate from include/sources/crm.yaml: do not edit."
    )
    assert {path.split("/")[2] for path in files} == {"crm", "shop", "support"}


def test_setup_and_the_image_generate_before_dbt_parse():
    """make setup and the Dockerfile run the generator before ``dbt parse``, so the manifest holds its models."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    runs = [block.split("\n#")[0] for block in dockerfile.split("\nRUN ")[1:]]  # up to the next comment
    (parse,) = [run for run in runs if " parse " in run]
    assert parse.index("-m atlas.dbt.generate") < parse.index(" parse ")
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(GENERATED\): .*\$\(SOURCES_DIR\) \$\(SOURCE_FILES\)", makefile, re.MULTILINE)
    assert re.search(r"^\$\(MANIFEST\): .*\$\(GENERATED\)", makefile, re.MULTILINE)
    assert "-m atlas.dbt.generate --sources $(SOURCES_DIR) --project $(DBT_PROJECT)" in makefile
