"""The survey recap: per dimension and sub-dimension the service surveyed, valid and excluded
responses, statement means with their intervals, Cronbach's alpha and the quality flags — as
the statistics page shows it and as the PDF and XLSX a region sends to the ministry.

Estimates come from a purposive (non-probability) sample: every table says so, and the
intervals are bootstrap intervals, not design-based ones.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine.framework import label_text
from cityeval.engine.numbers import TWO_DECIMALS
from cityeval.engine.survey import BOOTSTRAP_METHOD, QualityReport
from cityeval.web.downloads import new_workbook
from cityeval.web.labels import page_language
from cityeval.web.pdf import pdf_bytes as render_pdf
from cityeval.web.surveys.selectors import FormRow, Survey, form_flags, form_rows, quality_of, survey_stats

NON_PROBABILITY = "non-probability sample"


@dataclass
class StatementRow:
    code: str
    label: str
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    counts: list[int]
    shares: list[float]  # of n, for the distribution bar
    w_mean: float | None = None
    w_ci_low: float | None = None
    w_ci_high: float | None = None


@dataclass
class SubRow:
    code: str
    label: str
    form: FormRow | None
    service: str
    opd: str
    alpha: dict | None
    statements: list[StatementRow] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def _statement_rows(stats_rows: list[dict], labels: dict[str, str]) -> list[StatementRow]:
    out = []
    for r in stats_rows:
        counts = [int(r.get(f"count_{k}") or 0) for k in range(5)]
        total = sum(counts)
        out.append(
            StatementRow(
                code=r["statement"],
                label=labels.get(r["statement"], r["statement"]),
                n=int(r["n"] or 0),
                mean=r["mean"],
                ci_low=r["ci_low"],
                ci_high=r["ci_high"],
                counts=counts,
                shares=[c / total if total else 0.0 for c in counts],
                w_mean=r.get("w_mean"),
                w_ci_low=r.get("w_ci_low"),
                w_ci_high=r.get("w_ci_high"),
            )
        )
    return out


def _row_for(rows: dict[str, FormRow], dimension: str, sub: str) -> FormRow | None:
    """The form that asks a sub-dimension's statements: its split form, else its dimension's
    combined form."""
    split = next((r for r in rows.values() if r.form.subdimension == sub), None)
    return split or next(
        (r for r in rows.values() if r.form.dimension == dimension and not r.form.subdimension), None
    )


def stat_blocks(survey: Survey, report: QualityReport | None, *, n_boot: int | None = None) -> list[dict]:
    """Per dimension: ``{"dimension", "label", "subs": [SubRow], "weighted", "note"}``."""
    if survey.plan is None or report is None:
        return []
    language = page_language()
    rows = {r.form.code: r for r in form_rows(survey.plan, report)}
    stats = survey_stats(survey.plan, report, n_boot=n_boot)
    by_form: dict[str, list[dict]] = {}
    for r in stats.statements.iter_rows(named=True):
        by_form.setdefault(r["form"], []).append(r)
    alphas = {(a["form"], a["subdimension"]): a for a in stats.alphas.iter_rows(named=True)}
    labels = {
        code: label_text(s[2].label, language) for code, s in survey.framework.statements_by_code.items()
    }
    blocks = []
    for dim in survey.framework.dimensions:
        subs = []
        for sub in dim.subdimensions:
            row = _row_for(rows, dim.code, sub.code)
            codes = {s.code for s in sub.statements}
            entry = next((e for e in row.entries if e.subdimension == sub.code), None) if row else None
            programme = entry.programme if entry is not None else None
            form_stats = [r for r in by_form.get(row.form.code, []) if r["statement"] in codes] if row else []
            subs.append(
                SubRow(
                    code=sub.code,
                    label=label_text(sub.label, language),
                    form=row,
                    service=programme.name if programme else "",
                    opd=str(programme.owner) if programme else "",
                    alpha=alphas.get((row.form.code, sub.code)) if row else None,
                    statements=_statement_rows(form_stats, labels),
                    flags=form_flags(row),
                )
            )
        blocks.append(
            {
                "dimension": dim.code,
                "label": label_text(dim.label, language),
                "subs": subs,
                "weighted": stats.weighted,
                "note": stats.weighting_note,
            }
        )
    return blocks


def _recap_context(survey: Survey) -> dict:
    report = quality_of(survey.plan)
    blocks = stat_blocks(survey, report)
    return {
        "region": survey.access.region,
        "cycle": survey.participation.cycle,
        "blocks": blocks,
        "weighted": any(b["weighted"] for b in blocks),
        "method": BOOTSTRAP_METHOD,
        "generated": timezone.localtime(),
        "rows": form_rows(survey.plan, report),
    }


def recap_pdf(survey: Survey, *, request: HttpRequest | None = None) -> bytes:
    """The recap as a PDF (WeasyPrint; the HTML needs no file or network access)."""

    html = render_to_string("surveys/recap_pdf.html", _recap_context(survey), request=request)
    return render_pdf(html)


def _statement_header() -> list[str]:
    return [
        _("Dimension"),
        _("Sub-dimension"),
        _("Service"),
        _("OPD"),
        _("Form"),
        _("Target"),
        _("Received"),
        _("Valid"),
        _("Statement"),
        _("Statement text"),
        "n",
        _("Mean"),
        _("95% low"),
        _("95% high"),
        _("Weighted mean"),
        _("Weighted 95% low"),
        _("Weighted 95% high"),
        "alpha",
        _("alpha 95% low"),
        _("alpha 95% high"),
        _("Flags"),
    ]


def _statement_line(block: dict, sub: SubRow, st: StatementRow | None) -> list:
    """One row of the recap sheet: a statement of ``sub``, or the sub-dimension alone (None)."""
    form, alpha = sub.form, sub.alpha or {}
    return [
        block["label"],
        sub.label,
        sub.service,
        sub.opd,
        form.form.code if form else "",
        form.form.target if form else None,
        form.received if form else None,
        form.valid if form else None,
        st.code if st else "",
        st.label if st else "",
        st.n if st else None,
        st.mean if st else None,
        st.ci_low if st else None,
        st.ci_high if st else None,
        st.w_mean if st else None,
        st.w_ci_low if st else None,
        st.w_ci_high if st else None,
        alpha.get("alpha"),
        alpha.get("ci_low"),
        alpha.get("ci_high"),
        "; ".join(sub.flags),
    ]


def _recap_sheet(book, context: dict) -> None:
    """The statements sheet: a title, the sampling caveat, then one row per statement."""
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(_("Recap")[:31])
    title = f"{context['region'].name} · {context['cycle'].name} · {_('Impact survey recap')}"
    sheet.write(0, 0, title, bold)
    caveat = _("Non-probability (purposive) sample: intervals are %(method)s.") % {"method": BOOTSTRAP_METHOD}
    sheet.write(1, 0, caveat)
    header = _statement_header()
    sheet.write_row(3, 0, header, bold)
    # Means, intervals and alphas keep full precision; the cell format shows 2 decimals, which
    # Excel and LibreOffice round half up on the decimal value, as the pages and letters do.
    two_decimals = book.add_format({"num_format": TWO_DECIMALS})
    sheet.set_column(header.index(_("Mean")), header.index(_("alpha 95% high")), None, two_decimals)
    lines = (
        _statement_line(block, sub, st)
        for block in context["blocks"]
        for sub in block["subs"]
        for st in sub.statements or [None]
    )
    for line, values in enumerate(lines, start=4):
        sheet.write_row(line, 0, values)


def _forms_sheet(book, rows: list[FormRow]) -> None:
    """The forms' quality summary: received, valid, each exclusion reason, overlaps."""
    sheet = book.add_worksheet(_("Forms")[:31])
    header = [_("Form")]
    if rows:
        header += [
            _("Target"),
            _("Received"),
            _("Valid"),
            *rows[0].excluded.keys(),
            _("Respondents in several forms"),
            _("Known users"),
            _("More than known users"),
        ]
    sheet.write_row(0, 0, header, book.add_format({"bold": True}))
    for number, row in enumerate(rows, start=1):
        sheet.write_row(
            number,
            0,
            [
                row.form.code,
                row.form.target,
                row.received,
                row.valid,
                *row.excluded.values(),
                row.cross_form,
                row.known_users,
                _("yes") if row.over_known_users else _("no"),
            ],
        )


def recap_xlsx(survey: Survey) -> bytes:
    """The recap as a workbook: one row per statement, and the forms' quality summary."""
    context = _recap_context(survey)
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    _recap_sheet(book, context)
    _forms_sheet(book, context["rows"])
    book.close()
    return buffer.getvalue()
