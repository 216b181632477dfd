"""The one rule for a label's language (``engine.framework.label_text``)."""

import pytest

from cityeval.engine.framework import Label, label_text

LABEL = Label(id="Tata kelola", en="Governance")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Governance"),
        ("en-us", "Governance"),
        ("EN-GB", "Governance"),
        ("id", "Tata kelola"),
        ("fr", "Tata kelola"),
        ("", "Tata kelola"),
    ],
)
def test_english_reads_english_and_anything_else_indonesian(language, expected):
    """Bahasa Indonesia is the platform's first language: only an English page reads ``en``."""
    assert label_text(LABEL, language) == expected
