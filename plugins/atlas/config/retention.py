"""How long partitions stay in the warehouse: a source's ``retention`` section and the project defaults.

A period is written ``13 months``, ``7 years`` (``1 month``, ``1 year`` too) or ``forever``.
A partition whose *whole* range is older than its table's period is archived to object storage
(verified Parquet, ``archive.snapshots``) and then dropped by ``atlas_maintenance``; ``forever``
keeps every partition.

The project defaults are ``include/retention.yaml`` (or the file ``$ATLAS_RETENTION_FILE``
names), one mapping ``retention:`` with the keys of :class:`ProjectRetention`; without the file
the built-in defaults apply (explore 13 months, audit log 7 years, everything else forever). A
source's section sets its own navigate facts and may extend ``explore.raw_data``, which every
source shares: the longest period asked for wins, so no source loses raw data early.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from atlas.config.project import load_section
from atlas.config.types import Identifier, Model
from atlas.constants import INCLUDE_DIR

RETENTION_FILE_ENV = "ATLAS_RETENTION_FILE"
DEFAULT_RETENTION_FILE = INCLUDE_DIR / "retention.yaml"
FOREVER = "forever"
_PERIOD = re.compile(r"^\s*([1-9][0-9]{0,3})\s+(month|months|year|years)\s*$")


def _months(value: Any) -> int | None:
    """``13 months`` → 13, ``7 years`` → 84, ``forever`` → ``None`` (an int is taken as months)."""
    if value is None or (isinstance(value, str) and value.strip() == FOREVER):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"a retention period is 'N months', 'N years' or '{FOREVER}', not {value!r}")
    count = int(match.group(1))
    return count * 12 if match.group(2).startswith("year") else count


Months = Annotated[int | None, BeforeValidator(_months)]
"""A retention period in months; ``None`` is ``forever``."""


def describe(months: int | None) -> str:
    """``84`` → ``7 years``, ``13`` → ``13 months``, ``None`` → ``forever``."""
    if months is None:
        return FOREVER
    if months % 12 == 0:
        return f"{months // 12} year{'s' if months != 12 else ''}"
    return f"{months} month{'s' if months != 1 else ''}"


class SourceRetention(Model):
    """The ``retention`` section of a source YAML."""

    explore: Months = None
    """How long this source's raw data stays in ``explore.raw_data`` (unset: the project's); the
    table is shared, so the longest period of the project default and every source applies."""
    navigate: Months = None
    """The default period of this source's yearly-partitioned ``navigate`` facts (unset: the
    project's ``navigate``)."""
    tables: dict[Identifier, Months] = {}
    """A period per navigate fact of this source (``fact_orders: 10 years``), over ``navigate``."""

    def is_set(self, key: str) -> bool:
        """Whether the YAML set ``key`` (``forever`` is set; a missing key is not)."""
        return key in self.model_fields_set


class ProjectRetention(Model):
    """The project's retention defaults and where archives go (``include/retention.yaml``)."""

    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = "atlas-archive"
    """The bucket of the ``atlas_s3`` connection archives and snapshots are written to (created
    if missing)."""
    explore: Months = 13
    """``explore.raw_data`` (monthly partitions)."""
    audit_log: Months = 84
    """``compliance.audit_log`` (quarterly partitions)."""
    quality: Months = None
    """``quality.check_results`` (yearly partitions)."""
    navigate: Months = None
    """Yearly-partitioned navigate facts a source's ``retention`` does not cover."""
    keep_archives: Months = 120
    """How long an archived object is kept (the manifest's ``retain_until``)."""
    tables: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")], Months
    ] = Field(default_factory=dict)
    """A period for any partitioned table by ``schema.table``, over everything above."""


def retention_file() -> Path:
    """``$ATLAS_RETENTION_FILE``, else ``include/retention.yaml``."""
    return Path(os.environ.get(RETENTION_FILE_ENV) or DEFAULT_RETENTION_FILE)


def project_retention(path: Path | None = None) -> ProjectRetention:
    """The project's retention defaults (the built-in ones when the file does not exist).

    A file that does not parse or validate raises :class:`SourceConfigError` naming it and the key.
    """
    return load_section(path or retention_file(), "retention", ProjectRetention, "the retention defaults")
