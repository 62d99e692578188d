"""Column classification: which personal data a column holds, from a sample of its values.

Presidio analyses values; a column's *name*, its declared hint and its table's other columns
decide what a match means. Why by hand: Presidio's structured-data analyzer classifies a column
by the entity most of its values hit, which flags id, SKU and order-number columns as phone
numbers, licences or bank numbers; here

- a structured value counts for an entity only when the match covers (nearly) all of it;
- ``PERSON`` in a structured column needs a column that names a person (``first_name``,
  ``customer_name``, ``name`` beside an e-mail column, a declared ``PERSON`` hint), where each
  value is read in a sentence that names a person, or a value of two or more words the NER takes
  whole as a person; a lone word the NER calls a person (``Austin``) does not count;
- the values are analysed with Presidio's batch engine (one spaCy pipe over them all);
- recognizers with ``requires_column_context`` (a birth date) count only in columns named so;
- a structured column is classified when at least ``min_share`` of its sampled values hit;
  free text (``free_text: true``) is scanned in full, and an entity found in at least
  ``FREE_TEXT_MIN_SHARE`` of its values counts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas.pii.engine import analyzer

COVERAGE = 0.8
"""Share of a structured value a match must cover to count."""
PERSON_WORDS = {"first", "last", "given", "family", "middle", "full", "sur", "fore", "maiden", "nick"}
PERSON_HOLDERS = {
    "customer",
    "contact",
    "person",
    "user",
    "employee",
    "patient",
    "member",
    "owner",
    "holder",
    "recipient",
}
PERSON_NAMES = {"surname", "forename", "firstname", "lastname", "fullname", "givenname", "familyname"}
PERSONAL_NEIGHBOURS = {"email", "mail", "phone", "mobile", "birth", "dob", "street"}
"""Columns beside which a plain ``name`` column is a person's name."""
SENTENCE = "Ms. {} called."
"""How a value of a person-name column is read: the NER needs a sentence to tag a lone first or
last name (on the labelled set it tags 98-100 % of them whole here, 42-58 % in "My name is …")."""
GENERIC_WORDS = {"number", "no", "nr", "id", "code", "key", "value", "text"}
"""Column-name words too generic to be context (``order_number`` says nothing about phones)."""
BATCH_CHUNK = 2_000
"""Free-text values analysed per call of the batch engine (bounds the results held at once)."""
FREE_TEXT_MIN_SHARE = 0.05
"""Share of a free-text column's values an entity must be found in (one stray NER hit in a
column of order subjects is noise; a column where one value in twenty names a person is not)."""


@dataclass(frozen=True)
class ColumnClassification:
    """What a column holds: per entity, the share of sampled values hit and their mean score."""

    column: str
    sampled: int
    shares: dict[str, float] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)
    entities: frozenset[str] = frozenset()
    """The entities the column is classified as (empty: no personal data found)."""

    @property
    def entity(self) -> str | None:
        """The entity most values hit, if any."""
        return max(self.entities, key=lambda e: self.shares[e]) if self.entities else None


def words(name: str) -> set[str]:
    """``customerEmail2`` / ``customer_email`` → ``{"customer", "email"}``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^a-z]+", spaced.lower()) if w}


def names_a_person(name: str, hint: str | None, other_columns: Iterable[str]) -> bool:
    """Whether the column's name (or hint, or its neighbours) says it holds a person's name."""
    tokens = words(name)
    if (
        hint == "PERSON"
        or tokens & PERSON_NAMES
        or any(name.lower().replace("_", "") == n for n in PERSON_NAMES)
    ):
        return True
    if "name" in tokens and tokens & (PERSON_WORDS | PERSON_HOLDERS):
        return True
    neighbours = set().union(*(words(c) for c in other_columns)) if other_columns else set()
    return tokens == {"name"} and bool(neighbours & PERSONAL_NEIGHBOURS)


def classify_column(
    name: str,
    values: Sequence[object],
    *,
    hint: str | None = None,
    free_text: bool = False,
    other_columns: Sequence[str] = (),
    settings_file: Path | None = None,
) -> ColumnClassification:
    """Classify column ``name`` from ``values`` (a sample; ``None`` and blanks are skipped)."""
    engine, settings = analyzer(settings_file)
    thresholds = settings.entities
    tokens = words(name)
    context = sorted((tokens | (words(hint) if hint else set())) - GENERIC_WORDS)
    allowed = set(settings.allow_list)
    person_column = not free_text and names_a_person(name, hint, other_columns)
    needs_context = {
        r.entity: set(r.requires_column_context) for r in settings.recognizers if r.requires_column_context
    }
    supported = set(engine.get_supported_entities("en"))  # a blank pipeline has no PERSON
    entities = [
        e for e in thresholds if e in supported and not (e in needs_context and not tokens & needs_context[e])
    ]
    hits: Counter[str] = Counter()
    score_sum: dict[str, float] = {}
    top: dict[str, float] = {}
    texts = [t for t in ("" if raw is None else str(raw).strip() for raw in values) if t and t not in allowed]
    sampled = len(texts)
    analysed = _batch_analyse(engine, texts, entities=entities, context=context)  # one spaCy pipe
    findings: list[dict[str, float]] = []
    for text, results in zip(texts, analysed, strict=True):
        found: dict[str, float] = {}
        for result in results:
            if result.score < thresholds[result.entity_type]:
                continue
            covered = (result.end - result.start) / len(text)
            if not free_text and covered < COVERAGE:
                continue
            if (
                not free_text
                and result.entity_type == "PERSON"
                and not person_column
                and len(text.split()) < 2
            ):
                continue  # a lone word the NER calls a person, in a column that names none
            found[result.entity_type] = max(found.get(result.entity_type, 0.0), result.score)
        findings.append(found)
    if person_column and "PERSON" in entities:
        _persons_in_sentences(engine, texts, findings, thresholds["PERSON"])
    for found in findings:
        for entity, score in found.items():
            hits[entity] += 1
            score_sum[entity] = score_sum.get(entity, 0.0) + score
            top[entity] = max(top.get(entity, 0.0), score)
    shares = {e: hits[e] / sampled for e in hits} if sampled else {}
    scores = {e: score_sum[e] / hits[e] for e in hits}
    if free_text:
        chosen = frozenset(e for e, share in shares.items() if share >= FREE_TEXT_MIN_SHARE)
    else:
        chosen = frozenset(e for e, share in shares.items() if share >= settings.min_share)
    return ColumnClassification(name, sampled, shares, scores, top, chosen)


def _persons_in_sentences(
    engine: Any, texts: list[str], findings: list[dict[str, float]], threshold: float
) -> None:
    """Each value of a person-name column the NER did not tag alone, read in ``SENTENCE``:
    a ``PERSON`` covering it is added to its findings."""
    missing = [i for i, found in enumerate(findings) if "PERSON" not in found]
    sentences = [SENTENCE.format(texts[i]) for i in missing]
    analysed = _batch_analyse(engine, sentences, entities=["PERSON"])
    for i, sentence, results in zip(missing, sentences, analysed, strict=True):
        text = texts[i]
        offset = sentence.index(text)
        for result in results:
            overlap = min(result.end, offset + len(text)) - max(result.start, offset)
            if result.score >= threshold and overlap / len(text) >= COVERAGE:
                findings[i]["PERSON"] = result.score


def _batch_analyse(engine: Any, texts: list[str], **kwargs: Any) -> Iterator[list[Any]]:
    """Each text's analyzer results, from Presidio's ``BatchAnalyzerEngine`` in chunks of
    ``BATCH_CHUNK`` texts (it returns a whole chunk's results at once)."""
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=engine)
    for first in range(0, len(texts), BATCH_CHUNK):
        yield from batch.analyze_iterator(
            texts[first : first + BATCH_CHUNK], language="en", batch_size=64, **kwargs
        )
