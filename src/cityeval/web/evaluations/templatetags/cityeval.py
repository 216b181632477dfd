"""Template filters: framework labels in the current language, scores for reading."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

from django import template
from django.utils.formats import get_format
from django.utils.html import format_html

from cityeval.engine.framework import Label
from cityeval.engine.numbers import format_number
from cityeval.web.labels import page_label

register = template.Library()


@register.filter
def label(value: Label | None) -> str:
    """A framework label (``id``/``en``) in the page's language, Indonesian first."""
    if value is None:
        return ""
    return page_label(value) if isinstance(value, Label) else str(value)


def decimal_mark() -> str:
    """The decimal mark of the page's language (``,`` in Indonesian, ``.`` in English): for the
    numbers of tables and the axis labels of charts alike."""
    return str(get_format("DECIMAL_SEPARATOR"))


def number(value, places: int = 2, *, signed: bool = False) -> str:
    """A number for reading on a page: rounded half up as the ministry's letters print it
    (:mod:`cityeval.engine.numbers`), with the decimal mark of the page's language (``2,13`` in
    Indonesian, ``2.13`` in English)."""
    if value is None or value == "":
        return "–"
    if not isinstance(value, int | float | Decimal):
        value = float(value)
    mark = decimal_mark()
    if isinstance(value, Decimal) and not value.is_finite():  # a signalling NaN has no hash
        return format_number(value, int(places), signed=signed, decimal_mark=mark)
    return _formatted(value, int(places), signed, mark)


def number_formatter() -> Callable[..., str]:
    """:func:`number` for the many numbers of one table: the page's decimal mark read once
    (reading it is most of the cost of a number); the same text for every value."""
    mark = decimal_mark()

    def formatted(value, places: int = 2, *, signed: bool = False) -> str:
        if isinstance(value, int | float):  # number()'s own path for these, without the lookup
            return _formatted(value, int(places), signed, mark)
        return number(value, places, signed=signed)

    return formatted


@lru_cache(maxsize=4096)
def _formatted(value: float | int | Decimal, places: int, signed: bool, decimal_mark: str) -> str:
    """:func:`format_number`, remembered: a page writes the same scores many times (a pure
    function of its arguments; equal numbers, as 3 and 3.0, are written alike)."""
    return format_number(value, places, signed=signed, decimal_mark=decimal_mark)


@register.filter
def score(value, places: int = 2) -> str:
    """A score, mean or level for reading: the one number format of every page and letter."""
    return number(value, places)


@register.filter
def percent(value) -> str:
    """A fraction as a whole percentage, rounded half up: 0.125 → ``13%``."""
    if value is None or value == "":
        return "–"
    return number(float(value) * 100, 0) + "%"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


class _TableWrapNode(template.Node):
    def __init__(self, name: template.base.FilterExpression, nodelist: template.NodeList) -> None:
        self.name, self.nodelist = name, nodelist

    def render(self, context: template.Context) -> str:
        opening = format_html(
            '<div class="table-wrap" tabindex="0" role="region" aria-label="{}">', self.name.resolve(context)
        )
        return opening + self.nodelist.render(context) + "</div>"


@register.tag
def tablewrap(parser: template.base.Parser, token: template.base.Token) -> _TableWrapNode:
    """``{% tablewrap _("Heading") %}<table>…</table>{% endtablewrap %}``: the frame a table too
    wide for the screen scrolls in. The frame is a named, focusable region in the served HTML, so
    that keyboard users can scroll it without JavaScript; its name is the table's heading."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("tablewrap takes one argument: the table's name")
    nodelist = parser.parse(("endtablewrap",))
    parser.delete_first_token()
    return _TableWrapNode(parser.compile_filter(bits[1]), nodelist)
