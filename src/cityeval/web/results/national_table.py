"""The national table's lines as the page writes them, and its histogram, kept by the process.

Each line is written in two parts: the region's own (its ``<tr>`` with the slug, the link and
the name, read fresh on every request) and the run's (every other cell: final, rank and its
interval, group, province, component scores, improvement, provincial rank, coverage). The
run's part of every region is written once per run, component codes, language, decimal mark
and whether the reader may see the intervals (see :mod:`.kept`), then joined to the page's
50 names; the text is the template's, as the filters ``score``, ``signed``, ``percent`` and
the tag ``rank_cell`` write it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cityeval.web.evaluations.templatetags.cityeval import decimal_mark, number_formatter
from cityeval.web.kept import Kept
from cityeval.web.listing import slug_links
from cityeval.web.results.charts import histogram_svg
from cityeval.web.results.intervals import NationalIntervals
from cityeval.web.results.kept import run_key
from cityeval.web.results.models import ResultRun
from cityeval.web.results.selectors import LINE_COLUMNS, NationalLine, NationalRow
from cityeval.web.results.stored import run_lines
from cityeval.web.results.templatetags.results_tags import rank_cell

CELLS_KEPT = 16  # (run, language, …) entries: about 0.5 MB each for 550 regions
_cells_kept: Kept[Mapping[int, str]] = Kept(CELLS_KEPT)


def _run_cells(run: ResultRun, codes: tuple[str, ...], intervals: NationalIntervals) -> Mapping[int, str]:
    """Each region's line from the end of its name to the end of the row (escaped HTML), by
    region id: from the run's lines alone (the name is not in it)."""
    number = number_formatter()
    did_not_take_part = html.escape(_("did not take part"))
    lines = run_lines(run)
    cells = {}
    for values in zip(*(lines[field] for field in (*LINE_COLUMNS, "components")), strict=True):
        region_id, *rest, scores = values
        line = NationalLine(region_id, "", "", *rest)
        components = "".join(
            f'<td class="num">{html.escape(number(scores.get(code)))}</td>' for code in codes
        )
        badge = "" if line.participant else f' <span class="badge">{did_not_take_part}</span>'
        rank_province = "–" if line.rank_province is None else localize(line.rank_province)
        coverage = "–" if line.coverage is None else number(float(line.coverage) * 100, 0) + "%"
        cells[region_id] = (
            f"</a>{badge}</td>\n"
            f'    <td class="num"><strong>{html.escape(number(line.final))}</strong></td>\n'
            f"    {rank_cell(intervals, line)}\n"
            f"    <td>{html.escape(line.group)}</td><td>{html.escape(line.province)}</td>\n"
            f"    {components}\n"
            f'    <td class="num">{html.escape(number(line.improvement, signed=True))}</td>\n'
            f'    <td class="num">{html.escape(rank_province)}</td>\n'
            f'    <td class="num">{html.escape(coverage)}</td>\n'
            "  </tr>"
        )
    return MappingProxyType(cells)


def table_rows(
    page: Sequence[NationalRow],
    *,
    run: ResultRun,
    codes: tuple[str, ...],
    cycle: str,
    intervals: NationalIntervals,
    readable: bool,
) -> list[SafeString]:
    """The page's lines of the national table, each a ``<tr>`` as the template wrote it.

    ``intervals``: the run's as the reader may see them (:func:`.national_intervals_kept`), and
    ``readable`` whether they may (their rank cells differ)."""
    key = (run_key(run), codes, get_language(), decimal_mark(), readable, run.published_at is not None)
    cells = _cells_kept.get(key, lambda: _run_cells(run, codes, intervals))
    link = slug_links("results:region", slug="region", cycle=cycle)
    lines = []
    for row in page:
        line = row.result
        slug, name = html.escape(line.region_slug), html.escape(line.region_name)
        head = f'\n  <tr id="region-{slug}">\n    <td><a href="{html.escape(link(line.region_slug))}">{name}'
        lines.append(mark_safe(head + cells[line.region_id]))  # safe: every value escaped
    return lines


@lru_cache(maxsize=64)
def histogram(
    finals: tuple[float, ...], *, title: str, scale_min: float, scale_max: float, decimal_mark: str
) -> str:
    """:func:`charts.histogram_svg`, remembered: a pure function of its arguments, asked for
    with the same finals by every request of an unfiltered table."""
    return histogram_svg(
        finals, title=title, scale_min=scale_min, scale_max=scale_max, decimal_mark=decimal_mark
    )
