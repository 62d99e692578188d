"""Source YAML validation: every rule names the file, the key path and the bad value."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas.config import ColumnType, History, load_source, source_files
from atlas.config.source import PLANNED_SECTIONS
from atlas.constants import INCLUDE_DIR
from atlas.exceptions import SourceConfigError

INJECTION = "orders; drop table x"

BASE: dict[str, Any] = {
    "name": "demo",
    "owner": "demo-team",
    "schedule": "@daily",
    "start_date": "2026-01-01",
    "connector": {"type": "files", "format": "csv", "location": "include/sample_data/demo"},
    "entities": [
        {
            "name": "customers",
            "path": "customers/{start:%Y%m%d}.csv",
            "key": ["customer_id"],
            "columns": [
                {"name": "customer_id", "type": "bigint", "required": True},
                {"name": "email", "type": "text"},
                {"name": "score", "type": "integer"},
            ],
        },
        {
            "name": "orders",
            "path": "orders/{start:%Y%m%d}.csv",
            "key": ["order_id"],
            "references": [{"columns": ["customer_id"], "entity": "customers"}],
            "columns": [
                {"name": "order_id", "type": "bigint"},
                {"name": "customer_id", "type": "bigint"},
            ],
        },
    ],
}


def _postgres(doc: dict[str, Any]) -> dict[str, Any]:
    doc["connector"] = {"type": "postgres", "conn_id": "demo_db"}
    for entity in doc["entities"]:
        entity.pop("path")
        entity["table"] = f"public.{entity['name']}"
        entity["watermark_column"] = entity["columns"][0]["name"]
    return doc


def _set(path: tuple[Any, ...], value: Any, *, postgres: bool = False) -> Callable[[dict], dict]:
    def mutate(doc: dict[str, Any]) -> dict[str, Any]:
        doc = _postgres(doc) if postgres else doc
        target = doc
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return doc

    return mutate


def _drop(path: tuple[Any, ...], *, postgres: bool = False) -> Callable[[dict], dict]:
    def mutate(doc: dict[str, Any]) -> dict[str, Any]:
        doc = _postgres(doc) if postgres else doc
        target = doc
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
        return doc

    return mutate


def _http_without_endpoint(doc: dict[str, Any]) -> dict[str, Any]:
    doc["connector"] = {"type": "http", "conn_id": "demo_api"}
    for entity in doc["entities"]:
        entity.pop("path")
        entity["endpoint"] = f"/api/{entity['name']}"
    del doc["entities"][1]["endpoint"]
    return doc


def _cycle(doc: dict[str, Any]) -> dict[str, Any]:
    doc["entities"][0]["columns"].append({"name": "last_order_id", "type": "bigint"})
    doc["entities"][0]["references"] = [{"columns": ["last_order_id"], "entity": "orders"}]
    return doc


def _write(tmp_path: Path, doc: dict[str, Any], stem: str = "demo") -> Path:
    path = tmp_path / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "key_path", "value"),
    [
        pytest.param(
            _set(("entities", 0, "name"), INJECTION),
            "entities[0].name",
            INJECTION,
            id="entity-name-injection",
        ),
        pytest.param(
            _set(("entities", 0, "columns", 1, "name"), INJECTION),
            "entities[0].columns[1].name",
            INJECTION,
            id="column-name-injection",
        ),
        pytest.param(
            _set(("entities", 0, "key", 0), INJECTION), "entities[0].key[0]", INJECTION, id="key-injection"
        ),
        pytest.param(
            _set(("entities", 1, "table"), INJECTION, postgres=True),
            "entities[1].table",
            INJECTION,
            id="table-injection",
        ),
        pytest.param(_set(("name",), INJECTION), "name", INJECTION, id="source-name-injection"),
        pytest.param(
            _set(("entities", 0, "columns", 1, "type"), "varchar"),
            "entities[0].columns[1].type",
            "varchar",
            id="unknown-column-type",
        ),
        pytest.param(
            lambda d: _set(("entities", 0, "columns", 2, "max"), 1)(
                _set(("entities", 0, "columns", 2, "min"), 10)(d)
            ),
            "entities[0].columns[2].min",
            10,
            id="min-greater-than-max",
        ),
        pytest.param(
            _set(("entities", 0, "columns", 1, "min"), 3),
            "entities[0].columns[1].min",
            3,
            id="min-on-text-column",
        ),
        pytest.param(
            _set(("entities", 0, "key"), ["customer_id", "nope"]),
            "entities[0].key[1]",
            "nope",
            id="key-not-in-columns",
        ),
        pytest.param(
            _set(("entities", 1, "references", 0, "entity"), "ghost"),
            "entities[1].references[0].entity",
            "ghost",
            id="reference-to-unknown-entity",
        ),
        pytest.param(
            _set(("entities", 1, "references", 0, "columns"), ["nope"]),
            "entities[1].references[0].columns[0]",
            "nope",
            id="reference-with-undeclared-column",
        ),
        pytest.param(_cycle, "entities[0].references", None, id="reference-cycle"),
        pytest.param(
            _set(("entities", 1, "name"), "customers"),
            "entities[1].name",
            "customers",
            id="duplicate-entity-name",
        ),
        pytest.param(
            _set(("entities", 0, "columns", 1, "name"), "customer_id"),
            "entities[0].columns[1].name",
            "customer_id",
            id="duplicate-column-name",
        ),
        pytest.param(_drop(("entities", 0, "path")), "entities[0].path", "<missing>", id="files-needs-path"),
        pytest.param(
            _drop(("entities", 1, "watermark_column"), postgres=True),
            "entities[1].watermark_column",
            "<missing>",
            id="postgres-needs-watermark",
        ),
        pytest.param(
            _drop(("connector", "conn_id"), postgres=True),
            "connector.conn_id",
            "<missing>",
            id="postgres-needs-conn-id",
        ),
        pytest.param(_http_without_endpoint, "entities[1].endpoint", "<missing>", id="http-needs-endpoint"),
        pytest.param(_set(("connector", "type"), "ftp"), "connector.type", "ftp", id="unknown-connector"),
        pytest.param(_set(("schedule",), "every day"), "schedule", "every day", id="schedule-not-cron"),
        pytest.param(_set(("schedule",), "61 * * * *"), "schedule", "61 * * * *", id="schedule-bad-minute"),
        pytest.param(_set(("owner",), ""), "owner", "", id="empty-owner"),
        pytest.param(_set(("surprise",), 1), "surprise", 1, id="unknown-key"),
    ],
)
def test_rule_violation_names_file_key_and_value(
    tmp_path: Path, mutate: Callable[[dict], dict], key_path: str, value: Any
) -> None:
    """A rule violation raises SourceConfigError naming the file, the key path and the value."""
    path = _write(tmp_path, mutate(copy.deepcopy(BASE)))
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    message = str(info.value)
    assert str(path) in message
    assert f"  - {key_path} = " in message, message
    if value is not None:
        assert f"{key_path} = {value!r}" in message, message


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    """A YAML syntax error names the file and the line and column of the problem."""
    path = tmp_path / "demo.yaml"
    path.write_text("name: demo\nowner: x\nentities:\n  - name: [unclosed\n    key: a\n", encoding="utf-8")
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    assert str(path) in str(info.value)
    assert "not valid YAML at line 5" in str(info.value)


def test_name_must_equal_file_stem(tmp_path: Path) -> None:
    """A source whose name differs from its file name is refused, naming both."""
    path = _write(tmp_path, copy.deepcopy(BASE), stem="other")
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    assert str(path) in str(info.value)
    assert "name = 'demo': must equal the file name 'other'" in str(info.value)


def test_non_mapping_document_is_refused(tmp_path: Path) -> None:
    """A YAML file that is not a mapping is refused with its type named."""
    path = tmp_path / "demo.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="must hold a mapping"):
        load_source(path)


def test_valid_source_loads_typed(tmp_path: Path) -> None:
    """A valid file loads into typed models with enums and defaults applied."""
    config = load_source(_write(tmp_path, copy.deepcopy(BASE)))
    assert config.dag_id == "atlas_demo"
    assert config.connector.type == "files"
    assert config.entity("customers").column("score").type is ColumnType.INTEGER
    assert config.entity("orders").references[0].entity == "customers"


def test_self_reference_is_allowed(tmp_path: Path) -> None:
    """An entity may reference itself (a hierarchy); only cycles across entities are refused."""
    doc = copy.deepcopy(BASE)
    doc["entities"][0]["columns"].append({"name": "referrer_id", "type": "bigint"})
    doc["entities"][0]["references"] = [{"columns": ["referrer_id"], "entity": "customers"}]
    assert load_source(_write(tmp_path, doc)).entity("customers").references[0].entity == "customers"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in source_files(INCLUDE_DIR / "sources")])
def test_sample_sources_are_valid(path: Path) -> None:
    """Every shipped sample source validates."""
    assert load_source(path).name == path.stem


def test_a_planned_section_is_refused_until_a_stage_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section Atlas plans (PLANNED_SECTIONS; today every section has its stage) is refused,
    with why, until a stage reads it."""
    monkeypatch.setitem(PLANNED_SECTIONS, "lineage", "lineage settings arrive with a lineage stage")
    path = _write(tmp_path, copy.deepcopy(BASE) | {"lineage": {"anything": 1}})
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    assert "  - lineage = {'anything': 1}: is not supported yet" in str(info.value)
    assert "lineage settings arrive with a lineage stage" in str(info.value)


@pytest.mark.parametrize(
    ("mutate", "key_path"),
    [
        pytest.param(
            _set(("entities", 0, "table"), "public.customers"), "entities[0].table", id="table-on-files"
        ),
        pytest.param(
            _set(("entities", 0, "endpoint"), "/api/x"), "entities[0].endpoint", id="endpoint-on-files"
        ),
        pytest.param(
            _set(("entities", 0, "path"), "x.csv", postgres=True), "entities[0].path", id="path-on-postgres"
        ),
        pytest.param(
            _set(("connector", "delimiter"), ";", postgres=True),
            "connector.delimiter",
            id="files-key-on-postgres",
        ),
    ],
)
def test_another_connectors_keys_are_refused(
    tmp_path: Path, mutate: Callable[[dict], dict], key_path: str
) -> None:
    """An entity or connector key of another connector is an error naming it, not silently ignored."""
    path = _write(tmp_path, mutate(copy.deepcopy(BASE)))
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    assert f"  - {key_path} = " in str(info.value)
    assert "Extra inputs are not permitted" in str(info.value)


def test_entities_take_their_connectors_model(tmp_path: Path) -> None:
    """Each entity is validated by its connector's model: a files entity has a path, a postgres one a table."""
    files = load_source(_write(tmp_path, copy.deepcopy(BASE)))
    assert files.entities[0].path == "customers/{start:%Y%m%d}.csv"  # type: ignore[attr-defined]
    postgres = load_source(_write(tmp_path, _postgres(copy.deepcopy(BASE))))
    assert postgres.entities[1].table == "public.orders"  # type: ignore[attr-defined]
    assert not hasattr(postgres.entities[1], "path")


def test_history_and_dimension(tmp_path: Path) -> None:
    """history: scd2 with a dimension name is kept; a dimension without scd2 history is refused."""
    doc = _set(("entities", 0, "history"), "scd2")(copy.deepcopy(BASE))
    doc["entities"][0]["dimension"] = "dim_customer"
    config = load_source(_write(tmp_path, doc))
    assert config.entities[0].history is History.SCD2
    assert config.entities[0].dimension == "dim_customer"
    assert config.entities[1].history is History.NONE
    del doc["entities"][0]["history"]
    with pytest.raises(SourceConfigError) as info:
        load_source(_write(tmp_path, doc))
    assert "  - entities[0].dimension = 'dim_customer': 'dimension' names an SCD2 history" in str(info.value)


def test_every_field_of_every_model_is_documented() -> None:
    """Each field of the source models and of every registered connector's models has its docstring."""
    from atlas.config.source import Column, Entity, Reference, SourceConfig
    from atlas.connectors import CONNECTORS

    models: list[Any] = [SourceConfig, Entity, Column, Reference]
    models += [m for spec in CONNECTORS.all().values() for m in (spec.config_model, spec.entity_model)]
    undocumented = [
        f"{m.__name__}.{n}" for m in models for n, f in m.model_fields.items() if not f.description
    ]
    assert undocumented == []
