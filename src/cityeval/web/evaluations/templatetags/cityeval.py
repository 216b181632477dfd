"""Template filters: framework labels in the current language, scores for reading."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def label(value) -> str:
    """A framework label (``id``/``en``) in the page's language, Indonesian first."""
    if value is None:
        return ""
    language = (get_language() or "id")[:2]
    return getattr(value, "en" if language == "en" else "id", str(value))


@register.filter
def score(value, places: int = 2) -> str:
    """Presentation rounding: the engine never rounds, pages do (2 decimals for GMSC)."""
    if value is None or value == "":
        return "–"
    return f"{float(value):.{int(places)}f}"


@register.filter
def percent(value) -> str:
    if value is None:
        return "–"
    return f"{float(value):.0%}"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
