"""A framework label in the language of the page being drawn: the web's one wrapper around the
engine's rule (:func:`cityeval.engine.framework.label_text`), with the request's language."""

from __future__ import annotations

from django.utils.translation import get_language

from cityeval.engine.framework import Label, label_text


def page_language() -> str:
    """``en`` or ``id``: which side of a label the current request reads (Indonesian unless the
    active language is English)."""
    return "en" if (get_language() or "id")[:2].lower() == "en" else "id"


def page_label(label: Label) -> str:
    """The label's text in the page's language."""
    return label_text(label, page_language())
