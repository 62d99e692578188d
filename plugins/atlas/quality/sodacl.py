"""SodaCL of a source: its generated checks rendered, and its hand-written files found and checked.

One document per source holds every chart table's checks: a filter ``[interval]`` per table
(``_interval_start`` within the Soda variables ``${interval_start}`` / ``${interval_end}``),
the interval-scoped checks under ``checks for <table> [interval]`` and the schema check under
``checks for <table>``. Each check carries ``attributes: {dimension: …}``, which Soda copies into
its results; hand-written files under ``include/soda/<source>/*.yml`` must set it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from atlas.config.quality import Severity
from atlas.config.source import SourceConfig
from atlas.constants import INCLUDE_DIR, Schema
from atlas.exceptions import QualityError
from atlas.quality.checks import Check, CheckKind, Dimension
from atlas.sql.chart import chart_table_name

SODA_DIR = INCLUDE_DIR / "soda"
"""Hand-written SodaCL: ``include/soda/<source>/*.yml``."""
INTERVAL_FILTER = "interval"
INTERVAL_VARIABLES = ("interval_start", "interval_end")
"""The Soda variables (``-v``) a scan is given: the run's interval, ISO 8601 UTC."""
_IN_INTERVAL = "_interval_start >= '${interval_start}' AND _interval_start < '${interval_end}'"


def render_sodacl(checks: Sequence[Check]) -> str:
    """The SodaCL document of ``checks`` (the Soda ones; SQL checks are skipped)."""
    document: dict[str, Any] = {}
    tables = list(dict.fromkeys(check.table for check in checks if check.engine == "soda"))
    for table in tables:
        scoped = [c for c in checks if c.table == table and c.engine == "soda" and c.scoped]
        whole = [c for c in checks if c.table == table and c.engine == "soda" and not c.scoped]
        if scoped:
            document[f"filter {table} [{INTERVAL_FILTER}]"] = {"where": _IN_INTERVAL}
            document[f"checks for {table} [{INTERVAL_FILTER}]"] = [_check(c) for c in scoped]
        if whole:
            document[f"checks for {table}"] = [_check(c) for c in whole]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100_000)


def _check(check: Check) -> dict[str, Any]:
    metric, body = _metric(check)
    return {metric: {"name": check.name, **body, "attributes": {"dimension": check.dimension.value}}}


def _metric(check: Check) -> tuple[str, dict[str, Any]]:
    level = check.severity.value
    when_any = {level: "when > 0"}
    p = check.params
    match check.kind:
        case CheckKind.ROW_COUNT:
            return "row_count", {level: "when = 0"}
        case CheckKind.MISSING:
            return f"missing_count({check.column})", when_any
        case CheckKind.DUPLICATE:
            return f"duplicate_count({', '.join(p['columns'])})", when_any
        case CheckKind.PATTERN:
            return f"invalid_count({check.column})", {"valid regex": p["pattern"], **when_any}
        case CheckKind.ALLOWED_VALUES:
            return f"invalid_count({check.column})", {"valid values": list(p["values"]), **when_any}
        case CheckKind.RANGE:
            column = _q(check.column)
            parts = [f"{column} {op} {_literal(p[bound])}" for bound, op in (("min", "<"), ("max", ">"))
                     if p[bound] is not None]  # fmt: skip
            return "failed rows", {"fail condition": " OR ".join(parts), **_failed_rows_level(check)}
        case CheckKind.FRESHNESS:
            minutes = max(1, round(p["hours"] * 60))
            return f"freshness({check.column})", {level: f"when > {minutes}m"}
        case CheckKind.SCHEMA:
            return "schema", {
                level: {
                    "when required column missing": list(p["types"]),
                    "when wrong column type": p["types"],
                }
            }
        case CheckKind.REFERENCE:
            return "failed rows", {"fail query": _reference_query(check), **_failed_rows_level(check)}
    raise QualityError(f"check {check.name}: {check.kind} is not a SodaCL check")  # pragma: no cover


def _failed_rows_level(check: Check) -> dict[str, str]:
    """A failed-rows check fails on any row by itself; at ``warn`` it gets a warn threshold instead."""
    return {"warn": "when > 0"} if check.severity is Severity.WARN else {}


def _reference_query(check: Check) -> str:
    p = check.params
    child = f"{Schema.CHART.value}.{_q(check.table)}"
    parent = f"{Schema.CHART.value}.{_q(p['table'])}"
    present = " AND ".join(f"c.{_q(c)} IS NOT NULL" for c in p["columns"])
    match = " AND ".join(f"p.{_q(k)} = c.{_q(c)}" for c, k in zip(p["columns"], p["key"], strict=True))
    return (
        f"SELECT c.* FROM {child} AS c WHERE c.{_IN_INTERVAL} AND {present} "
        f"AND NOT EXISTS (SELECT FROM {parent} AS p WHERE {match})"
    )


def _q(name: str | None) -> str:
    """A column or table name as a quoted SQL identifier (names are validated identifiers)."""
    assert name is not None
    return '"' + name.replace('"', '""') + '"'


def _literal(value: float | str) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


# -- hand-written files -----------------------------------------------------------------------


@dataclass(frozen=True)
class HandWrittenFile:
    """A checked hand-written SodaCL file of a source and the chart tables it checks."""

    path: Path
    tables: tuple[str, ...]
    checks: tuple[str, ...]
    """Names of its checks."""


def hand_written_files(config: SourceConfig, folder: Path | None = None) -> list[HandWrittenFile]:
    """``include/soda/<source>/*.yml``: each must check only the source's chart tables, and each
    of its checks must have a ``name`` and ``attributes: {dimension: <one of the six>}``."""
    root = (folder or SODA_DIR) / config.name
    if not root.is_dir():
        return []
    tables = {chart_table_name(config.name, e.name) for e in config.entities}
    found = []
    for path in sorted(p for p in root.iterdir() if p.suffix in (".yml", ".yaml")):
        found.append(_check_file(path, tables))
    return found


def _check_file(path: Path, tables: set[str]) -> HandWrittenFile:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise QualityError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise QualityError(f"{path}: must hold a mapping of 'checks for <table>' sections")
    seen_tables, names = [], []
    for header, items in document.items():
        words = str(header).split()
        if words[:1] == ["filter"]:
            continue
        if words[:2] != ["checks", "for"] or len(words) < 3:
            raise QualityError(
                f"{path}: key {header!r}: expected 'checks for <table>' or 'filter <table> [<name>]'"
            )
        table = words[2]
        if table not in tables:
            raise QualityError(
                f"{path}: key {header!r}: {table!r} is not a chart table of this source "
                f"(tables: {', '.join(sorted(tables))})"
            )
        seen_tables.append(table)
        for i, item in enumerate(items or []):
            body = next(iter(item.values()), None) if isinstance(item, dict) else None
            where = f"{path}: {header}[{i}]"
            if not isinstance(body, dict) or not body.get("name"):
                raise QualityError(f"{where}: every check needs a 'name' (stored with its results)")
            dimension = (body.get("attributes") or {}).get("dimension")
            if dimension not in {d.value for d in Dimension}:
                raise QualityError(
                    f"{where} ({body['name']}): attributes.dimension is {dimension!r}; "
                    f"set one of {', '.join(d.value for d in Dimension)}"
                )
            names.append(str(body["name"]))
    return HandWrittenFile(path, tuple(dict.fromkeys(seen_tables)), tuple(names))
