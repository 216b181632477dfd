"""Template filters of the panel pages."""

from __future__ import annotations

import html

from django import template
from django.template.base import render_value_in_context
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, linebreaksbr, lower
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in django-stubs
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityeval.web.evaluations.templatetags.cityeval import label, score
from cityeval.web.panels.scoresheet import Mark, ScoringRow

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


class _RowWriter:
    """The ``<tr>`` of each item of the scoring page, written in Python rather than by the
    template engine: a page holds ~110 rows of ~60 template nodes each, which took most of the
    page's time. The markup is exactly what the template wrote before (whitespace included);
    every value goes through ``render_value_in_context`` or ``conditional_escape`` as a
    ``{{ }}`` would, and the page's constant texts are translated once, not once per row.

    Reads from the page's context: ``access``, ``can_mark_first``, ``can_score``,
    ``can_revise``, ``revision`` (a bound :class:`~cityeval.web.panels.forms.RevisionForm`
    or None), ``descriptors``, ``revisions``, ``revise_url``, ``evidence_request_url``,
    ``framework``, ``scores_form`` and ``csrf_token``.
    """

    def __init__(self, context: template.Context) -> None:
        self.context = context
        access = context["access"]
        self.member = access.member is not None
        self.others_column = access.sees_all_scores and self.member
        self.can_mark_first = bool(context.get("can_mark_first"))
        self.can_score = bool(context.get("can_score"))
        self.can_revise = bool(context.get("can_revise"))
        revision = context.get("revision")
        self.revision = revision
        self.revision_item = revision.data.get("item") if revision else None
        self.descriptors = context.get("descriptors") or {}
        self.revisions = context.get("revisions") or {}
        self.csrf = CsrfTokenNode().render(context)
        self.revise_url = self.value(context.get("revise_url"))
        self.evidence_request_url = self.value(context.get("evidence_request_url"))
        self.form_id = self.value(context["scores_form"].FORM_ID) if self.can_mark_first else ""
        scale = context["framework"].scale
        self.scale_min, self.scale_max = self.value(scale.min), self.value(scale.max)
        self.text = {
            "levels": _("What each level means"),
            "guidance": _("cityeval's guidance, not the ministry's."),
            "claimed": _("Claimed level"),
            "value": _("value"),
            "not_answered": _("Not answered"),
            "no_evidence": _("No evidence"),
            "score": _("Score"),
            "note": _("Note"),
            "revise": _("Revise after discussion"),
            "revised_score": _("Revised score"),
            "reason": _("Reason"),
            "record": _("Record the revision"),
            "needs_evidence_badge": _("needs evidence"),
            "unmark": _("Unmark"),
            "needs_evidence": _("Needs evidence"),
        }

    def value(self, value) -> str:
        """What ``{{ value }}`` writes."""
        return render_value_in_context(value, self.context)

    def rows(self, rows) -> SafeString:
        return mark_safe("".join(self.row(row, score_bf, note_bf) for row, score_bf, note_bf in rows))

    def row(self, row: ScoringRow, score_bf, note_bf) -> str:
        code = conditional_escape(row.item.code)
        parts = [
            f'\n  <tr id="item-{code}">\n    <td>',
            conditional_escape(label(row.item.label)),
            f'<br><code class="help">{code}</code>\n      ',
        ]
        if levels := self.descriptors.get(row.item.code):
            parts += [
                '<details class="levels"><summary>',
                self.text["levels"],
                '</summary>\n        <p class="help">',
                self.text["guidance"],
                "</p>",
                self.value(levels),
                "</details>",
            ]
        parts += ['</td>\n    <td class="self">', self._self_assessment(row), '</td>\n    <td class="num">']
        parts.append(conditional_escape(score(row.proposal)))
        if row.survey_flags:
            parts.append('<ul class="help survey-flags">')
            parts += [
                f'<li><span class="badge warn">{self.value(flag)}</span></li>' for flag in row.survey_flags
            ]
            parts.append("</ul>")
        parts += ["</td>\n    <td>", self._marks(row, score_bf, note_bf), "</td>\n    "]
        if self.others_column:
            parts += ["<td>", self._others(row), "</td>"]
        parts += ["\n    <td>", self._evidence_request(row, code), "</td>\n  </tr>"]
        return "".join(parts)

    def _self_assessment(self, row: ScoringRow) -> str:
        parts = []
        if row.answer:
            level = row.answer.level
            parts += [
                "\n      <div>",
                self.text["claimed"],
                ": <strong>",
                conditional_escape(score(level)) if level is not None else "–",
                "</strong>\n        ",
            ]
            raw = row.answer.revision.raw_value
            if raw is not None:
                percent = "%" if row.item.unit == "percent" else ""
                parts.append(
                    f'<span class="help">({self.text["value"]} {floatformat(raw, "-2")}{percent})</span>'
                )
            parts.append("</div>\n      ")
            if narrative := row.answer.revision.narrative:
                parts.append(f"<div>{linebreaksbr(narrative, autoescape=True)}</div>")
            parts.append("\n      ")
        else:
            parts += ['<span class="gap">', self.text["not_answered"], "</span>"]
        parts.append("\n      ")
        if row.evidence:
            parts.append('<ul class="evidence">')
            for e in row.evidence:
                url: str
                if e.blob:
                    url = conditional_escape(
                        reverse("assessments:evidence_download", kwargs={"evidence": e.public_id})
                    )
                    link = f'<a href="{url}">{self.value(e.original_name)}</a>'
                else:
                    url = self.value(e.url)
                    link = f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>'
                parts.append(f'<li class="wrap">{link}</li>')
            parts.append("</ul>\n      ")
        else:
            parts += ['<div class="help">', self.text["no_evidence"], "</div>"]
        return "".join(parts)

    def _marks(self, row: ScoringRow, score_bf, note_bf) -> str:
        """The viewer's own marks (a member), or everyone's (the coordinator)."""
        if not self.member:
            return self._others(row)
        parts = ["\n      "]
        if self.can_mark_first:
            parts += [
                self.value(score_bf.errors),
                f'<label class="sr-only" for="{self.value(score_bf.id_for_label)}">',
                self.text["score"],
                "</label>",
                self.value(score_bf),
                f'\n        <label class="sr-only" for="{self.value(note_bf.id_for_label)}">',
                self.text["note"],
                "</label>",
                self.value(note_bf),
                "\n      ",
            ]
        else:
            parts.append(mark(row.mine) if row.mine else "–")
        parts.append("\n      ")
        if row.mine:
            # A member's own mark has at least one revision, counted in ``revisions``.
            n = self.revisions[row.item.code]
            text = ngettext("%(n)s revision", "%(n)s revisions", n) % {"n": self.value(n)}
            parts += ['<div class="help">', text, "</div>"]
        parts.append("\n      ")
        if self.can_revise:
            parts.append(self._revise_form(row))
        parts.append("\n    ")
        return "".join(parts)

    def _revise_form(self, row: ScoringRow) -> str:
        revision = self.revision
        chosen = bool(revision) and self.revision_item == row.item.code
        errors = ""
        if chosen and revision is not None:
            errors = (
                self.value(revision.non_field_errors())
                + self.value(revision["score"].errors)
                + self.value(revision["reason"].errors)
            )
        return "".join(
            [
                '<details class="revise"',
                " open" if chosen else "",
                "><summary>",
                self.text["revise"],
                f'</summary>\n        <form method="post" action="{self.revise_url}">{self.csrf}',
                f'\n        <input type="hidden" name="item" value="{conditional_escape(row.item.code)}">',
                f"\n        {errors}\n        <label>",
                self.text["revised_score"],
                f' <input type="number" name="score" min="{self.scale_min}" max="{self.scale_max}"'
                ' step="any" required></label>\n        <label>',
                self.text["reason"],
                ' <input type="text" name="reason" maxlength="5000" required></label>'
                '\n        <button type="submit" class="secondary">',
                self.text["record"],
                "</button></form></details>",
            ]
        )

    def _others(self, row: ScoringRow) -> str:
        items = [f"<li>{conditional_escape(s.assessor.get_username())}: {mark(s)}</li>" for s in row.others]
        return '<ul class="scores">' + ("".join(items) or "<li>–</li>") + "</ul>"

    def _evidence_request(self, row: ScoringRow, code: str) -> str:
        parts = []
        if row.needs_evidence:
            parts += ['<span class="badge warn">', self.text["needs_evidence_badge"], "</span>"]
        parts.append("\n      ")
        button = self.text["unmark"] if row.needs_evidence else self.text["needs_evidence"]
        if self.can_mark_first:
            parts.append(
                f'<button type="submit" class="link" form="{self.form_id}" name="evidence_item"'
                f' value="{code}">{button}</button>\n      '
            )
        elif self.can_score:
            parts.append(
                f'<form method="post" action="{self.evidence_request_url}">{self.csrf}'
                f'\n        <input type="hidden" name="item" value="{code}">'
                f'\n        <button type="submit" class="link">{button}</button></form>'
            )
        return "".join(parts)


@register.simple_tag(takes_context=True)
def scoring_rows(context: template.Context, rows) -> SafeString:
    """``{% scoring_rows block.rows %}``: the rows (``(ScoringRow, score field, note field)``)
    of one component's item table on the scoring page. See :class:`_RowWriter`."""
    return _RowWriter(context).rows(rows)


# --- the rows of "my panels" -------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def my_panel_rows(context: template.Context, rows) -> SafeString:
    """``{% my_panel_rows rows %}``: the rows (``(MyPanelRegion, Stage or None, items still to
    score)``) of the assessor's table on "my panels", written in Python as the template wrote
    them (~100 rows of ~40 nodes each); what is the same for a cycle or a stage is written once."""

    def value(value) -> str:
        return render_value_in_context(value, context)

    def date_of(value, format_name: str) -> str:
        """What ``{{ value|date:format_name }}`` writes."""
        return conditional_escape(date_filter(template_localtime(value, context.use_tz), format_name))

    chair = _("chair")
    submitted_badge = _("Submitted")
    not_submitted = _("not submitted")
    not_submitted_badge = _("Not submitted")
    cycles: dict[int, tuple[str, bool, str]] = {}  # name, closed, the badge of a closed cycle
    dues: dict[tuple[int, str], str] = {}
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
        url = conditional_escape(
            reverse(
                "panels:region",
                kwargs={"cycle": cycle.slug, "stage": pr.stage, "region": participation.region.slug},
            )
        )
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
