"""Free text anonymised with presidio-anonymizer: each entity the analyzer finds becomes ``<ENTITY>``.

A ``free_text`` column (a ticket's subject or body) can name anyone anywhere in it, so navigate
cannot show it as it is, and ``***`` shows nothing at all. The ``pii`` stage anonymises every
value of such a column in the batch it scans (:func:`anonymise_batch`): the analyzer engine of
:mod:`atlas.pii.engine` (its entities, score thresholds, allow and deny lists and recognizers)
runs over all values at once (Presidio's ``BatchAnalyzerEngine``, ~2x faster than one call per
value), and Presidio's ``AnonymizerEngine`` replaces each finding with ``<ENTITY_TYPE>`` (its
``replace`` operator's default). The results replace the batch's rows of
``chart.anonymised_text`` (sql/V024), keyed by the ``explore.raw_data`` row the chart row is
promoted from, which the generated staging model reads (macro ``mask_pii``) for a
``confidential`` free-text column: a re-run of the interval leaves the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg

log = logging.getLogger(__name__)


def anonymise_texts(values: Sequence[str | None]) -> list[str | None]:
    """Each text with the personal data the analyzer finds replaced with ``<ENTITY_TYPE>``; None stays None."""
    from presidio_analyzer import BatchAnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine, RecognizerResult

    from atlas.pii.engine import analyzer

    engine, settings = analyzer()
    texts = [v or "" for v in values]
    supported = set(engine.get_supported_entities("en"))  # asking a blank pipeline for PERSON logs per text
    findings = BatchAnalyzerEngine(analyzer_engine=engine).analyze_iterator(
        texts,
        language="en",
        batch_size=64,
        entities=sorted(e for e in settings.entities if e in supported),
        allow_list=settings.allow_list or None,
    )
    anonymizer = AnonymizerEngine()
    out: list[str | None] = []
    for value, text, found in zip(values, texts, findings, strict=True):
        if value is None:
            out.append(None)
            continue
        kept = [
            RecognizerResult(r.entity_type, r.start, r.end, r.score)
            for r in found
            if r.score >= settings.entities.get(r.entity_type, 1.0)
        ]
        out.append(anonymizer.anonymize(text=text, analyzer_results=kept).text if kept else text)
    return out


def anonymise_batch(
    cur: psycopg.Cursor[Any],
    source: str,
    entity: str,
    batch: Any,
    columns: dict[str, list[tuple[int, Any, str | None]]],
) -> int:
    """Replace the batch's anonymised texts: ``columns`` maps a free-text column to its
    ``(raw_id, interval_start, value)`` rows. Returns the number of rows written (call it in the
    scan's transaction)."""
    cur.execute("DELETE FROM chart.anonymised_text WHERE batch_id = %s", (batch,))
    written = 0
    for column, rows in columns.items():
        texts = anonymise_texts([value for _, _, value in rows])
        records = [
            (source, entity, column, batch, raw_id, start, text)
            for (raw_id, start, _), text in zip(rows, texts, strict=True)
            if text  # nothing to show for a missing or empty value: the staging model keeps chart's
        ]
        with cur.copy(
            "COPY chart.anonymised_text (source_name, entity_name, column_name, batch_id, raw_id,"
            " interval_start, anonymised) FROM STDIN"
        ) as copy:
            for record in records:
                copy.write_row(record)
        written += len(records)
    log.info("%s.%s: %s free-text value(s) anonymised", source, entity, written)
    return written
