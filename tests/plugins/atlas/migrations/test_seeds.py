"""Seeded reference data: quality dimensions, classification levels and PII patterns."""

from __future__ import annotations

import re

import psycopg
import pytest

from tests.plugins.atlas.migrations.catalog import column


@pytest.mark.postgres
def test_quality_dimensions_are_seeded_with_weights_summing_to_one(conn: psycopg.Connection) -> None:
    """The six quality dimensions are seeded and their weights sum to exactly 1."""
    rows = dict(conn.execute("SELECT dimension_name, weight FROM quality.dimensions").fetchall())
    assert set(rows) == {"completeness", "uniqueness", "timeliness", "validity", "accuracy", "consistency"}
    assert sum(rows.values()) == 1


@pytest.mark.postgres
def test_dimension_weights_that_do_not_sum_to_one_are_refused(dsn: str) -> None:
    """Changing one weight alone fails at commit: the weights must keep summing to 1."""
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE quality.dimensions SET weight = weight + 0.01 WHERE dimension_name = 'accuracy'")
        with pytest.raises(psycopg.errors.CheckViolation, match=r"sum to 1\.010"):
            conn.commit()


@pytest.mark.postgres
def test_classification_levels_are_seeded_in_rank_order(conn: psycopg.Connection) -> None:
    """The five classification levels are seeded with ranks 1..5, masked from confidential up."""
    rows = conn.execute(
        "SELECT level_name, sensitivity_rank, requires_masking FROM compliance.classification_levels "
        "ORDER BY sensitivity_rank"
    ).fetchall()
    assert rows == [
        ("public", 1, False),
        ("internal", 2, False),
        ("confidential", 3, True),
        ("restricted", 4, True),
        ("special_category", 5, True),
    ]


@pytest.mark.postgres
def test_pii_patterns_are_seeded_and_match_their_examples(conn: psycopg.Connection) -> None:
    """Ten PII patterns are seeded; each Python regex matches its whole example value."""
    rows = conn.execute(
        "SELECT pattern_name, presidio_entity, regex, example FROM compliance.pii_patterns"
    ).fetchall()
    assert len(rows) == 10
    assert len({entity for _, entity, _, _ in rows}) == 10
    for name, _, regex, example in rows:
        match = re.search(regex, example)
        assert (match.group(0) if match else None) == example, name


@pytest.mark.postgres
@pytest.mark.slow
def test_pii_pattern_entities_are_presidio_entities(conn: psycopg.Connection) -> None:
    """Every seeded PII pattern names an entity type Presidio's predefined recognizers know."""
    from presidio_analyzer import RecognizerRegistry

    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    known = {entity for recognizer in registry.recognizers for entity in recognizer.supported_entities}
    entities = set(column(conn, "SELECT presidio_entity FROM compliance.pii_patterns"))
    assert entities <= known
