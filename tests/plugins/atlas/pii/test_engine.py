"""The phone recognizer of the analyzer: Presidio's, run only on the digit runs ``phone.min_digits`` long."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from atlas.exceptions import AtlasError
from atlas.pii.engine import DEFAULT_PII_FILE, PhoneSettings, _screened_phone_recognizer, load_settings

REGIONS = ["DE", "FR", "NL", "GB", "US", "ES", "IT"]
SCREENED = _screened_phone_recognizer(PhoneSettings(regions=REGIONS, min_digits=7))
PRESIDIO = PhoneRecognizer(supported_regions=tuple(REGIONS))


def spans(recognizer: PhoneRecognizer, text: str) -> set[tuple[int, int]]:
    return {(r.start, r.end) for r in recognizer.analyze(text, ["PHONE_NUMBER"])}


def digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


NUMBERS = st.sampled_from(
    ["+49 30 1234567", "030 1234567", "(030) 123-4567", "+44 20 7946 0958", "020 7946 0958", "0171/1234567",
     "+1 212-555-0100", "06 12345678", "+33 6 12 34 56 78", "12345", "ORD-2026-004711", "1.234,56"]
)  # fmt: skip
WORDS = st.text(alphabet=string.ascii_letters + " ,.:", max_size=30)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.tuples(WORDS, NUMBERS), min_size=1, max_size=3), tail=WORDS)
def test_the_screened_recognizer_finds_what_presidios_finds(parts: list[tuple[str, str]], tail: str) -> None:
    """In any text, every number of 7 or more digits Presidio's recognizer finds is found at the same
    place, and nothing else is; shorter ones (order numbers, amounts) are not read."""
    text = "".join(f"{words} {number} " for words, number in parts) + tail
    expected = {(s, e) for s, e in spans(PRESIDIO, text) if digits(text[s:e]) >= 7}
    assert spans(SCREENED, text) == expected, text


def test_order_numbers_are_no_longer_parsed_as_phone_numbers() -> None:
    text = "order 16864 arrived, call 030 1234567"
    assert (6, 11) in spans(PRESIDIO, text)  # Presidio's, at its 0.4, holds 16864 a German number
    assert spans(SCREENED, text) == {(26, 37)}


def test_phone_settings_are_validated(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PII_FILE.read_text())
    path = tmp_path / "pii.yaml"
    path.write_text(yaml.safe_dump(data | {"phone": {"regions": ["DE", "XX"]}}))
    with pytest.raises(
        AtlasError, match=r"phone\.regions = \['DE', 'XX'\]: .*\['XX'\] are not libphonenumber regions"
    ):
        load_settings(path)
    path.write_text(yaml.safe_dump(data | {"phone": {"min_digits": 0}}))
    with pytest.raises(AtlasError, match=r"phone\.min_digits = 0"):
        load_settings(path)
    assert load_settings().phone == PhoneSettings(regions=REGIONS, min_digits=7)
