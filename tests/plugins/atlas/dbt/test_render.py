"""What the dbt generator renders from a source YAML: sources, masked staging, current states, tests, snapshots."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from atlas.config import parse_source
from atlas.constants import ROOT
from atlas.dbt.render import MODELS_DIR, SNAPSHOTS_DIR, render_source
from atlas.dbt.rules import hashed_columns, is_masked, sql_literal, surrogate_key
from atlas.exceptions import DbtProjectError
from tests.plugins.atlas.dbt.sources import config, library

MODELS = f"{MODELS_DIR}/library"
SNAPSHOTS = f"{SNAPSHOTS_DIR}/library"


def render(**entity_changes: Any) -> dict[str, str]:
    return render_source(config(library(**entity_changes)), origin="include/sources/library.yaml")


def current_columns(files: dict[str, str], model: str) -> dict[str, dict[str, Any]]:
    """The columns of a current-state model in the generated model properties, by name."""
    models = yaml.safe_load(files[f"{MODELS}/_library__models.yml"])["models"]
    current = next(m for m in models if m["name"] == model)
    return {c["name"]: c for c in current["columns"]}


def data_tests(column: dict[str, Any]) -> list[Any]:
    return column.get("data_tests", [])


def test_one_staging_model_and_one_current_state_per_entity():
    """Without history: sources, staging and current state per entity, their properties; no snapshot."""
    assert sorted(render()) == [
        f"{MODELS}/_library__models.yml",
        f"{MODELS}/_library__sources.yml",
        f"{MODELS}/library__loans.sql",
        f"{MODELS}/library__members.sql",
        f"{MODELS}/stg_library__loans.sql",
        f"{MODELS}/stg_library__members.sql",
    ]


def test_required_columns_and_keys_are_not_null_and_a_one_column_key_is_unique():
    """required -> not_null; the key column -> not_null + unique; an optional column has no test."""
    columns = current_columns(render(), "library__members")
    assert data_tests(columns["member_id"]) == ["not_null", "unique"]
    assert data_tests(columns["updated_at"]) == ["not_null"]
    assert data_tests(columns["email"]) == []


def test_allowed_values_become_accepted_values_with_quoted_literals():
    """Each allowed value is a SQL literal (quotes doubled), compared as written (quote: false)."""
    tier = current_columns(render(), "library__members")["tier"]
    assert data_tests(tier)[1] == {
        "accepted_values": {"arguments": {"values": ["'basic'", "'gold'", "'O''Brien'"], "quote": False}}
    }


def test_allowed_values_of_a_masked_column_are_compared_masked():
    """A masked column's current state holds masked values: the accepted values are masked the same way."""
    document = library()
    document["entities"][0]["columns"][1]["allowed_values"] = ["Ann"]
    files = render_source(config(document), origin="library.yaml")
    full_name = current_columns(files, "library__members")["full_name"]
    assert data_tests(full_name)[1]["accepted_values"]["arguments"]["values"] == [
        "compliance.mask('Ann', 'PERSON', 'confidential')"
    ]


def test_a_composite_key_is_unique_as_a_row():
    """A two-column key is tested unique on the row of both columns (no separator ambiguity)."""
    models = yaml.safe_load(render()[f"{MODELS}/_library__models.yml"])["models"]
    loans = next(m for m in models if m["name"] == "library__loans")
    assert loans["data_tests"] == [
        {"unique": {"arguments": {"column_name": 'row("member_id", "book_id")::text'}}}
    ]
    assert all("unique" not in data_tests(c) for c in loans["columns"])


@pytest.mark.parametrize(
    ("column", "expression"),
    [
        pytest.param(
            "full_name",
            "{{ mask_pii('\"full_name\"', 'PERSON', 'confidential') }} as \"full_name\"",
            id="pii-person",
        ),
        pytest.param(
            "email",
            "{{ mask_pii('\"email\"', 'EMAIL_ADDRESS', 'confidential') }} as \"email\"",
            id="pii-email",
        ),
        pytest.param(
            "notes", "{{ mask_pii('\"notes\"', '', 'restricted') }} as \"notes\"", id="restricted-no-hint"
        ),
        pytest.param("nickname", '"nickname"', id="pii-but-public"),
        pytest.param("tier", '"tier"', id="internal"),
    ],
)
def test_staging_masks_by_classification_with_the_pii_hint(column, expression):
    """A column is masked when its classification requires it: compliance.mask(value, <pii>, <classification>)."""
    assert f"    {expression},\n" in render()[f"{MODELS}/stg_library__members.sql"]


def test_only_the_staging_model_masks_and_reads_chart():
    """The current state selects the staging model's columns, never chart, and no digest of unmasked data."""
    files = render(history="scd2")
    staging, current = files[f"{MODELS}/stg_library__members.sql"], files[f"{MODELS}/library__members.sql"]
    assert "{{ source('chart', 'library__members') }}" in staging
    assert "materialized='ephemeral'" in staging
    assert "mask_pii" not in current
    assert "source(" not in current
    assert "{{ ref('stg_library__members') }}" in current
    assert "materialized='table'" in current
    for hidden in ("_record_key", "_payload_checksum", "_change_hash"):
        assert hidden not in current


def test_scd2_generates_the_snapshot_named_by_dimension():
    """history: scd2 + dimension -> snapshots/generated/<s>/<dimension>.sql and its tests."""
    files = render(history="scd2", dimension="dim_member")
    snapshot = files[f"{SNAPSHOTS}/dim_member.sql"]
    assert snapshot.count("{% snapshot dim_member %}") == 1
    assert "unique_key='\"member_id\"'" in snapshot
    assert "check_cols=['change_hash']" in snapshot
    assert "'dbt_scd_id': 'member_key'" in snapshot
    assert "'dbt_valid_from': 'valid_from'" in snapshot
    assert "'dbt_updated_at': 'snapshotted_at'" in snapshot
    assert (
        'pre_hook=["{{ navigate_lock(this) }}", "{{ apply_masking_policy(this, rewrite=true) }}"]' in snapshot
    )
    assert 'post_hook=["{{ add_is_current(this) }}", "{{ register_columns(this) }}"]' in snapshot
    assert "where {{ interval_filter('_interval_start') }}" in snapshot
    assert '"updated_at" as "source_updated_at"' in snapshot
    assert '"_change_hash" as "change_hash"' in snapshot
    assert "{{ ref('stg_library__members') }}" in snapshot
    tests = yaml.safe_load(files[f"{SNAPSHOTS}/_library__snapshots.yml"])["snapshots"][0]
    assert tests["name"] == "dim_member"
    assert tests["data_tests"] == ["scd2_versions"]
    columns = {c["name"]: c.get("data_tests") for c in tests["columns"]}
    assert columns["member_key"] == ["unique", "not_null"]
    assert columns["member_id"] == ["not_null", {"unique": {"config": {"where": "valid_to is null"}}}]


def test_the_change_hash_covers_the_unmasked_attributes_only():
    """The staging model hashes every column but the key and updated_at, before masking."""
    staging = render(history="scd2")[f"{MODELS}/stg_library__members.sql"]
    hashed = ["full_name", "email", "tier", "notes", "nickname"]
    assert hashed_columns(config(library()).entity("members")) == hashed
    quoted = ", ".join(f"'\"{name}\"'" for name in hashed)
    assert f'{{{{ change_hash([{quoted}]) }}}} as "_change_hash"' in staging


def test_a_history_without_dimension_gets_the_default_names():
    """Default dimension <s>__<e>_history, surrogate key <s>__<e>_key."""
    files = render(history="scd2")
    assert f"{SNAPSHOTS}/library__members_history.sql" in files
    assert "'dbt_scd_id': 'library__members_key'" in files[f"{SNAPSHOTS}/library__members_history.sql"]
    assert surrogate_key("dim_customer") == "customer_key"


def test_without_history_there_is_no_snapshot_and_no_change_hash():
    """Entities without history: nothing in snapshots/, no change hash computed in staging."""
    files = render()
    assert not [path for path in files if path.startswith(SNAPSHOTS_DIR)]
    assert "change_hash" not in files[f"{MODELS}/stg_library__members.sql"]


def test_every_model_and_snapshot_is_tagged_with_its_source_and_says_where_it_comes_from():
    """tags=['source_library'] on every node; every file's first line names the YAML and says do not edit."""
    files = render(history="scd2")
    for path, text in files.items():
        assert "include/sources/library.yaml: do not edit" in text.splitlines()[0], path
        if path.endswith(".sql"):
            assert "tags=['source_library']" in text, path
    sources = yaml.safe_load(files[f"{MODELS}/_library__sources.yml"])["sources"][0]
    assert sources["name"] == "chart"
    assert [t["config"]["tags"] for t in sources["tables"]] == [["source_library"]] * 2


def test_sources_document_types_and_personal_data_without_freshness():
    """The chart tables' columns carry their type and meta (classification, pii, masked); no freshness."""
    text = render()[f"{MODELS}/_library__sources.yml"]
    table = yaml.safe_load(text)["sources"][0]["tables"][0]
    email = next(c for c in table["columns"] if c["name"] == "email")
    assert email["data_type"] == "text"
    assert email["config"]["meta"] == {
        "classification": "confidential",
        "masked": True,
        "pii": "EMAIL_ADDRESS",
        "masked_as": "EMAIL_ADDRESS",
    }
    assert "freshness" not in text


def test_jinja_in_a_description_is_kept_literal():
    """dbt renders descriptions as Jinja: one holding delimiters is wrapped in raw."""
    files = render(description="Costs {{ money }}")
    tables = yaml.safe_load(files[f"{MODELS}/_library__sources.yml"])["sources"][0]["tables"]
    assert tables[0]["description"].startswith("{% raw %}Costs {{ money }}")


def test_rendering_is_deterministic():
    """The same YAML renders the same bytes."""
    assert render(history="scd2") == render(history="scd2")


@pytest.mark.parametrize(
    "column", ["valid_from", "is_current", "change_hash", "member_key", "source_updated_at"]
)
def test_a_column_named_like_an_scd2_column_is_refused(column):
    """The snapshot adds its own columns: a YAML column of the same name is an error naming the entity."""
    document = library(history="scd2", dimension="dim_member")
    document["entities"][0]["columns"].append({"name": column, "type": "text"})
    with pytest.raises(
        DbtProjectError, match=f"{column} clash with the SCD2 columns of dim_member"
    ) as raised:
        render_source(config(document), origin="library.yaml")
    assert "entity members" in str(raised.value)


def test_a_relation_name_postgres_would_truncate_is_refused():
    """navigate.<s>__<e>_history over 63 characters asks for a shorter dimension."""
    document = library(history="scd2")
    document["name"] = "s" * 40
    document["entities"][0]["name"] = "e" * 20
    document["entities"][1]["references"] = [{"columns": ["member_id"], "entity": "e" * 20}]
    with pytest.raises(DbtProjectError, match="set a shorter 'dimension'"):
        render_source(config(document), origin="x.yaml")


@pytest.mark.parametrize(
    ("classification", "pii", "masked"),
    [
        pytest.param("public", None, False, id="public"),
        pytest.param("internal", None, False, id="internal"),
        pytest.param("confidential", None, True, id="confidential"),
        pytest.param("special_category", None, True, id="special-category"),
        pytest.param("internal", "PERSON", True, id="pii-defaults-to-confidential"),
        pytest.param("public", "PERSON", False, id="pii-declared-public"),
    ],
)
def test_masking_follows_the_classification(classification, pii, masked):
    """confidential, restricted and special_category are masked; a pii hint alone makes a column confidential."""
    document = library()
    document["entities"][0]["columns"][2] = {"name": "email", "classification": classification, "pii": pii}
    column = config(document).entity("members").column("email")
    assert is_masked(column) is masked


def test_sql_literals_double_their_quotes():
    """A literal never ends early, whatever the YAML value holds."""
    assert sql_literal("it's") == "'it''s'"
    assert re.fullmatch(r"'(?:[^']|'')*'", sql_literal("a'b''c\\"))


def test_the_readme_example_generates_what_the_readme_says():
    """README's "Adding a source" YAML validates and gives its current states and dim_member (member_key)."""
    section = (ROOT / "README.md").read_text().split("## Adding a source", 1)[1]
    example = yaml.safe_load(section.split("```yaml", 1)[1].split("```", 1)[0])
    files = render_source(parse_source(example, "library.yaml"), origin="include/sources/library.yaml")
    assert {f"{MODELS}/library__members.sql", f"{MODELS}/library__loans.sql"} <= set(files)
    assert "'dbt_scd_id': 'member_key'" in files[f"{SNAPSHOTS}/dim_member.sql"]
    assert (
        "{{ mask_pii('\"email\"', 'EMAIL_ADDRESS', 'confidential') }}"
        in files[f"{MODELS}/stg_library__members.sql"]
    )


@pytest.mark.parametrize(
    ("changes", "classification", "expression"),
    [
        pytest.param({}, "confidential", "anonymised_free_text('\"notes\"', 'notes')", id="raised"),
        pytest.param(
            {"pii": "DATE_TIME"},
            "confidential",
            "anonymised_free_text('\"notes\"', 'notes')",
            id="hint",
        ),
        pytest.param(
            {"classification": "special_category"},
            "special_category",
            "mask_pii('\"notes\"', 'FREE_TEXT', 'special_category')",
            id="special-category",
        ),
    ],
)
def test_free_text_is_anonymised_or_withheld_whatever_its_hint(changes, classification, expression):
    """free_text: masked as FREE_TEXT, at least confidential (then the PII stage's anonymised text), its pii
    hint kept as documentation; withheld when special category."""
    document = library()
    document["entities"][0]["columns"][4] = {"name": "notes", "type": "text", "free_text": True, **changes}
    files = render_source(config(document), origin="library.yaml")
    assert f'{{{{ {expression} }}}} as "notes"' in files[f"{MODELS}/stg_library__members.sql"]
    notes = current_columns(files, "library__members")["notes"]
    assert notes["config"]["meta"]["classification"] == classification
    assert notes["config"]["meta"]["masked_as"] == "FREE_TEXT"
    assert notes["config"]["meta"]["free_text"] is True


def test_every_column_of_the_navigate_tables_is_described_for_the_data_dictionary():
    """Current state and snapshot list every column they have, with meta; the node names source, entity, owner."""
    files = render(history="scd2", dimension="dim_member")
    current = current_columns(files, "library__members")
    assert list(current) == [
        "member_id", "full_name", "email", "tier", "notes", "nickname", "updated_at",
        "_raw_id", "_batch_id", "_interval_start", "_promoted_at",
    ]  # fmt: skip
    assert current["_raw_id"]["config"]["meta"] == {"classification": "internal", "masked": False}
    assert "{{ register_columns(this) }}" in files[f"{MODELS}/library__members.sql"]
    snapshot = yaml.safe_load(files[f"{SNAPSHOTS}/_library__snapshots.yml"])["snapshots"][0]
    assert snapshot["config"]["meta"] == {
        "source_name": "library",
        "entity_name": "members",
        "owner": "atlas",
    }
    assert {c["name"] for c in snapshot["columns"]} == {
        "member_id", "full_name", "email", "tier", "notes", "nickname", "_raw_id", "_batch_id", "change_hash",
        "valid_from", "valid_to", "snapshotted_at", "member_key", "is_current", "source_updated_at",
    }  # fmt: skip
    assert all("classification" in c["config"]["meta"] for c in snapshot["columns"])
    notes = next(c for c in snapshot["columns"] if c["name"] == "notes")
    assert notes["config"]["meta"] == {
        "classification": "restricted",
        "masked": True,
        "masked_as": "",
        "raw_text": "nullif(btrim(r.payload ->> 'notes'), '')",
        "data_type": "text",
    }, "what re-masking the history reads: the raw value as promotion normalises it, its type"
