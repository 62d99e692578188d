"""Free text anonymised with presidio-anonymizer: what the analyzer finds becomes <ENTITY>, the rest stays."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas.pii.anonymize import anonymise_texts


def test_personal_data_in_free_text_becomes_entity_placeholders() -> None:
    """E-mail, phone, IBAN and name are replaced; words around them, None and the allow list are kept."""
    shown = anonymise_texts(
        [
            "Hi, this is Anna Weber, call me on +49 30 1234567 or anna.weber@example.org",
            "Refund to DE89370400440532013000 please",
            "Order 12345 arrived broken",
            "Write to support@example.com",
            None,
            "",
        ]
    )
    assert shown == [
        "Hi, this is <PERSON>, call me on <PHONE_NUMBER> or <EMAIL_ADDRESS>",
        "Refund to <IBAN_CODE> please",
        "Order 12345 arrived broken",
        "Write to support@example.com",
        None,
        "",
    ]


WORDS = st.text(alphabet=string.ascii_lowercase + " ,.!?", max_size=40)
LOCAL = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=2, max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    before=WORDS, after=WORDS, local=LOCAL, domain=st.sampled_from(["example.org", "mail.de", "corp.co.uk"])
)
def test_an_email_anywhere_in_a_text_never_survives(before: str, after: str, local: str, domain: str) -> None:
    """Whatever surrounds it, an e-mail address in free text is replaced (as <EMAIL_ADDRESS>, or inside a
    wider <PERSON> the name recognizer saw around it), never passed on."""
    email = f"{local}@{domain}"
    (shown,) = anonymise_texts([f"{before} {email} {after}"])
    assert "@" not in shown, shown
    assert "<EMAIL_ADDRESS>" in shown or "<PERSON>" in shown
