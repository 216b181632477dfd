"""The self-assessment overview's item tables: each row's HTML written once in Python, so that
the template writes one string per row instead of resolving a URL, a label, two dictionary
look-ups, a number format and a dozen variables per row (about 110 rows at GMSC size, which
made the table most of the page's cost). The template keeps the headings and the table around
the rows.

Each cell is the text the template wrote before, from the same functions:
``{% url 'assessments:item' … %}`` (:func:`item_urls`), ``|label``, ``kind_labels|get:``,
``short_name|default:name``, ``|score``, ``|floatformat:"-2"`` and ``status_labels|get:``, in
the page's language, escaped as the template escaped it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from django.template.defaultfilters import floatformat
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from cityeval.engine.framework import label_text
from cityeval.web.assessments.selectors import ComponentRows, ItemRow
from cityeval.web.evaluations.templatetags.cityeval import percent, score
from cityeval.web.labels import page_language
from cityeval.web.listing import slug_links

KIND_LABELS = {
    "level": gettext_lazy("Level"),
    "quantity": gettext_lazy("Quantity"),
    "survey": gettext_lazy("Survey"),
}
STATUS_LABELS = {
    "missing": gettext_lazy("Not answered"),
    "no_evidence": gettext_lazy("Answered, no evidence"),
    "answered": gettext_lazy("Answered"),
}
BADGES = {"answered": "ok", "no_evidence": "warn"}  # any other status: "bad"
MISSING = "–"

# What the ``<str:item>`` converter takes: any text but a slash, not empty.
_ITEM_CODE = re.compile(r"[^/]+")


def item_urls(region: str, cycle: str) -> Callable[[str], str]:
    """The address of an item's page from its code, the same text as
    ``reverse("assessments:item", …)`` with one ``reverse`` for the whole table
    (:func:`~cityeval.web.listing.slug_links`). A code with a ``/`` (which the address cannot
    hold), or an empty one, goes through ``reverse`` itself and fails there as before."""
    return slug_links("assessments:item", slug="item", fits=_ITEM_CODE, region=region, cycle=cycle)


# One row of an item table, as the template wrote it (the template keeps the table around it).
# Every value is escaped as the template escaped it (``html.escape``, which Django's ``escape``
# applies), except the raw value: ``floatformat``'s output is marked safe, as in the template.
_ROW = (
    '\n  <tr id="item-{code}">\n    {select}\n'
    '    <td><a href="{url}">{label}</a><br><code class="help">{code}</code></td>\n'
    "    <td>{kind}</td>\n"
    "    <td>{opd}</td>\n"
    '    <td class="num">{level}{raw}</td>\n'
    '    <td class="num">{evidence}</td>\n'
    '    <td><span class="badge {badge}">{status}</span></td>\n'
    "  </tr>"
)
_SELECT = '<td><input type="checkbox" name="items" value="{code}" aria-label="{code}"></td>'
_NO_OPD = '<span class="help">–</span>'
_RAW = '<br><span class="help">{}</span>'


@dataclass(frozen=True)
class TableText:
    """One component's table: its heading, weight and rows (HTML, escaped)."""

    label: str
    weight: str
    rows: list[SafeString]

    @property
    def body(self) -> SafeString:
        """The rows as one piece of HTML: the template writes it once rather than a variable a
        row (about 110 of them)."""
        return mark_safe("".join(self.rows))  # each row is escaped HTML already


class _RowWriter:
    """Writes the rows of one page. What repeats from row to row (the address's start, the
    language, the texts of a level, a count, a kind or a status) is worked out once: equal
    values are written alike (see cityeval's ``number``)."""

    def __init__(self, *, region: str, cycle: str, select: bool) -> None:
        self.url = item_urls(region, cycle)
        self.language = page_language()
        self.select = select
        self.texts: dict[tuple[str, object], str] = {}

    def _once(self, kind: str, value, write: Callable[[Any], object]) -> str:
        found = self.texts.get((kind, value))
        if found is None:
            found = self.texts[(kind, value)] = escape(str(write(value)))
        return found

    def row(self, row: ItemRow) -> SafeString:
        item, answer, assignment = row.item, row.answer, row.assignment
        percent_unit = item.unit == "percent"
        level, raw = MISSING, ""
        if answer is not None:
            if answer.level is not None:
                level = self._once("level", answer.level, score)
            if answer.revision.raw_value is not None:
                raw = _RAW.format(
                    floatformat(answer.revision.raw_value, "-2") + ("%" if percent_unit else "")
                )
        status = row.status
        code = escape(item.code)
        return mark_safe(  # every value above is escaped
            _ROW.format(
                code=code,
                select=_SELECT.format(code=code) if self.select else "",
                url=escape(self.url(item.code)),
                label=escape(label_text(item.label, self.language)),
                kind=self._once("kind", item.kind, KIND_LABELS.get) + (" (%)" if percent_unit else ""),
                opd=escape(assignment.opd.short_name or assignment.opd.name)
                if assignment is not None
                else _NO_OPD,
                level=level,
                raw=raw,
                evidence=self._once("count", row.evidence, localize),
                badge=BADGES.get(status, "bad"),
                status=self._once("status", status, STATUS_LABELS.get),
            )
        )


def overview_tables(blocks: list[ComponentRows], *, region: str, cycle: str, select: bool) -> list[TableText]:
    """The item tables of the overview in the active language, from ``item_rows``' blocks;
    ``select``: each row starts with the assignment's checkbox."""
    writer = _RowWriter(region=region, cycle=cycle, select=select)
    return [
        TableText(
            label=label_text(block.component.label, writer.language),
            weight=percent(block.weight),
            rows=[writer.row(row) for row in block.rows],
        )
        for block in blocks
    ]
