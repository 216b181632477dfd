"""The self-assessment overview's item tables as display text: every cell of a row computed once
in Python, so that the template writes strings instead of resolving a URL, a label, two
dictionary look-ups and a number format per row (about 110 rows at GMSC size, which made the
table most of the page's cost).

Each cell is what the template wrote before: ``{% url 'assessments:item' … %}``, ``|label``,
``kind_labels|get:``, ``short_name|default:name``, ``|score``, ``|floatformat:"-2"`` and
``status_labels|get:``, in the page's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from cityeval.engine.framework import label_text
from cityeval.web.assessments.selectors import ComponentRows, ItemRow
from cityeval.web.evaluations.templatetags.cityeval import percent, score
from cityeval.web.labels import page_language

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

# What ``reverse`` leaves unquoted (the ``pchar`` of RFC 3986), as django.urls.resolvers has it.
_URL_SAFE = "!$&'()*+,;=" + "/~:@"


def item_urls(region: str, cycle: str) -> Callable[[str], str]:
    """The address of an item's page from its code, the same text as
    ``reverse("assessments:item", …)`` with one ``reverse`` for the whole table: the code is the
    last segment, quoted as ``reverse`` quotes it. A code with a ``/`` (which the address cannot
    hold) goes through ``reverse`` itself and fails there as before."""
    probe = "-"
    head, tail = reverse("assessments:item", kwargs={"region": region, "cycle": cycle, "item": probe}).rsplit(
        f"/{probe}/", 1
    )

    def url(code: str) -> str:
        if "/" in code:
            return reverse("assessments:item", kwargs={"region": region, "cycle": cycle, "item": code})
        return f"{head}/{quote(code, safe=_URL_SAFE)}/{tail}"

    return url


# One row of an item table, as the template wrote it (the template keeps the table around it).
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
_NO_OPD = mark_safe('<span class="help">–</span>')
_RAW = '<br><span class="help">{}</span>'


@dataclass(frozen=True)
class TableText:
    """One component's table: its heading, weight and rows (HTML, escaped)."""

    label: str
    weight: str
    rows: list[SafeString]


def _row(
    row: ItemRow, *, url: Callable[[str], str], language: str, select: bool, levels: dict[float, str]
) -> SafeString:
    item, answer, assignment = row.item, row.answer, row.assignment
    percent_unit = item.unit == "percent"
    level, raw = MISSING, ""
    if answer is not None:
        if answer.level is not None:
            # Equal numbers are written alike (see cityeval's ``number``): a page has few levels.
            level = levels.get(answer.level) or levels.setdefault(answer.level, score(answer.level))
        if answer.revision.raw_value is not None:
            raw = format_html(
                _RAW, floatformat(answer.revision.raw_value, "-2") + ("%" if percent_unit else "")
            )
    status = row.status
    return format_html(
        _ROW,
        code=item.code,
        select=format_html(_SELECT, code=item.code) if select else "",
        url=url(item.code),
        label=label_text(item.label, language),
        kind=str(KIND_LABELS.get(item.kind)) + (" (%)" if percent_unit else ""),
        opd=(assignment.opd.short_name or assignment.opd.name) if assignment is not None else _NO_OPD,
        level=level,
        raw=raw,
        evidence=localize(row.evidence),
        badge=BADGES.get(status, "bad"),
        status=str(STATUS_LABELS.get(status)),
    )


def overview_tables(blocks: list[ComponentRows], *, region: str, cycle: str, select: bool) -> list[TableText]:
    """The item tables of the overview in the active language, from ``item_rows``' blocks;
    ``select``: each row starts with the assignment's checkbox."""
    url = item_urls(region, cycle)
    language = page_language()
    levels: dict[float, str] = {}
    return [
        TableText(
            label=label_text(block.component.label, language),
            weight=percent(block.weight),
            rows=[_row(row, url=url, language=language, select=select, levels=levels) for row in block.rows],
        )
        for block in blocks
    ]
