"""Project-wide YAML files under ``include/`` (``alerts.yaml``, ``retention.yaml``): one loader.

Each file holds one mapping, ``<section>:``, validated with a model; a file that does not parse
or validate raises :class:`SourceConfigError` naming it, the key path and the bad value, like a
source file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from atlas.exceptions import SourceConfigError

M = TypeVar("M", bound=BaseModel)


def load_section(path: Path, section: str, model: type[M], what: str) -> M:
    """The ``section`` mapping of the file ``path`` as ``model`` (its defaults when the file is missing).

    :param what: what the mapping holds, for the message of a file of another shape.
    """
    if not path.is_file():
        return model()
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SourceConfigError(str(path), [("", None, f"not valid YAML: {exc}")]) from None
    if not isinstance(document, dict) or set(document) - {section}:
        raise SourceConfigError(str(path), [("", document, f"expected one mapping '{section}:' with {what}")])
    try:
        return model.model_validate(document.get(section) or {})
    except ValidationError as exc:
        raise SourceConfigError(
            str(path),
            [
                (f"{section}." + ".".join(str(p) for p in error["loc"]), error.get("input"), error["msg"])
                for error in exc.errors()
            ],
        ) from None
