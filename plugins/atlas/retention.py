"""The retention policy of every partitioned table: how long its partitions stay, and who said so.

One rule per table, resolved from the project defaults (:mod:`atlas.config.retention`) and the
sources' ``retention`` sections, most specific first:

1. a source's ``retention.tables.<fact>`` (its own navigate fact), then the project's
   ``tables.<schema.table>``;
2. ``explore.raw_data``: the longest of the project's ``explore`` and every source's ``explore``
   (the table is shared; ``forever`` anywhere keeps it forever);
3. a navigate fact: its source's ``retention.navigate``, else the project's ``navigate``;
4. ``compliance.audit_log``: ``audit_log``; ``quality.check_results``: ``quality``.

A navigate fact belongs to the source whose dbt build writes it (the dbt manifest's
``source_<name>`` tag). A partition is due once its whole range ends at or before
``now - period``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from atlas.config.retention import ProjectRetention, describe
from atlas.config.source import SourceConfig
from atlas.constants import PartitionGrain, Schema
from atlas.partitions import PARTITION_GRAINS, RAW_DATA, add_grains, partition_grain

AUDIT_LOG = f"{Schema.COMPLIANCE}.audit_log"
CHECK_RESULTS = f"{Schema.QUALITY}.check_results"


@dataclass(frozen=True)
class RetentionRule:
    """How long the partitions of one table stay in the warehouse."""

    table: str
    grain: PartitionGrain | None
    months: int | None
    """``None``: forever (never archived)."""
    origin: str
    """Where the period comes from, e.g. ``project retention.explore`` or ``source shop``."""

    @property
    def period(self) -> str:
        return describe(self.months)

    def cutoff(self, now: dt.datetime) -> dt.datetime | None:
        """Partitions whose range ends at or before this instant are due; ``None``: none ever are."""
        if self.months is None:
            return None
        return add_grains(now, PartitionGrain.MONTH, -self.months)


def _longest(periods: Iterable[int | None]) -> int | None:
    values = list(periods)
    return None if None in values else max(v for v in values if v is not None)


def rule_for(
    table: str,
    project: ProjectRetention,
    sources: Iterable[SourceConfig] = (),
    fact_sources: Mapping[str, str] | None = None,
) -> RetentionRule:
    """The rule of ``schema.table`` (``fact_sources``: navigate fact → its source's name)."""
    sources = list(sources)
    grain = partition_grain(table)
    schema, name = table.split(".", 1)
    owner = next((s for s in sources if s.name == (fact_sources or {}).get(table)), None)
    if owner is not None and name in owner.retention.tables and schema == Schema.NAVIGATE:
        return RetentionRule(
            table, grain, owner.retention.tables[name], f"source {owner.name}: retention.tables"
        )
    if table in project.tables:
        return RetentionRule(table, grain, project.tables[table], "project: retention.tables")
    if table == RAW_DATA:
        asking = [s for s in sources if s.retention.is_set("explore")]
        months = _longest([project.explore, *(s.retention.explore for s in asking)])
        longer = [s.name for s in asking if s.retention.explore == months and months != project.explore]
        origin = f"source {', '.join(longer)}: retention.explore" if longer else "project: retention.explore"
        return RetentionRule(table, grain, months, origin)
    if schema == Schema.NAVIGATE:
        if owner is not None and owner.retention.is_set("navigate"):
            return RetentionRule(
                table, grain, owner.retention.navigate, f"source {owner.name}: retention.navigate"
            )
        return RetentionRule(table, grain, project.navigate, "project: retention.navigate")
    if table == AUDIT_LOG:
        return RetentionRule(table, grain, project.audit_log, "project: retention.audit_log")
    if table == CHECK_RESULTS:
        return RetentionRule(table, grain, project.quality, "project: retention.quality")
    return RetentionRule(table, grain, None, "no rule: kept forever")


def policy(
    project: ProjectRetention,
    sources: Iterable[SourceConfig],
    fact_sources: Mapping[str, str],
    tables: Iterable[str] = (),
) -> list[RetentionRule]:
    """The rule of every known partitioned table: the registry's, the navigate facts, ``tables``."""
    sources = list(sources)
    names = sorted({*PARTITION_GRAINS, *fact_sources, *project.tables, *tables})
    return [rule_for(table, project, sources, fact_sources) for table in names]


def unmatched_tables(sources: Iterable[SourceConfig], fact_sources: Mapping[str, str]) -> list[str]:
    """``<source>: retention.tables.<name>`` entries naming no partitioned navigate fact that source builds.

    The YAML is validated without the dbt manifest, so such a typo is only found here; it would
    otherwise keep nothing longer or shorter and say nothing.
    """
    return [
        f"{source.name}: retention.tables.{name}"
        for source in sources
        for name in source.retention.tables
        if fact_sources.get(f"{Schema.NAVIGATE}.{name}") != source.name
    ]


def navigate_fact_sources(manifest: Mapping[str, object]) -> dict[str, str]:
    """``navigate.<fact>`` → source name, for every partitioned model of the dbt manifest."""
    found: dict[str, str] = {}
    nodes = manifest.get("nodes")
    for node in (nodes if isinstance(nodes, dict) else {}).values():
        config = node.get("config") or {}
        if (
            node.get("resource_type") != "model"
            or node.get("schema") != Schema.NAVIGATE
            or not config.get("partition_by")
        ):
            continue
        tags = [t for t in node.get("tags") or () if t.startswith("source_")]
        if tags:
            found[f"{node['schema']}.{node.get('alias') or node['name']}"] = tags[0].removeprefix("source_")
    return found


def load_policy(tables: Iterable[str] = ()) -> list[RetentionRule]:
    """The policy of this project: ``include/retention.yaml``, every source YAML, the dbt manifest."""
    from atlas.config.retention import project_retention

    sources, facts = _sources_and_facts()
    return policy(project_retention(), sources, facts, tables)


def load_unmatched() -> list[str]:
    """:func:`unmatched_tables` of this project's sources and dbt manifest."""
    return unmatched_tables(*_sources_and_facts())


def _sources_and_facts() -> tuple[list[SourceConfig], dict[str, str]]:
    import json

    from atlas.config import load_source, source_files, sources_folder
    from atlas.dbt.project import manifest_path

    sources = [load_source(path) for path in source_files(sources_folder())]
    path = manifest_path()
    facts = navigate_fact_sources(json.loads(path.read_bytes())) if path.is_file() else {}
    return sources, facts
