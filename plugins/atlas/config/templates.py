"""Interval templates: a files entity's ``path`` and an HTTP entity's ``params`` values.

A template is formatted with the run's data interval (:func:`render`) and may name only the
fields ``start`` and ``end``, each with an optional strftime format: ``{start:%Y/%m/%d}``. It is
checked when the YAML is loaded (:data:`IntervalTemplate`), so ``{stat:%Y}``, ``{0}``,
``{start.__class__}``, ``{start!r}``, an unknown ``%`` directive and unbalanced braces are
refused with the file, key and value instead of failing a run.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Annotated

from pydantic import AfterValidator

FIELDS = ("start", "end")
"""The fields a template may name: the bounds of the data interval ``[start, end)``."""

STRFTIME_DIRECTIVES = frozenset("aAwdbBmyYHIpMSfzZjUWcxXGuV%")
"""The ``strftime`` directives Python documents for every platform. glibc's extras (``%s``, which
reads the local time zone, ``%F``, ``%-d`` …) are refused: a template means the same everywhere."""

SAMPLE_START = dt.datetime(2026, 12, 31, 23, 59, 58, 999999, tzinfo=dt.UTC)
"""The interval start a template is formatted with once at load time."""
SAMPLE_END = SAMPLE_START + dt.timedelta(days=1)

_DIRECTIVE = re.compile(r"%(.?)", re.DOTALL)
_EXAMPLE = "e.g. {start:%Y-%m-%d}"


def render(template: str, start: dt.datetime, end: dt.datetime) -> str:
    """``template`` formatted with the interval ``[start, end)``: the one place templates are filled."""
    return template.format(start=start, end=end)


def template_problem(template: str) -> str | None:
    """What makes ``template`` unusable as an interval template, or ``None`` when it is fine."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"is not a valid template ({exc}); a literal brace is written '{{{{' or '}}}}'"
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        problem = _field_problem(field, spec or "", conversion)
        if problem:
            return problem
    try:
        render(template, SAMPLE_START, SAMPLE_END)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        return f"cannot be formatted with an interval: {exc}"
    return None


def _field_problem(field: str, spec: str, conversion: str | None) -> str | None:
    shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
    if field not in FIELDS:
        return (
            f"{shown} is not a field of the interval: a template names only {{start}} and {{end}}, "
            f"with an optional strftime format ({_EXAMPLE})"
        )
    if conversion is not None:
        return f"{shown}: a template field takes a strftime format, not a conversion ({_EXAMPLE})"
    if "{" in spec or "}" in spec:
        return f"{shown}: a field's format cannot hold another field ({_EXAMPLE})"
    if not spec:
        return None
    directives = [m.group(1) for m in _DIRECTIVE.finditer(spec)]
    unknown = sorted({d for d in directives if d not in STRFTIME_DIRECTIVES})
    if unknown:
        listed = ", ".join(f"'%{d}'" if d else "a lone '%' at the end" for d in unknown)
        return (
            f"{shown}: {listed} is not a strftime directive Python documents on every platform "
            f"(known: {' '.join('%' + d for d in sorted(STRFTIME_DIRECTIVES))})"
        )
    if not [d for d in directives if d != "%"]:
        return f"{shown}: the format holds no strftime directive, so the date is lost ({_EXAMPLE})"
    return None


def _checked(template: str) -> str:
    problem = template_problem(template)
    if problem:
        raise ValueError(problem)
    return template


IntervalTemplate = Annotated[str, AfterValidator(_checked)]
"""A string formatted with the data interval; validated by :func:`template_problem` on load."""
