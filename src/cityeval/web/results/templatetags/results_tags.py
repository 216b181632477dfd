"""Template filters of the results pages: signed improvements and score bars."""

from __future__ import annotations

from django import template

from cityeval.web.evaluations.templatetags.cityeval import number

register = template.Library()


@register.filter
def signed(value, places: int = 2) -> str:
    """An improvement for reading: ``+0.15``, ``-0.26``, ``–`` when there is none."""
    return number(value, places, signed=True)


@register.filter
def share(value, scale_max) -> str:
    """A score as a percentage of the scale, for the width of a bar (``37.5``)."""
    if value is None or not scale_max:
        return "0"
    return f"{max(0.0, min(100.0, 100 * float(value) / float(scale_max))):.1f}"
