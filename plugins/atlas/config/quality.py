"""The ``quality`` section of a source YAML: freshness and per-check severity overrides.

Read by the quality stages (``atlas.stages.quality_gate``, ``atlas.stages.quality``) and by the
check generator (``atlas.quality.checks``). Every key here changes a generated check.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, StringConstraints

from atlas.config.types import Model
from atlas.exceptions import ConfigProblem

if TYPE_CHECKING:
    from atlas.config.source import SourceConfig


class Severity(StrEnum):
    """What a failed check does: ``warn`` records and reports it, ``fail`` stops the interval."""

    WARN = "warn"
    FAIL = "fail"


CheckName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]


class AnomalySettings(Model):
    """Anomaly detection on the batch metrics (:mod:`atlas.quality.anomalies`)."""

    history: int = Field(default=30, ge=2, le=1000)
    """How many previous batches a new batch's metrics are compared with."""
    min_history: int = Field(default=7, ge=2, le=1000)
    """No anomaly is reported before this many previous batches exist."""
    sigma: float = Field(default=2.0, gt=0, le=10)
    """The band: mean ± ``sigma`` standard deviations of the history."""
    by_weekday: bool = False
    """Compare with the same weekday's batches only (weekly seasonality)."""


class QualityConfig(Model):
    """How the source's data is checked on its way to ``navigate`` (README, "Data quality")."""

    anomalies: AnomalySettings = AnomalySettings()
    """Anomaly detection on each batch's metrics; alerts as a warning, never blocks."""

    freshness_hours: float = Field(default=24, gt=0, le=24 * 366)
    """The newest row of an interval's chart rows must have been loaded (``_promoted_at``) at most
    this many hours before the check runs (a timeliness check per entity)."""
    severity: dict[CheckName, Severity] = {}
    """Severity per generated check name (``orders.missing.status: warn``); ``python -m atlas.cli
    quality show <source>`` lists the names and their default severities."""

    def check_against(self, config: SourceConfig) -> None:
        """Every overridden check exists for this source (else a typo would do nothing silently)."""
        from atlas.quality.checks import generate_checks

        known = {check.name for check in generate_checks(config, apply_overrides=False)}
        for name in self.severity:
            if name not in known:
                raise ConfigProblem(
                    f"names no generated check {name!r}; the checks of this source are listed by "
                    f"`python -m atlas.cli quality show {config.name}` (e.g. {', '.join(sorted(known)[:4])})",
                    at=("severity", name),
                )
