"""Template filters of the panel pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cityeval.web.evaluations.templatetags.cityeval import score
from cityeval.web.panels.scoresheet import Mark

register = template.Library()


@register.filter
def mark(value: Mark) -> SafeString:
    """One assessor's mark of an item as the scoring page shows it: the counted score, the
    first mark and the reason of a revision after discussion, the note, and whether a
    conflict of interest leaves it out. A filter rather than an included template: the page
    of a submitted panel shows several hundred marks."""
    parts = [format_html("<strong>{}</strong>", score(value.score))]
    if value.revised:
        first = format_html("{} {} · ", _("first mark"), score(value.first.score)) if value.first else ""
        parts.append(
            format_html(
                ' <span class="help revision">({}{}: {})</span>',
                first,
                _("after discussion"),
                value.revised.reason,
            )
        )
    if value.note:
        parts.append(format_html(' <span class="help">{}</span>', value.note))
    if value.excluded:
        parts.append(
            format_html(' <span class="badge warn">{}</span>', _("does not count: conflict of interest"))
        )
    # Every part went through format_html, which escapes what it is given.
    return mark_safe("".join(parts) + "\n")
