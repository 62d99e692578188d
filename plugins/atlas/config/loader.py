"""Load source YAML files into validated ``SourceConfig`` objects.

The model a YAML is validated with is assembled from the registries: one ``SourceConfig``
subclass per registered connector (its ``connector`` and ``entities`` models), in a union
discriminated by ``connector.type``. Errors are ``SourceConfigError`` naming the file, the key
path (``entities[0].columns[2].type``) and the offending value, so a data engineer can fix the
file without reading a traceback.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError, create_model

from atlas import registry
from atlas.config.source import SourceConfig
from atlas.config.types import IDENTIFIER_PATTERN
from atlas.constants import SOURCES_DIR
from atlas.exceptions import ConfigProblem, SourceConfigError

SOURCES_ENV = "ATLAS_SOURCES_DIR"
"""Overrides the folder of the source YAML files (tests, benchmarks, other deployments)."""
SOURCE_SUFFIXES = (".yaml", ".yml")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader (several times faster at DAG-parse time), else the pure-Python one."""


def sources_folder() -> Path:
    """The folder of the source YAML files: ``$ATLAS_SOURCES_DIR`` as set now, else ``include/sources``.

    Read at call time: tests and benchmarks point it elsewhere."""
    configured = os.environ.get(SOURCES_ENV)
    return Path(configured) if configured else SOURCES_DIR


def source_files(folder: Path | None = None) -> list[Path]:
    """The source YAML files of ``folder`` (default :func:`sources_folder`), sorted; ``_*`` files are ignored."""
    folder = folder or sources_folder()
    return sorted(p for p in folder.iterdir() if p.suffix in SOURCE_SUFFIXES and not p.name.startswith("_"))


def source_adapter() -> TypeAdapter[Any]:
    """The validator of a source document for the connectors and stages registered now."""
    return _adapter(registry.generation)


@functools.lru_cache(maxsize=4)
def _adapter(generation: int) -> TypeAdapter[Any]:
    from atlas.connectors import CONNECTORS
    from atlas.stages import STAGES

    sections: dict[str, Any] = {}
    for stage in STAGES.all().values():
        for name, model in stage.sections.items():
            sections[name] = (model, Field(default_factory=model))
    variants: list[Any] = []
    for name, spec in CONNECTORS.all().items():
        model = create_model(
            f"{name.title()}SourceConfig",
            __base__=SourceConfig,
            __module__=SourceConfig.__module__,
            connector=(spec.config_model, ...),
            entities=(list[spec.entity_model], Field(min_length=1)),  # type: ignore[name-defined]
            **sections,
        )
        variants.append(Annotated[model, Tag(name)])
    if len(variants) == 1:
        return TypeAdapter(variants[0])
    union: Any = Annotated[
        functools.reduce(lambda a, b: a | b, variants),
        Discriminator(
            _connector_type,
            custom_error_type="connector_type",
            custom_error_message=f"connector.type must be one of: {', '.join(CONNECTORS.all())}",
        ),
    ]
    return TypeAdapter(union)


def _connector_type(value: Any) -> str | None:
    connector = value.get("connector") if isinstance(value, dict) else getattr(value, "connector", None)
    kind = connector.get("type") if isinstance(connector, dict) else getattr(connector, "type", None)
    return str(kind) if kind is not None else None


def _key_path(loc: tuple[int | str, ...]) -> str:
    """Turn pydantic's ``('entities', 0, 'columns', 2, 'type')`` into ``entities[0].columns[2].type``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
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
            current = current[part]  # type: ignore[index]
        else:
            return "<missing>"
    return current


def _problem(err: Any, document: dict[str, Any]) -> tuple[str, object, str]:
    loc = tuple(err["loc"])
    if loc and loc[0] == _connector_type(document) and err["type"] != "connector_type":
        loc = loc[1:]  # the discriminated union's branch is noise in a key path
    if err["type"] == "connector_type":
        loc = ("connector", "type")
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
    return _key_path(loc), _value_at(document, loc), message


def parse_source(document: object, path: str) -> SourceConfig:
    """Validate an already-parsed YAML document; ``path`` is only used in error messages."""
    if not isinstance(document, dict):
        raise SourceConfigError(path, [("", type(document).__name__, "the file must hold a mapping")])
    try:
        config: SourceConfig = source_adapter().validate_python(document)
    except ValidationError as exc:
        problems = [_problem(err, document) for err in exc.errors(include_url=False)]
        raise SourceConfigError(path, problems) from None
    return config


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
