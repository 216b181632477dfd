"""Labels in the page's language: the web's wrapper and the ``label`` template filter use the
engine's one rule with the active language."""

import pytest
from django.template import Context, Template
from django.utils import translation

from cityeval.engine.framework import Label
from cityeval.web.labels import page_label, page_language

LABEL = Label(id="Tata kelola", en="Governance")


@pytest.mark.parametrize(
    ("active", "language", "text"),
    [("id", "id", "Tata kelola"), ("en", "en", "Governance"), ("en-us", "en", "Governance")],
)
def test_the_page_reads_the_side_of_its_language(active, language, text):
    with translation.override(active):
        assert page_language() == language
        assert page_label(LABEL) == text
        rendered = Template("{% load cityeval %}{{ value|label }}").render(Context({"value": LABEL}))
        assert rendered == text


def test_the_filter_shows_nothing_for_no_label_and_text_as_it_is():
    template = Template("{% load cityeval %}[{{ none|label }}][{{ text|label }}]")
    assert template.render(Context({"none": None, "text": "plain"})) == "[][plain]"
