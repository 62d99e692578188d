"""Check outcomes: what Soda's scan results file (``soda scan -srf``) and Atlas's SQL checks report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas.exceptions import QualityError

OUTCOMES = ("pass", "warn", "fail", "error")
"""``quality.check_results.outcome``."""
MS_PER_HOUR = 3_600_000


@dataclass(frozen=True)
class CheckResult:
    """One executed check: its outcome and measured value, as ``quality.check_results`` keeps it."""

    name: str
    table: str
    """Chart table without schema (``shop__orders``)."""
    dimension: str
    outcome: str
    metric_value: float | None
    column: str | None = None
    check_type: str = "soda"
    details: Mapping[str, Any] = field(default_factory=dict)


def parse_scan_results(results: Mapping[str, Any]) -> list[CheckResult]:
    """The checks of a Soda scan results document; a check without a dimension attribute is an error."""
    parsed = []
    for check in results.get("checks") or []:
        attributes = {a.get("name"): a.get("value") for a in check.get("resourceAttributes") or []}
        dimension = attributes.get("dimension")
        if not dimension:
            raise QualityError(
                f"Soda check {check.get('name')!r} on {check.get('table')!r} has no attributes.dimension"
            )
        diagnostics = check.get("diagnostics") or {}
        outcome = check.get("outcome") or "error"
        value = diagnostics.get("value")
        if diagnostics.get("measure") == "time" and value is not None:
            value = value / MS_PER_HOUR  # freshness: Soda measures milliseconds, Atlas hours
        metric = float(value) if isinstance(value, int | float) else None
        parsed.append(
            CheckResult(
                name=str(check.get("name")),
                table=str(check.get("table")),
                dimension=str(dimension),
                outcome=outcome if outcome in OUTCOMES else "error",
                metric_value=metric,
                column=check.get("column"),
                check_type=_check_type(check),
                details=_details(check, diagnostics),
            )
        )
    return parsed


def _check_type(check: Mapping[str, Any]) -> str:
    definition = str(check.get("definition") or "")
    # the first check under its ``checks for`` header, however the file indents its list
    first = re.split(r"\n\s*- ", definition, maxsplit=1)[-1].strip().split(":", 1)[0]
    return first.split("(", 1)[0].strip() or "soda"


def _details(check: Mapping[str, Any], diagnostics: Mapping[str, Any]) -> dict[str, Any]:
    keep = {k: v for k, v in diagnostics.items() if k != "blocks" and _small(v)}
    texts = [
        b.get("text") for b in diagnostics.get("blocks") or [] if b.get("type") == "csv" and b.get("text")
    ]
    if texts:
        keep["diagnostics"] = texts[-1]
    return {"engine": "soda", "definition": check.get("definition"), **keep}


def _small(value: Any) -> bool:
    return (
        isinstance(value, str | int | float | bool)
        or value is None
        or (isinstance(value, list | dict) and len(str(value)) < 2000)
    )


def scan_errors(results: Mapping[str, Any]) -> list[str]:
    """The error lines of a scan's log (what made it exit 3)."""
    return [str(entry.get("message")) for entry in results.get("logs") or [] if entry.get("level") == "ERROR"]
