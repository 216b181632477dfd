"""Template filters of the results pages: signed improvements and score bars."""

from __future__ import annotations

from django import template

from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.planner import may_plan
from cityeval.web.results.trends import may_see_trends

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


@register.simple_tag(takes_context=True)
def planner_allowed(context, region_id: int) -> bool:
    """Whether the page's user may open the region's planner (for the link to it)."""
    request, access = context.get("request"), context.get("access")
    if request is None or access is None:
        return False
    return may_plan(request.user, access, region_id)


@register.simple_tag(takes_context=True)
def trends_allowed(context, region_id: int) -> bool:
    """Whether the page's user may open the region's results over the years (for the link)."""
    request = context.get("request")
    return request is not None and may_see_trends(request.user, region_id)
