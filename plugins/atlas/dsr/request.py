"""The conf of a data-subject request, validated twice: by the DAG's Params when the run is
triggered (the REST API answers 400 with the reason) and by :func:`parse_request` in the task.

``{"request_id": "DSR-2026-0042", "type": "erasure", "subject": {"email": "anna@example.org"},
"requested_by": "dpo@example.com"}``: ``request_id`` is the caller's reference (stored as
``external_reference``; the row's uuid is derived from it, so a re-trigger addresses the same
row); ``subject`` names the subject by the YAMLs' subject keys and identifiers
(:func:`atlas.dsr.targets.identifier_names`).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from atlas.exceptions import SubjectRequestError

REQUEST_NAMESPACE = uuid.UUID("0b0c6a52-5f55-4c1e-8f0a-6d1b8a3f2c47")
"""Namespace of the request uuids (uuid5 of the caller's ``request_id``)."""
REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
IDENTIFIER_MAX_LENGTH = 320
"""Longest identifier value accepted (an e-mail address is at most 320 characters)."""


class RequestType(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"


IdentifierValue = (
    Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=IDENTIFIER_MAX_LENGTH)]
    | Annotated[int, Field(ge=0)]
)


class SubjectRequest(BaseModel):
    """One data-subject request as the REST API's conf gives it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    request_id: Annotated[str, StringConstraints(pattern=REFERENCE_PATTERN)]
    """The caller's reference of the request (letters, digits, ``._:/-``; at most 128)."""
    type: Literal["access", "erasure"]
    """``access`` (export every record) or ``erasure`` (anonymise the personal data)."""
    subject: dict[str, IdentifierValue] = Field(min_length=1)
    """The subject's identifiers: ``{"customer_id": 42}`` or ``{"email": "…"}`` (one or more)."""
    requested_by: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    """Who filed the request (the compliance officer), for the request row and the audit."""

    @property
    def kind(self) -> RequestType:
        return RequestType(self.type)

    @property
    def uuid(self) -> uuid.UUID:
        """The request row's id: the same for every trigger of the same ``request_id``."""
        return uuid.uuid5(REQUEST_NAMESPACE, self.request_id)


def parse_request(conf: Any, allowed: list[str]) -> SubjectRequest:
    """``conf`` as a request whose identifiers are among ``allowed``, or an error saying what is wrong."""
    if not isinstance(conf, dict):
        raise SubjectRequestError(f"the request conf must be a JSON object, got {type(conf).__name__}")
    try:
        request = SubjectRequest.model_validate(conf)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<conf>'}: {e['msg']}" for e in err.errors()
        )
        raise SubjectRequestError(f"invalid data-subject request conf: {problems}") from None
    unknown = sorted(set(request.subject) - set(allowed))
    if unknown:
        raise SubjectRequestError(
            f"invalid data-subject request conf: subject identifier(s) {', '.join(unknown)} are not "
            f"known; a subject is named by {', '.join(allowed) or 'nothing (no source declares a subject)'}"
        )
    return request


def params_schema(allowed: list[str]) -> dict[str, dict[str, Any]]:
    """JSON schemas of the DAG's Params (``Param(**schema)``): the same rules, checked at trigger time."""
    value = {
        "anyOf": [
            {"type": "string", "minLength": 1, "maxLength": IDENTIFIER_MAX_LENGTH, "pattern": r"\S"},
            {"type": "integer", "minimum": 0},
        ]
    }
    return {
        "request_id": {"type": "string", "pattern": REFERENCE_PATTERN, "description": "your reference"},
        "type": {"type": "string", "enum": [t.value for t in RequestType]},
        "subject": {
            "type": "object",
            "minProperties": 1,
            "properties": {name: value for name in allowed},
            "additionalProperties": False,
            "description": f"identifiers of the subject: {', '.join(allowed)}",
        },
        "requested_by": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
    }
