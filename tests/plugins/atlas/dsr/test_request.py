"""The conf of a data-subject request and the YAML's ``subject``: what is accepted, what is refused and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from atlas.config import load_source
from atlas.constants import SOURCES_DIR
from atlas.dsr.request import params_schema, parse_request
from atlas.dsr.targets import identifier_names, targets
from atlas.exceptions import SourceConfigError, SubjectRequestError

ALLOWED = ["customer_id", "email"]
GOOD: dict[str, Any] = {
    "request_id": "DSR-2026-0042",
    "type": "erasure",
    "subject": {"email": "anna@example.org"},
    "requested_by": "dpo@example.com",
}


def test_a_good_conf_is_a_request_with_a_stable_uuid() -> None:
    """The same request_id always gives the same request row id; another id another row."""
    request = parse_request(GOOD, ALLOWED)
    assert (request.type, request.subject) == ("erasure", {"email": "anna@example.org"})
    assert parse_request(dict(GOOD), ALLOWED).uuid == request.uuid
    assert parse_request({**GOOD, "request_id": "DSR-2026-0043"}, ALLOWED).uuid != request.uuid


@pytest.mark.parametrize(
    ("conf", "reason"),
    [
        pytest.param(None, "must be a JSON object", id="no-conf"),
        pytest.param({**GOOD, "type": "delete"}, r"type: Input should be 'access' or 'erasure'", id="type"),
        pytest.param({**GOOD, "subject": {}}, "subject: Dictionary should have at least 1 item", id="no-subject"),
        pytest.param({**GOOD, "subject": {"name": "Anna"}}, "name are not known; a subject is named by customer_id, email", id="unknown-identifier"),
        pytest.param({**GOOD, "subject": {"customer_id": True}}, "subject.customer_id", id="bool-id"),
        pytest.param({**GOOD, "subject": {"customer_id": -1}}, "greater than or equal to 0", id="negative-id"),
        pytest.param({**GOOD, "request_id": "DSR 1; DROP TABLE"}, "request_id: String should match pattern", id="request-id"),
        pytest.param({k: v for k, v in GOOD.items() if k != "requested_by"}, "requested_by: Field required", id="who"),
        pytest.param({**GOOD, "extra": 1}, "extra: Extra inputs are not permitted", id="extra-key"),
    ],
)  # fmt: skip
def test_a_malformed_conf_is_refused_with_its_reason(conf: Any, reason: str) -> None:
    """Each problem is named with the key it is at."""
    with pytest.raises(SubjectRequestError, match=reason):
        parse_request(conf, ALLOWED)


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=400),
            st.lists(st.integers()),
        ),
        max_size=5,
    )
)
def test_hostile_subjects_are_accepted_only_when_well_formed(subject: dict[str, Any]) -> None:
    """Any subject object is either a valid request or refused with SubjectRequestError, never another error."""
    try:
        request = parse_request({**GOOD, "subject": subject}, ALLOWED)
    except SubjectRequestError as err:
        message = str(err)
        request = None
    if request is None:
        assert message.startswith("invalid data-subject request conf")
        return
    assert set(request.subject) <= set(ALLOWED)
    assert subject
    for value in request.subject.values():
        assert (isinstance(value, int) and not isinstance(value, bool) and value >= 0) or (
            isinstance(value, str) and 0 < len(value) <= 320 and value == value.strip()
        )


def test_params_name_the_same_identifiers() -> None:
    """The trigger-time schema allows exactly the identifiers the task accepts."""
    schema = params_schema(ALLOWED)
    assert sorted(schema["subject"]["properties"]) == ALLOWED
    assert schema["subject"]["additionalProperties"] is False
    assert schema["type"]["enum"] == ["access", "erasure"]


def test_sample_sources_declare_their_subjects() -> None:
    """crm.customers, shop.orders and support.tickets hold customers' records; crm's personal columns are its PII."""
    found = targets(load_source(p) for p in sorted(SOURCES_DIR.glob("*.yaml")))
    assert [(t.source, t.entity.name, t.key.name) for t in found] == [
        ("crm", "customers", "customer_id"),
        ("shop", "orders", "customer_id"),
        ("support", "tickets", "customer_id"),
    ]
    assert identifier_names(found) == ["customer_id", "email"]
    crm, orders, tickets = found
    assert [c.name for c in crm.personal] == [
        "first_name", "last_name", "email", "phone", "street", "city", "postal_code", "birth_date",
    ]  # fmt: skip
    assert orders.personal == []
    assert [c.name for c in tickets.personal] == ["subject", "body"]
    assert crm.key_is_record_key
    assert not orders.key_is_record_key
    assert crm.dimension == "dim_customer"


@pytest.mark.parametrize(
    ("subject", "key"),
    [
        pytest.param({"key": "nope"}, "entities[0].subject.key = 'nope': subject column 'nope' is not declared", id="key"),
        pytest.param({"key": "customer_id", "identifiers": ["mail"]}, "entities[0].subject.identifiers[0] = 'mail'", id="identifier"),
        pytest.param({"key": "customer_id", "other": 1}, "entities[0].subject.other = 1: Extra inputs", id="unknown-key"),
    ],
)  # fmt: skip
def test_a_subject_naming_an_undeclared_column_is_refused(
    tmp_path: Path, subject: dict[str, Any], key: str
) -> None:
    """The YAML's subject names declared columns; the error names the key path."""
    document = yaml.safe_load((SOURCES_DIR / "crm.yaml").read_text())
    document["entities"][0]["subject"] = subject
    path = tmp_path / "crm.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SourceConfigError) as err:
        load_source(path)
    assert key in str(err.value)
