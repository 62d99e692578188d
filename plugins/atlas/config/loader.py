"""Load source YAML files into validated ``SourceConfig`` objects.

Errors are ``SourceConfigError`` naming the file, the key path (``entities[0].columns[2].type``)
and the offending value, so a data engineer can fix the file without reading a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml
from pydantic import ValidationError

from atlas.config.models import IDENTIFIER_PATTERN, ConfigProblem, SourceConfig
from atlas.exceptions import SourceConfigError

log = logging.getLogger(__name__)

SOURCE_SUFFIXES = (".yaml", ".yml")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader (several times faster at DAG-parse time), else the pure-Python one."""


def _key_path(loc: tuple[int | str, ...]) -> str:
    """Turn pydantic's ``('entities', 0, 'columns', 2, 'type')`` into ``entities[0].columns[2].type``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("files", "postgres", "http") and out == "connector":
            continue  # the discriminated union's branch name is noise in a key path
        else:
            out += f".{part}" if out else str(part)
    return out


def _value_at(document: object, loc: tuple[int | str, ...]) -> object:
    """The raw YAML value at ``loc``, or ``<missing>`` when the key is absent."""
    current = document
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            current = current[part]
        elif isinstance(current, dict) and part in ("files", "postgres", "http"):
            continue
        else:
            return "<missing>"
    return current


def parse_source(document: object, path: str) -> SourceConfig:
    """Validate an already-parsed YAML document; ``path`` is only used in error messages."""
    if not isinstance(document, dict):
        raise SourceConfigError(path, [("", type(document).__name__, "the file must hold a mapping")])
    try:
        return SourceConfig.model_validate(document)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, ConfigProblem):
                loc = (*loc, *cause.at)
            message = err["msg"].removeprefix("Value error, ")
            if (
                err["type"] == "string_pattern_mismatch"
                and (err.get("ctx") or {}).get("pattern") == IDENTIFIER_PATTERN
            ):
                message = (
                    "is not a safe identifier: use lower-case letters, digits and '_', starting with a "
                    f"letter, at most 48 characters (pattern {IDENTIFIER_PATTERN})"
                )
            problems.append((_key_path(loc), _value_at(document, loc), message))
        raise SourceConfigError(path, problems) from None


def load_source(path: Path) -> SourceConfig:
    """Read and validate one source file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceConfigError(str(path), [("", "<file>", f"cannot be read: {exc}")]) from exc
    try:
        document = yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a SafeLoader, in C when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise SourceConfigError(str(path), [("", "<yaml>", f"not valid YAML at {where}: {exc}")]) from None
    config = parse_source(document, str(path))
    if config.name != path.stem:
        raise SourceConfigError(str(path), [("name", config.name, f"must equal the file name {path.stem!r}")])
    return config


def source_files(folder: Path) -> list[Path]:
    """The source YAML files of ``folder``, sorted; files starting with ``_`` are ignored."""
    return sorted(p for p in folder.iterdir() if p.suffix in SOURCE_SUFFIXES and not p.name.startswith("_"))
