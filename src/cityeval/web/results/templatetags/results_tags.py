"""Template filters of the results pages: signed improvements, score bars, rank intervals."""

from __future__ import annotations

import datetime as dt
import html
import re

from django import template
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.intervals import NationalIntervals, national_intervals
from cityeval.web.results.planner import may_plan
from cityeval.web.results.trends import may_see_trends

register = template.Library()


@register.filter
def signed(value, places: int = 2) -> str:
    """An improvement for reading: ``+0.15``, ``-0.26``, ``–`` when there is none."""
    return number(value, places, signed=True)


@register.filter
def iso_date(value) -> str:
    """A date kept as ISO text (a follow-up action's history: ``2026-12-08``) in the page's date
    format (``8 Des 2026``); anything else as it is."""
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return date_format(day, "DATE_FORMAT")


@register.filter
def share(value, scale_max) -> str:
    """A score as a percentage of the scale, for the width of a bar (``37.5``)."""
    if value is None or not scale_max:
        return "0"
    return f"{max(0.0, min(100.0, 100 * float(value) / float(scale_max))):.1f}"


@register.filter
def breakable(code: str) -> SafeString:
    """An item code that may break after its dots and underscores, not mid-word, where a narrow
    column needs it (``output.opd_<wbr>involvement``)."""
    return mark_safe(re.sub(r"([._])", r"\1<wbr>", str(escape(code))))  # safe: escaped first


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


@register.simple_tag(takes_context=True)
def rank_intervals(context) -> NationalIntervals | None:
    """The page's run's rank intervals and tied blocks (``intervals.national_intervals``: two
    queries, whatever the number of regions), for :func:`rank_cell` and the legend."""
    access = context.get("access")
    if access is None or access.run is None:
        return None
    return national_intervals(access)


def _text(value: object) -> str:
    return html.escape(str(value))


@register.simple_tag
def rank_cell(intervals: NationalIntervals | None, result) -> SafeString:
    """The national table's rank cell: "32 (25–38)" with the rank's interval where there is
    one, the tied block's mark, every other block shaded; the rank alone otherwise."""
    rank = "–" if result.rank_national is None else str(result.rank_national)
    found = intervals.get(result.region_id) if intervals is not None else None
    # Written with html.escape rather than format_html (the same text): a table of 50 rows
    # calls this 50 times.
    if found is None or found.low is None or found.high is None:
        return mark_safe(f'<td class="num">{_text(rank)}</td>')  # safe: escaped
    if found.block is None:
        return mark_safe(  # safe: every value escaped
            f'<td class="num rank-interval">{_text(rank)} ({_text(found.low)}–{_text(found.high)})</td>'
        )
    label = _text(_("Tied block %(block)d: their rank intervals overlap") % {"block": found.block})
    block = _text(found.block)
    return mark_safe(  # safe: every value escaped
        f'<td class="num rank-interval tied{" shaded" if found.shaded else ""}" data-block="{block}">'
        f"{_text(rank)} ({_text(found.low)}–{_text(found.high)}) "
        f'<span class="tied-mark" title="{label}"><span aria-hidden="true">≈{block}</span>'
        f'<span class="sr-only">{label}</span></span></td>'
    )
