"""The dbt files of one source, rendered from its validated YAML: pure functions, no I/O.

For a source ``<s>`` (paths under the dbt project; :mod:`atlas.dbt.generate` writes them)::

    models/generated/<s>/_<s>__sources.yml      the chart tables (dbt source ``chart``): columns, types, meta
    models/generated/<s>/stg_<s>__<e>.sql        ephemeral staging model of entity <e>: personal columns masked
    models/generated/<s>/<s>__<e>.sql            table navigate.<s>__<e>: the entity's current state
    models/generated/<s>/_<s>__models.yml        docs of both, and the current state's tests from the YAML rules
    snapshots/generated/<s>/<dimension>.sql      with ``history: scd2``: the SCD2 dbt snapshot
    snapshots/generated/<s>/_<s>__snapshots.yml  its tests

Every model and snapshot is tagged ``source_<s>`` (Cosmos selects a source's nodes by it). Only
the staging model reads chart and masks (:mod:`atlas.dbt.rules`): the current state, the
snapshot and the hand-written facts select from it. The current state is a table rebuilt by each
run, not a view: a view would call ``compliance.mask`` at query time with the reader's
privileges, and the analyst role (``atlas_read``) may not use the ``compliance`` schema.

Hooks: the current state and the snapshot register their columns in the data dictionary after
they are built (``register_columns``); the snapshot first takes its advisory lock
(``navigate_lock``, an inside-transaction pre-hook: concurrent runs serialise) and adds
``is_current`` on the run that creates it (``add_is_current``, a no-op afterwards).
"""

from __future__ import annotations

from typing import Any

import yaml

from atlas.config import Classification, Column, Entity, SourceConfig
from atlas.dbt.properties import models_properties, snapshots_properties, sources_properties
from atlas.dbt.rules import (
    CHANGE_HASH,
    CHART_SOURCE,
    LINEAGE_COLUMNS,
    SNAPSHOT_META,
    change_time,
    check_names,
    detection_masked,
    dimension_name,
    has_history,
    hashed_columns,
    is_masked,
    mask_entity,
    names,
    quoted,
    surrogate_key,
)

MODELS_DIR = "models/generated"
SNAPSHOTS_DIR = "snapshots/generated"
GENERATED_DIRS = (MODELS_DIR, SNAPSHOTS_DIR)
"""Folders of the dbt project owned by the generator: everything in them is generated."""
REGISTER_COLUMNS = "{{ register_columns(this) }}"
"""Post-hook of the generated navigate tables: their columns into the data dictionary."""
APPLY_MASKING_POLICY = "{{ apply_masking_policy(this) }}"
"""Pre-hook of the current states: a column whose classification or masking changed since the last
run is audited (the table is rebuilt masked as now); the snapshots also rewrite their history."""


def render_source(config: SourceConfig, origin: str) -> dict[str, str]:
    """Every generated file of the source ``config`` by its path in the project; ``origin`` names its YAML."""
    check_names(config)
    models = f"{MODELS_DIR}/{config.name}"
    files = {f"{models}/_{config.name}__sources.yml": _yaml(origin, sources_properties(config))}
    for entity in config.entities:
        n = names(config, entity)
        files[f"{models}/{n.staging}.sql"] = _sql(origin, staging_sql(config, entity))
        files[f"{models}/{n.table}.sql"] = _sql(origin, current_sql(config, entity))
    files[f"{models}/_{config.name}__models.yml"] = _yaml(origin, models_properties(config))
    dimensions = [e for e in config.entities if has_history(e)]
    for entity in dimensions:
        snapshot = f"{SNAPSHOTS_DIR}/{config.name}/{dimension_name(config, entity)}.sql"
        files[snapshot] = _sql(origin, snapshot_sql(config, entity))
    if dimensions:
        path = f"{SNAPSHOTS_DIR}/{config.name}/_{config.name}__snapshots.yml"
        files[path] = _yaml(origin, snapshots_properties(config, dimensions))
    return files


def staging_sql(config: SourceConfig, entity: Entity) -> str:
    """The ephemeral staging model: chart columns (personal ones masked), lineage, the change hash."""
    n = names(config, entity)
    columns = [_staged(config, entity, c) for c in entity.columns]
    columns += [quoted(c) for c in LINEAGE_COLUMNS]
    if has_history(entity):
        hashed = ", ".join(_jinja_string(quoted(c)) for c in hashed_columns(entity))
        columns.append(f"{{{{ change_hash([{hashed}]) }}}} as {quoted(CHANGE_HASH)}")
    chart = f"{{{{ source({_jinja_string(CHART_SOURCE)}, {_jinja_string(n.table)}) }}}}"
    return _model("ephemeral", n.tag, columns, chart)


def current_sql(config: SourceConfig, entity: Entity) -> str:
    """The current state ``navigate.<s>__<e>``: a table of the staging model without the change hash."""
    n = names(config, entity)
    columns = [quoted(c.name) for c in entity.columns] + [quoted(c) for c in LINEAGE_COLUMNS]
    relation = f"{{{{ ref({_jinja_string(n.staging)}) }}}}"
    return _model(
        "table", n.tag, columns, relation, pre_hook=[APPLY_MASKING_POLICY], post_hook=[REGISTER_COLUMNS]
    )


def snapshot_sql(config: SourceConfig, entity: Entity) -> str:
    """The SCD2 snapshot: check strategy on the change hash, the run's interval of the staging model."""
    n = names(config, entity)
    dimension = dimension_name(config, entity)
    key = [quoted(k) for k in entity.key]
    unique_key = _jinja_value(key[0] if len(key) == 1 else key)
    meta = {**SNAPSHOT_META, "dbt_scd_id": surrogate_key(dimension)}
    meta_lines = "".join(
        f"        {_jinja_string(k)}: {_jinja_string(v)},\n" for k, v in sorted(meta.items())
    )
    columns = [
        f"{quoted(c.name)} as {quoted('source_updated_at')}"
        if c.name == change_time(entity)
        else quoted(c.name)
        for c in entity.columns
    ]
    columns += [f"{quoted(CHANGE_HASH)} as {quoted('change_hash')}", quoted("_raw_id"), quoted("_batch_id")]
    return (
        f"{{% snapshot {dimension} %}}\n"
        "{{ config(\n"
        f"    unique_key={unique_key},\n"
        "    strategy='check',\n"
        "    check_cols=['change_hash'],\n"
        f"    tags={_jinja_value([n.tag])},\n"
        f"    snapshot_meta_column_names={{\n{meta_lines}    }},\n"
        '    pre_hook=["{{ navigate_lock(this) }}", "{{ apply_masking_policy(this, rewrite=true) }}"],\n'
        f'    post_hook=["{{{{ add_is_current(this) }}}}", "{REGISTER_COLUMNS}"],\n'
        ") }}\n\n"
        f"select\n{_select_list(columns)}\n"
        f"from {{{{ ref({_jinja_string(n.staging)}) }}}}\n"
        "where {{ interval_filter('_interval_start') }}\n\n"
        "{% endsnapshot %}\n"
    )


def _staged(config: SourceConfig, entity: Entity, column: Column) -> str:
    """A column of the staging model: masked by its classification, by the scan's detections, or as is."""
    if is_masked(column):
        return _mask(column)
    chart_table = detection_masked(config, entity, column)
    if chart_table:
        arguments = ", ".join(
            _jinja_string(a) for a in (quoted(column.name), chart_table, column.name, column.type.pg_type)
        )
        return f"{{{{ mask_if_detected({arguments}) }}}} as {quoted(column.name)}"
    return quoted(column.name)


def _mask(column: Column) -> str:
    if column.free_text and column.classification is Classification.CONFIDENTIAL:
        # the text the pii stage anonymised (chart.anonymised_text, sql/V024), *** until it has run
        arguments = ", ".join(_jinja_string(a) for a in (quoted(column.name), column.name))
        return f"{{{{ anonymised_free_text({arguments}) }}}} as {quoted(column.name)}"
    arguments = ", ".join(
        _jinja_string(a) for a in (quoted(column.name), mask_entity(column), str(column.classification))
    )
    return f"{{{{ mask_pii({arguments}) }}}} as {quoted(column.name)}"


def _model(
    materialized: str,
    tag: str,
    columns: list[str],
    relation: str,
    pre_hook: list[str] | None = None,
    post_hook: list[str] | None = None,
) -> str:
    """A model selecting ``columns`` from ``relation``, configured with its materialization, tag and hooks."""
    values: dict[str, str | list[str]] = {"materialized": materialized, "tags": [tag]}
    if pre_hook:
        values["pre_hook"] = pre_hook
    if post_hook:
        values["post_hook"] = post_hook
    return f"{_config(**values)}\n\nselect\n{_select_list(columns)}\nfrom {relation}\n"


def _config(**values: str | list[str]) -> str:
    parts = ", ".join(f"{k}={_jinja_value(v)}" for k, v in values.items())
    return f"{{{{ config({parts}) }}}}"


def _jinja_value(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_jinja_string, value)) + "]"
    return _jinja_string(value)


def _jinja_string(value: str) -> str:
    """A Jinja string literal of a validated name or a hook of this module (no quote or backslash)."""
    if "'" in value or "\\" in value:
        raise ValueError(f"not a validated name: {value!r}")
    return f"'{value}'"


def _select_list(columns: list[str]) -> str:
    return ",\n".join(f"    {c}" for c in columns)


def _header(origin: str) -> str:
    return (
        f"Generated by atlas.dbt.generate from {origin}: do not edit.\n"
        "Change the source YAML and run `make setup` (or `python -m atlas.dbt.generate`)."
    )


def _sql(origin: str, body: str) -> str:
    return "{#- " + _header(origin).replace("#}", "# }") + " -#}\n" + body


def _yaml(origin: str, document: dict[str, Any]) -> str:
    comment = "".join(f"# {line}\n" for line in _header(origin).splitlines())
    return comment + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
