"""Template filters of the panel pages."""

from __future__ import annotations

import html
from collections.abc import Callable

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, linebreaksbr, lower
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in django-stubs
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityeval.web.evaluations.templatetags.cityeval import label, score
from cityeval.web.listing import slug_links
from cityeval.web.panels.scoresheet import Mark

register = template.Library()


@register.filter
def mark(value: Mark) -> SafeString:
    """One assessor's mark of an item as the scoring page shows it: the counted score, the
    first mark and the reason of a revision after discussion, the note, and whether a
    conflict of interest leaves it out. A filter rather than an included template: the page
    of a submitted panel shows several hundred marks (hence plain escaping rather than
    ``format_html``, with the same output)."""
    counted = value.counted
    parts = ["<strong>", _escape(score(counted.score)), "</strong>"]
    if value.revised:
        first = value.first
        parts += [
            ' <span class="help revision">(',
            f"{_escape(_('first mark'))} {_escape(score(first.score))} · " if first else "",
            _escape(_("after discussion")),
            ": ",
            _escape(value.revised.reason),
            ")</span>",
        ]
    if counted.note:
        parts += [' <span class="help">', _escape(counted.note), "</span>"]
    if value.excluded:
        parts += [' <span class="badge warn">', _escape(_("does not count: conflict of interest")), "</span>"]
    parts.append("\n")
    # Every text part above is escaped.
    return mark_safe("".join(parts))


def _escape(text: str) -> str:
    """What ``conditional_escape`` gives for plain text, without its lazy-text wrapper."""
    return html.escape(str(text))


# --- the rows of the scoring page's item tables ---------------------------------------------------
#
# Each ``<tr>`` is written in Python rather than by the template engine (a page holds ~110 rows
# of ~60 template nodes each), exactly as the template wrote it (whitespace included): every
# value goes through ``conditional_escape`` as a ``{{ }}`` would, and the constant texts are
# translated once. A row is the start written by :func:`region_cells_html` (the same for every
# viewer, kept by ``scoring_cache``) and the rest written by :class:`_RowWriter` per request.


def region_cells_html(rows) -> dict[str, str]:
    """Per item code, its row up to the cell of the marks: the item with its level descriptors,
    the region's self-assessment with its evidence, the proposal with the survey's flags (``rows``:
    ``scoring_cache.RegionRow``), in the current language."""
    text = {
        "levels": _("What each level means"),
        "guidance": _("cityeval's guidance, not the ministry's."),
        "claimed": _("Claimed level"),
        "value": _("value"),
        "not_answered": _("Not answered"),
        "no_evidence": _("No evidence"),
    }
    out = {}
    for row in rows:
        code = conditional_escape(row.item.code)
        parts = [
            f'\n  <tr id="item-{code}">\n    <td>',
            conditional_escape(label(row.item.label)),
            f'<br><code class="help">{code}</code>\n      ',
        ]
        if levels := row.descriptors:
            parts += [
                '<details class="levels"><summary>',
                text["levels"],
                '</summary>\n        <p class="help">',
                text["guidance"],
                "</p>",
                conditional_escape(levels),
                "</details>",
            ]
        parts += ['</td>\n    <td class="self">', _self_assessment(row, text), '</td>\n    <td class="num">']
        parts.append(conditional_escape(score(row.proposal)))
        if row.survey_flags:
            parts.append('<ul class="help survey-flags">')
            parts += [
                f'<li><span class="badge warn">{conditional_escape(flag)}</span></li>'
                for flag in row.survey_flags
            ]
            parts.append("</ul>")
        parts.append("</td>\n    <td>")
        out[row.item.code] = "".join(parts)
    return out


def _self_assessment(row, text: dict[str, str]) -> str:
    parts = []
    if row.answer:
        level = row.answer.level
        parts += [
            "\n      <div>",
            text["claimed"],
            ": <strong>",
            conditional_escape(score(level)) if level is not None else "–",
            "</strong>\n        ",
        ]
        raw = row.answer.revision.raw_value
        if raw is not None:
            percent = "%" if row.item.unit == "percent" else ""
            parts.append(f'<span class="help">({text["value"]} {floatformat(raw, "-2")}{percent})</span>')
        parts.append("</div>\n      ")
        if narrative := row.answer.revision.narrative:
            parts.append(f"<div>{linebreaksbr(narrative, autoescape=True)}</div>")
        parts.append("\n      ")
    else:
        parts += ['<span class="gap">', text["not_answered"], "</span>"]
    parts.append("\n      ")
    if row.evidence:
        parts.append('<ul class="evidence">')
        for e in row.evidence:
            url: str
            if e.blob_id is not None:
                url = conditional_escape(
                    reverse("assessments:evidence_download", kwargs={"evidence": e.public_id})
                )
                link = f'<a href="{url}">{conditional_escape(e.original_name)}</a>'
            else:
                url = conditional_escape(e.url)
                link = f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>'
            parts.append(f'<li class="wrap">{link}</li>')
        parts.append("</ul>\n      ")
    else:
        parts += ['<div class="help">', text["no_evidence"], "</div>"]
    return "".join(parts)


def score_inputs_html(score_bf, note_bf, value, text: dict[str, str]) -> str:
    """A member's score and note inputs for one item, with their errors and labels: ``value``
    writes a value as ``{{ }}`` does."""
    return "".join(
        [
            value(score_bf.errors),
            f'<label class="sr-only" for="{value(score_bf.id_for_label)}">',
            text["score"],
            "</label>",
            value(score_bf),
            f'\n        <label class="sr-only" for="{value(note_bf.id_for_label)}">',
            text["note"],
            "</label>",
            value(note_bf),
        ]
    )


class _RowWriter:
    """The viewer's part of each row of the scoring page (their marks or score inputs, the
    other members' marks, the evidence request), after the region's cells.

    Reads from the page's context: ``sheet`` (``scoring_views.ScoringSheet``), ``access``,
    ``can_mark_first``, ``can_score``, ``can_revise``, ``revision`` (a bound
    :class:`~cityeval.web.panels.forms.RevisionForm` or None), ``revise_url``,
    ``evidence_request_url``, ``framework``, ``scores_form`` and ``csrf_token``.
    """

    def __init__(self, context: template.Context) -> None:
        self.context = context
        self.sheet = context["sheet"]
        access = context["access"]
        self.member = access.member is not None
        self.others_column = access.sees_all_scores and self.member
        self.can_mark_first = bool(context.get("can_mark_first"))
        self.can_score = bool(context.get("can_score"))
        self.can_revise = bool(context.get("can_revise"))
        revision = context.get("revision")
        self.revision = revision
        self.revision_item = revision.data.get("item") if revision else None
        csrf = CsrfTokenNode().render(context)
        revise_url = self.value(context.get("revise_url"))
        evidence_request_url = self.value(context.get("evidence_request_url"))
        form_id = self.value(context["scores_form"].FORM_ID) if self.can_mark_first else ""
        scale = context["framework"].scale
        scale_min, scale_max = self.value(scale.min), self.value(scale.max)
        self.text = {"score": _("Score"), "note": _("Note")}
        self._revisions_text: dict[int, str] = {}
        # The revision form of a row around its item code and its errors.
        self.revise_head = ("".join(['<details class="revise"']), "><summary>" + _("Revise after discussion"))
        self.revise_form = (
            f'</summary>\n        <form method="post" action="{revise_url}">{csrf}'
            '\n        <input type="hidden" name="item" value="',
            '">\n        ',
            "\n        <label>"
            + _("Revised score")
            + f' <input type="number" name="score" min="{scale_min}" max="{scale_max}"'
            ' step="any" required></label>\n        <label>'
            + _("Reason")
            + ' <input type="text" name="reason" maxlength="5000" required></label>'
            '\n        <button type="submit" class="secondary">'
            + _("Record the revision")
            + "</button></form></details>",
        )
        needs_badge = '<span class="badge warn">' + _("needs evidence") + "</span>"
        unmark, needs = _("Unmark"), _("Needs evidence")
        if self.can_mark_first:
            button = (
                f'<button type="submit" class="link" form="{form_id}" name="evidence_item" value="',
                '">',
                "</button>\n      ",
            )
        elif self.can_score:
            button = (
                f'<form method="post" action="{evidence_request_url}">{csrf}'
                '\n        <input type="hidden" name="item" value="',
                '">\n        <button type="submit" class="link">',
                "</button></form>",
            )
        else:
            button = None
        self.request_cell = {
            True: (needs_badge + "\n      ", unmark),
            False: ("\n      ", needs),
        }
        self.button = button

    def value(self, value) -> str:
        """What ``{{ value }}`` writes."""
        return render_value_in_context(value, self.context)

    def rows(self, codes) -> SafeString:
        return mark_safe("".join([self.row(code) for code in codes]))

    def row(self, item: str) -> str:
        sheet = self.sheet
        code = conditional_escape(item)
        marks = sheet.marks.get(item, {})
        parts = [sheet.region.html[item], self._marks(item, code, marks), "</td>\n    "]
        if self.others_column:
            parts += ["<td>", self._others(marks), "</td>"]
        parts += ["\n    <td>", self._evidence_request(item, code), "</td>\n  </tr>"]
        return "".join(parts)

    def _marks(self, item: str, code: str, marks) -> str:
        """The viewer's own marks (a member), or everyone's (the coordinator)."""
        if not self.member:
            return self._others(marks)
        mine = marks.get(self.sheet.viewer_id)
        parts = ["\n      "]
        if self.can_mark_first:
            parts += [self.sheet.score_inputs(item, mine), "\n      "]
        else:
            parts.append(mine.html if mine else "–")
        parts.append("\n      ")
        if mine:
            n = mine.revisions
            text = self._revisions_text.get(n)
            if text is None:
                text = ngettext("%(n)s revision", "%(n)s revisions", n) % {"n": self.value(n)}
                self._revisions_text[n] = text
            parts += ['<div class="help">', text, "</div>"]
        parts.append("\n      ")
        if self.can_revise:
            parts.append(self._revise_form(item, code))
        parts.append("\n    ")
        return "".join(parts)

    def _revise_form(self, item: str, code: str) -> str:
        revision = self.revision
        chosen = bool(revision) and self.revision_item == item
        errors = ""
        if chosen and revision is not None:
            errors = (
                self.value(revision.non_field_errors())
                + self.value(revision["score"].errors)
                + self.value(revision["reason"].errors)
            )
        head, summary = self.revise_head
        before_code, after_code, tail = self.revise_form
        return "".join(
            [head, " open" if chosen else "", summary, before_code, code, after_code, errors, tail]
        )

    def _others(self, marks) -> str:
        sheet = self.sheet
        viewer = sheet.viewer_id
        items = [
            f"<li>{name}: {marks[uid].html}</li>"
            for uid, name in sheet.assessors
            if uid in marks and uid != viewer
        ]
        return '<ul class="scores">' + ("".join(items) or "<li>–</li>") + "</ul>"

    def _evidence_request(self, item: str, code: str) -> str:
        head, text = self.request_cell[item in self.sheet.requested]
        if self.button is None:
            return head
        before, middle, after = self.button
        return "".join([head, before, code, middle, text, after])


_ROW_WRITER = "cityeval.panels.row_writer"  # the page's writer, in its render context


def _row_writer(context: template.Context) -> _RowWriter:
    writer = context.render_context.get(_ROW_WRITER)
    if writer is None or writer.context is not context:
        writer = context.render_context[_ROW_WRITER] = _RowWriter(context)
    return writer


@register.simple_tag(takes_context=True)
def scoring_rows(context: template.Context, rows) -> SafeString:
    """``{% scoring_rows block.rows %}``: the rows (item codes) of one component's item table on
    the scoring page. See :class:`_RowWriter` (one for the page's tables)."""
    return _row_writer(context).rows(rows)


@register.simple_tag(takes_context=True)
def scoring_tables(context: template.Context, blocks) -> SafeString:
    """``{% scoring_tables blocks %}``: the scoring page's item tables, one per component (its
    heading, the frame of ``{% tablewrap %}``, the head, the rows of :func:`scoring_rows`),
    written as the template's loop over the blocks wrote them; the head once for all."""
    access = context["access"]
    member = access.member is not None

    def th(text: str, attrs: str = "") -> str:
        return f"<th{attrs}>{conditional_escape(text)}</th>"

    head = "".join(
        [
            '<table class="scoring">\n  <thead><tr>',
            th(_("Item")),
            th(_("Self-assessment")),
            th(_("Proposal"), ' class="num"'),
            "\n    ",
            th(_("My score") if member else _("Scores")),
            "\n    ",
            th(_("Other members")) if access.sees_all_scores and member else "",
            "\n    ",
            th(_("Evidence request")),
            "</tr></thead>\n  <tbody>",
        ]
    )
    writer = _row_writer(context)
    parts = []
    for block in blocks:
        name = label(block["component"].label)
        parts += [
            f"\n<h3>{conditional_escape(name)}</h3>\n",
            format_html('<div class="table-wrap" tabindex="0" role="region" aria-label="{}">', name),
            head,
            writer.rows(block["rows"]),
            "</tbody>\n</table></div>\n",
        ]
    return mark_safe("".join(parts))


# --- the rows of "my panels" -------------------------------------------------------------------


def _values_writer(context: template.Context) -> Callable[[object], str]:
    """``value(v)``: what ``{{ v }}`` writes, once per value (on "my panels" the counts,
    panel names and stages repeat from row to row)."""
    written: dict[tuple[type, object], str] = {}

    def value(value: object) -> str:
        key = (type(value), value)
        text = written.get(key)
        if text is None:
            text = written[key] = render_value_in_context(value, context)
        return text

    return value


def _region_addresses() -> Callable[[str, str, str], str]:
    """``address(cycle, stage, region)``: a region's scoring page, reversed once per cycle and
    stage (``listing.slug_links``)."""
    links: dict[tuple[str, str], Callable[[str], str]] = {}

    def address(cycle: str, stage: str, region: str) -> str:
        link = links.get((cycle, stage))
        if link is None:
            link = links[cycle, stage] = slug_links("panels:region", slug="region", cycle=cycle, stage=stage)
        return link(region)

    return address


@register.simple_tag(takes_context=True)
def my_panel_rows(context: template.Context, rows) -> SafeString:
    """``{% my_panel_rows rows %}``: the rows (``(MyPanelRegion, Stage or None, items still to
    score)``) of the assessor's table on "my panels", written in Python as the template wrote
    them (~100 rows of ~40 nodes each); what is the same for a cycle or a stage is written once."""

    value = _values_writer(context)

    def date_of(value, format_name: str) -> str:
        """What ``{{ value|date:format_name }}`` writes."""
        return conditional_escape(date_filter(template_localtime(value, context.use_tz), format_name))

    chair = _("chair")
    submitted_badge = _("Submitted")
    not_submitted = _("not submitted")
    not_submitted_badge = _("Not submitted")
    cycles: dict[int, tuple[str, bool, str]] = {}  # name, closed, the badge of a closed cycle
    dues: dict[tuple[int, str], str] = {}
    address = _region_addresses()
    parts = []
    for row, stage, to_score in rows:
        pr = row.panel_region
        participation = pr.participation
        cycle = participation.cycle
        if cycle.pk not in cycles:
            closed = cycle.status == "closed" or cycle.status == "published"
            badge = _("Not submitted; cycle %(status)s") % {
                "status": value(lower(cycle.get_status_display()))
            }
            cycles[cycle.pk] = (value(cycle.name), closed, badge)
        cycle_name, closed, closed_badge = cycles[cycle.pk]
        url = conditional_escape(address(cycle.slug, pr.stage, participation.region.slug))
        parts += [
            f'\n  <tr><td><a href="{url}">{value(participation.region.name)}</a></td>',
            f"\n    <td>{cycle_name}</td><td>{value(pr.get_stage_display())}</td>",
            f"\n    <td>{value(pr.panel.name)}",
            f' <span class="badge">{chair}</span>' if row.member.is_chair else "",
            f'</td>\n    <td class="num">{value(row.scored)} / {value(row.expected)}</td>',
            f'\n    <td class="num">{"–" if row.submitted else value(to_score)}</td>\n    <td>',
        ]
        if participation.submitted_at:
            when = date_of(participation.submitted_at, "SHORT_DATE_FORMAT")
            parts.append(_("submitted on %(when)s") % {"when": when})
        else:
            parts.append(not_submitted)
        parts.append("</td>\n    <td>")
        if row.submitted or closed:
            parts.append("–")
        else:
            key = (cycle.pk, pr.stage)
            if key not in dues:
                if stage is not None and stage.deadline:
                    dues[key] = date_of(stage.deadline, "DATETIME_FORMAT")
                elif stage:
                    dues[key] = date_of(stage.ends_on, "DATE_FORMAT")
                else:
                    dues[key] = "–"
            parts.append(dues[key])
        parts.append("</td>\n    <td>")
        if row.submitted:
            parts.append(f'<span class="badge ok">{submitted_badge}</span>\n      ')
        elif closed:
            parts.append(f'<span class="badge">{closed_badge}</span>\n      ')
        else:
            parts.append(f'<span class="badge warn">{not_submitted_badge}</span>')
        parts.append("</td></tr>\n  ")
    return mark_safe("".join(parts))
