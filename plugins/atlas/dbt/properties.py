"""The generated dbt property files: the chart sources, and the tests the YAML's rules become.

The current state of an entity is tested with ``not_null`` (required and key columns),
``unique`` (the key; a row of its columns when it has several; not tested when a key column is
masked, as masks collide and chart's primary key already guarantees it) and ``accepted_values``
(``allowed_values`` as SQL literals; masked the same way on a masked column). An SCD2 snapshot is
tested for consistent versions (``scd2_versions``), a unique version key and one current version
per key. Sources carry no freshness: the YAML's ``quality`` section is not read yet.

Every column of a current state and of a snapshot is listed with its description and meta
(classification, PII hint, how it is masked), and the node's meta names its source, entity and
owner: the ``register_columns`` post-hook writes them to the data dictionary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from atlas.config import Column, Entity, SourceConfig
from atlas.dbt.rules import (
    CHART_SOURCE,
    LINEAGE_COLUMNS,
    change_time,
    column_meta,
    detection_masked,
    dimension_name,
    is_masked,
    jinja_text,
    mask_entity,
    names,
    quoted,
    snapshot_columns,
    sql_literal,
    surrogate_key,
)
from atlas.sql.chart import payload_text


def sources_properties(config: SourceConfig) -> dict[str, Any]:
    """The chart tables of the source as dbt sources: columns with type, PII hint and classification."""
    tables = []
    for entity in config.entities:
        n = names(config, entity)
        tables.append(
            {
                "name": n.table,
                "description": jinja_text(f"{_about(config, entity)} Validated rows (chart)."),
                "config": {"tags": [n.tag]},
                "columns": [
                    {"name": c.name, "data_type": c.type.pg_type, **_column_docs(config, entity, c)}
                    for c in entity.columns
                ],
            }
        )
    return {"version": 2, "sources": [{"name": CHART_SOURCE, "schema": CHART_SOURCE, "tables": tables}]}


def models_properties(config: SourceConfig) -> dict[str, Any]:
    """Docs of the staging models and current states; the current states carry the tests of the YAML rules."""
    models = []
    for entity in config.entities:
        n = names(config, entity)
        about = _about(config, entity)
        models.append(
            {
                "name": n.staging,
                "description": jinja_text(
                    f"{about} Staging (ephemeral): chart columns, personal ones masked."
                ),
                "config": {"meta": _node_meta(config, entity)},
                "columns": [{"name": c.name, **_column_docs(config, entity, c)} for c in entity.columns]
                + _lineage_columns(),
            }
        )
        current: dict[str, Any] = {
            "name": n.table,
            "description": jinja_text(f"{about} Current state, personal columns masked."),
            "config": {"meta": _node_meta(config, entity)},
        }
        if len(entity.key) > 1 and not _key_masked(entity):
            current["data_tests"] = [_unique_test(_row_text(entity.key))]
        current["columns"] = [_current_column(config, entity, c) for c in entity.columns] + _lineage_columns()
        models.append(current)
    return {"version": 2, "models": models}


def snapshots_properties(config: SourceConfig, entities: Iterable[Entity]) -> dict[str, Any]:
    """Tests of the SCD2 snapshots: consistent versions, a unique version key, one current row per key."""
    snapshots = []
    for entity in entities:
        dimension = dimension_name(config, entity)
        current = {"where": "valid_to is null"}
        columns: list[dict[str, Any]] = [
            {"name": surrogate_key(dimension), "data_tests": ["unique", "not_null"]}
        ]
        tests: list[Any] = ["scd2_versions"]
        if len(entity.key) == 1:
            columns.append(
                {
                    "name": entity.key[0],
                    "quote": True,
                    "data_tests": ["not_null", {"unique": {"config": current}}],
                }
            )
        else:
            columns += [{"name": k, "quote": True, "data_tests": ["not_null"]} for k in entity.key]
            tests.append(_unique_test(_row_text(entity.key), current))
        columns += [
            {"name": "change_hash", "data_tests": ["not_null"]},
            {"name": "valid_from", "data_tests": ["not_null"]},
        ]
        about = _about(config, entity)
        snapshots.append(
            {
                "name": dimension,
                "description": jinja_text(f"{about} SCD Type 2 history, personal columns masked."),
                "config": {"meta": _node_meta(config, entity)},
                "data_tests": tests,
                "columns": _documented(columns, _snapshot_docs(config, entity)),
            }
        )
    return {"version": 2, "snapshots": snapshots}


def _current_column(config: SourceConfig, entity: Entity, column: Column) -> dict[str, Any]:
    """A current-state column with its tests: not_null (required or key), unique (one-column key), accepted_values.

    A masked column is compared with the masked allowed values; a masked key is not tested for
    uniqueness (masks collide; chart's primary key already guarantees it).
    """
    tests: list[Any] = []
    if column.required or column.name in entity.key:
        tests.append("not_null")
    if entity.key == [column.name] and not is_masked(column):
        tests.append("unique")
    if column.allowed_values:
        masked_as = f"{sql_literal(mask_entity(column))}, {sql_literal(str(column.classification))}"
        values = [
            f"compliance.mask({sql_literal(v)}, {masked_as})" if is_masked(column) else sql_literal(v)
            for v in column.allowed_values
        ]
        tests.append(
            {"accepted_values": {"arguments": {"values": [jinja_text(v) for v in values], "quote": False}}}
        )
    entry: dict[str, Any] = {"name": column.name, **_column_docs(config, entity, column)}
    if tests:
        entry["data_tests"] = tests
    return entry


def _column_docs(config: SourceConfig, entity: Entity, column: Column) -> dict[str, Any]:
    """Description (when given), quoting, and the column's classification, PII hint and masking as meta."""
    docs: dict[str, Any] = {"description": jinja_text(column.description)} if column.description else {}
    meta = column_meta(column, detected_in=detection_masked(config, entity, column))
    return {**docs, "quote": True, "config": {"meta": meta}}


def _system_column(name: str, description: str) -> dict[str, Any]:
    """A column Atlas adds (lineage, SCD2): internal, never masked."""
    meta = {"classification": "internal", "masked": False}
    return {"name": name, "description": description, "quote": True, "config": {"meta": meta}}


def _lineage_columns() -> list[dict[str, Any]]:
    return [_system_column(name, text) for name, text in LINEAGE_COLUMNS.items()]


def _snapshot_docs(config: SourceConfig, entity: Entity) -> list[dict[str, Any]]:
    """Every column of the snapshot, documented: the YAML's (``updated_at`` renamed), lineage, SCD2."""
    docs = []
    for column in entity.columns:
        if column.name == change_time(entity):
            continue
        entry = _column_docs(config, entity, column)
        # what re-masking the history reads (macros/masking_policy.sql): the raw value and its type
        entry["config"]["meta"].update(raw_text=payload_text(entity, column), data_type=column.type.pg_type)
        docs.append({"name": column.name, **entry})
    docs += [_system_column(name, LINEAGE_COLUMNS[name]) for name in ("_raw_id", "_batch_id")]
    docs += [_system_column(name, text) for name, text in snapshot_columns(config, entity).items()]
    return docs


def _documented(tested: list[dict[str, Any]], docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``docs`` with the tests of ``tested`` merged in by name (tested columns first, as listed)."""
    by_name = {d["name"]: d for d in docs}
    merged = [{**by_name.pop(t["name"], {}), **t} for t in tested]
    return merged + list(by_name.values())


def _node_meta(config: SourceConfig, entity: Entity) -> dict[str, str]:
    """What the data dictionary says about a generated node: its source, entity and owner."""
    return {"source_name": config.name, "entity_name": entity.name, "owner": config.owner}


def _about(config: SourceConfig, entity: Entity) -> str:
    text = (entity.description or f"Entity {entity.name} of source {config.name}").strip()
    return text if text.endswith(".") else f"{text}."


def _key_masked(entity: Entity) -> bool:
    return any(is_masked(c) for c in entity.columns if c.name in entity.key)


def _row_text(columns: Iterable[str]) -> str:
    """One text value per combination of ``columns`` (a row's text form never merges two values)."""
    return "row(" + ", ".join(map(quoted, columns)) + ")::text"


def _unique_test(expression: str, config: dict[str, str] | None = None) -> dict[str, Any]:
    test: dict[str, Any] = {"arguments": {"column_name": expression}}
    if config:
        test["config"] = config
    return {"unique": test}
