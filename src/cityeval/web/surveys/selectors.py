"""Reads for the impact survey: whose survey it is, the responses as the engine's table, the
quality report, statistics, and the proposed level of each Impact item (used by other apps).

Quality exclusions are never stored: they are the engine's ``check_responses`` run over the raw
responses each time, so changing a rule re-evaluates every response.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cityeval.engine import CityevalError, Framework
from cityeval.engine.survey import (
    REASONS,
    QualityReport,
    check_responses,
    cronbach_alpha,
    question_name,
    rake,
    response_columns,
    statement_stats,
)
from cityeval.web.accounts.access import RegionAccess, User, region_access
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.surveys.models import PlanEntry, Response, SurveyForm, SurveyPlan
from cityeval.web.surveys.readiness import link_status
from cityeval.web.surveys.services import spec_of

REASON_LABELS = {
    "rejected": gettext_lazy("Rejected by reviewer"),
    "not_user": gettext_lazy("Did not use the service"),
    "duplicate_id": gettext_lazy("Duplicate id"),
    "straight_lining": gettext_lazy("Straight-lining (same answer to every statement)"),
    "too_fast": gettext_lazy("Completed implausibly fast"),
    "burst": gettext_lazy("Part of a burst of submissions"),
    "duplicate_respondent": gettext_lazy("Same phone answered this form before"),
}


@dataclass(frozen=True)
class Survey:
    """A region's survey in one cycle, as one user may see it (``plan`` None: not planned)."""

    access: RegionAccess
    participation: Participation
    plan: SurveyPlan | None

    @property
    def framework(self) -> Framework:
        return self.participation.cycle.framework.framework


def survey_for(user: User, region: str, cycle: str) -> Survey:
    """404 to outsiders and for a cycle the region does not take part in."""
    access = region_access(user, region)
    participation = get_object_or_404(
        Participation.objects.select_related("cycle__framework", "region"),
        cycle__slug=cycle,
        region=access.region,
    )
    plan = SurveyPlan.objects.filter(participation=participation).first()
    return Survey(access=access, participation=participation, plan=plan)


def form_of(survey: Survey, code: str) -> SurveyForm:
    """One form of the survey by its code; 404 for any other."""
    if survey.plan is None:
        raise Http404
    return get_object_or_404(SurveyForm, plan=survey.plan, code=code)


def public_form(token: str) -> SurveyForm:
    """The form behind a public link; 404 for an unknown token."""
    return get_object_or_404(
        SurveyForm.objects.select_related(
            "plan__participation__region", "plan__participation__cycle__framework"
        ),
        token=token,
    )


def forms_of(plan: SurveyPlan | None) -> list[SurveyForm]:
    """The plan's forms with ``received`` (every stored response) annotated."""
    if plan is None:
        return []
    return list(plan.forms.annotate(received=Count("responses")).order_by("id"))


def entries_of(plan: SurveyPlan | None) -> dict[str, PlanEntry]:
    if plan is None:
        return {}
    return {e.subdimension: e for e in plan.entries.select_related("programme__owner")}


def known_users(plan: SurveyPlan, forms: list[SurveyForm]) -> dict[str, int]:
    """Per form, the users of its service: a split form's entry; for a combined form the
    smallest known count of its sub-dimensions' services (each respondent answers about all)."""
    framework = plan.participation.cycle.framework.framework
    entries = entries_of(plan)
    subs_of = {d.code: [s.code for s in d.subdimensions] for d in framework.dimensions}
    out: dict[str, int] = {}
    for form in forms:
        subs = [form.subdimension] if form.subdimension else subs_of.get(form.dimension, [])
        counts = [entries[s].users for s in subs if s in entries and entries[s].users is not None]
        if counts:
            out[form.code] = min(counts)
    return out


def responses_frame(forms: list[SurveyForm]) -> pl.DataFrame:
    """Every stored response of ``forms`` as the table the engine's reader returns (one
    column per statement of any of the forms; null where a form does not ask it), plus the
    ``burst`` flag set at submission."""
    schema: dict[str, pl.DataType] = {}
    for form in forms:
        schema.update(response_columns(spec_of(form)))
    schema["burst"] = pl.Boolean()  # the web app's flag, checked by the engine like the others
    by_pk = {f.pk: f for f in forms}
    rows = []
    for r in Response.objects.filter(form__in=forms).order_by("form_id", "submitted_at", "id"):
        row = {
            "response_id": r.response_id,
            "form": by_pk[r.form_id].code,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
            "used_service": r.used_service,
            "age_band": r.age_band or None,
            "sex": r.sex or None,
            "district": r.district or None,
            "identity_hash": r.identity_hash or None,
            "assisted": r.assisted,
            "review_state": r.review_state or None,
            "burst": r.burst,
        }
        for code, value in r.answers.items():
            row[question_name(code)] = value
        rows.append(row)
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def quality_of(plan: SurveyPlan | None) -> QualityReport | None:
    """The engine's quality check of every response of the plan (None without forms)."""
    forms = forms_of(plan)
    if plan is None or not forms:
        return None
    return check_responses(
        responses_frame(forms),
        min_seconds=float(settings.SURVEY_MIN_SECONDS),
        known_users=known_users(plan, forms),
        targets={f.code: f.target for f in forms},
    )


@dataclass
class FormRow:
    """A form as the overview, quality page and recap show it."""

    form: SurveyForm
    entries: list[PlanEntry]
    received: int
    valid: int
    excluded: dict[str, int] = field(default_factory=dict)  # reason → count
    cross_form: int = 0
    known_users: int | None = None
    over_known_users: bool = False
    status: str = "open"  # the public link's status (readiness.STATUS_LABELS)

    @property
    def excluded_total(self) -> int:
        return self.received - self.valid

    @property
    def progress(self) -> float:
        return min(self.valid / self.form.target, 1.0) if self.form.target else 0.0


def form_rows(plan: SurveyPlan | None, report: QualityReport | None) -> list[FormRow]:
    forms = forms_of(plan)
    entries = entries_of(plan)
    framework = plan.participation.cycle.framework.framework if plan else None
    subs_of = {d.code: [s.code for s in d.subdimensions] for d in framework.dimensions} if framework else {}
    summary = {}
    if report is not None:
        summary = {row["form"]: row for row in report.forms.iter_rows(named=True)}
    out = []
    cycle_open = plan is not None and plan.participation.cycle.status == Cycle.Status.OPEN
    for form in forms:
        subs = [form.subdimension] if form.subdimension else subs_of.get(form.dimension, [])
        s = summary.get(form.code, {})
        unnamed = any(c not in entries or entries[c].programme_id is None for c in subs)
        out.append(
            FormRow(
                form=form,
                entries=[entries[c] for c in subs if c in entries],
                received=form.received,
                valid=s.get("n_valid") or 0,
                excluded={reason: s.get(f"excluded_{reason}") or 0 for reason in REASONS},
                cross_form=s.get("n_cross_form") or 0,
                known_users=s.get("known_users"),
                over_known_users=bool(s.get("over_known_users")),
                status=link_status(is_open=form.is_open, cycle_open=cycle_open, unnamed=unnamed),
            )
        )
    return out


@dataclass(frozen=True)
class BusyHour:
    """A clock hour in which a form received more public responses than usual."""

    form: str
    hour: dt.datetime
    received: int


def busy_hours(plan: SurveyPlan | None) -> list[BusyHour]:
    """Clock hours in which a form received more than ``SURVEY_BURST_PER_FORM_HOUR`` responses
    from the public (web form and API; not imported or staff-assisted ones), for an alert to
    the region. Only an alert: no response is marked for it, since a flood from elsewhere must
    not take honest responses out of the statistics. Counted from the stored submission times
    when a page is shown, so a submission writes nothing more for it."""
    if plan is None:
        return []
    rows = (
        Response.objects.filter(form__plan=plan, source=Response.Source.WEB, assisted=False)
        .annotate(hour=TruncHour("submitted_at"))
        .values("form__code", "hour")
        .annotate(n=Count("id"))
        .filter(n__gt=settings.SURVEY_BURST_PER_FORM_HOUR)
        .order_by("form__code", "hour")
    )
    return [BusyHour(form=r["form__code"], hour=r["hour"], received=r["n"]) for r in rows]


def form_flags(row: FormRow | None) -> list[str]:
    """The quality flags of a form, in words: what assessors see beside its Impact items."""
    if row is None:
        return [_("no form")]
    flags = []
    if row.valid < row.form.target:
        flags.append(
            _("below target (%(valid)d of %(target)d)") % {"valid": row.valid, "target": row.form.target}
        )
    if row.over_known_users:
        flags.append(
            _("more respondents than the service's known users (%(users)s)") % {"users": row.known_users}
        )
    if row.cross_form:
        flags.append(
            ngettext(
                "%(n)d respondent also answered another form",
                "%(n)d respondents also answered another form",
                row.cross_form,
            )
            % {"n": row.cross_form}
        )
    for reason, count in row.excluded.items():
        if count:
            flags.append(
                _("%(n)d excluded: %(reason)s") % {"reason": REASON_LABELS.get(reason, reason), "n": count}
            )
    return flags


def cross_form_respondents(report: QualityReport | None) -> list[tuple[str, tuple[str, ...]]]:
    """Respondents (by a short prefix of their hash) who answered several forms."""
    if report is None:
        return []
    return sorted((h[:10], forms) for h, forms in report.cross_form.items())


# --- statistics -----------------------------------------------------------------------------


def margins_of(plan: SurveyPlan) -> dict[str, dict[str, float]] | None:
    """The stored age band × sex shares as the two marginals the engine rakes to."""
    if not plan.margins:
        return None
    age: dict[str, float] = {}
    sex: dict[str, float] = {}
    for cell in plan.margins:
        age[cell["age_band"]] = age.get(cell["age_band"], 0.0) + cell["share"]
        sex[cell["sex"]] = sex.get(cell["sex"], 0.0) + cell["share"]
    return {
        "age_band": {k: v for k, v in age.items() if v > 0},
        "sex": {k: v for k, v in sex.items() if v > 0},
    }


@dataclass
class SurveyStats:
    statements: pl.DataFrame  # form, statement, n, mean, ci_low, ci_high, method, count_0..4 (+ weighted)
    alphas: pl.DataFrame  # form, subdimension, alpha, n, k, ci_low, ci_high
    weighted: bool
    weighting_note: str = ""


def _alphas(plan: SurveyPlan, valid: pl.DataFrame) -> pl.DataFrame:
    framework = plan.participation.cycle.framework.framework
    frames = []
    for form in forms_of(plan):
        subs = next(d for d in framework.dimensions if d.code == form.dimension).subdimensions
        for sub in subs:
            items = [question_name(s.code) for s in sub.statements if s.code in form.statements]
            part = valid.filter(pl.col("form") == form.code)
            if len(items) < 2 or part.height < 2:
                continue
            alpha = cronbach_alpha(part.select(items), items=items)
            frames.append(alpha.with_columns(form=pl.lit(form.code), subdimension=pl.lit(sub.code)))
    if not frames:
        return pl.DataFrame(
            schema={
                "form": pl.String,
                "subdimension": pl.String,
                "alpha": pl.Float64,
                "n": pl.Int64,
                "k": pl.Int64,
                "ci_low": pl.Float64,
                "ci_high": pl.Float64,
            }
        )
    return pl.concat(frames, how="diagonal_relaxed").select(
        "form", "subdimension", "alpha", "n", "k", "ci_low", "ci_high"
    )


def survey_stats(plan: SurveyPlan, report: QualityReport, *, n_boot: int | None = None) -> SurveyStats:
    """Per statement of every form: n, mean and bootstrap interval (exact by default, see the
    engine's ``statement_stats``), answer counts; alpha per sub-dimension; with margins, the
    raked mean beside the unweighted one.

    Raking pools every valid respondent of the plan who gave both age band and sex (a form's
    50 respondents rarely fill every age band) and rakes them to the age-band and sex
    margins; the weighted means per form use those weights. When raking is impossible (a
    category with a share but no respondent, say) the engine's reason is returned as a note.
    """
    valid = report.valid
    statements = statement_stats(valid, by=("form",), n_boot=n_boot)
    weighted, note = False, ""
    margins = margins_of(plan)
    if margins:
        with_demographics = valid.drop_nulls(["age_band", "sex"])
        try:
            weights = rake(with_demographics, margins=margins)
            raked = statement_stats(
                with_demographics.with_columns(weights), by=("form",), n_boot=n_boot, weights="weight"
            )
        except CityevalError as exc:  # shown beside the unweighted estimates, not raised
            note = str(exc)
        else:
            statements = statements.join(
                raked.select("form", "statement", w_mean="mean", w_ci_low="ci_low", w_ci_high="ci_high"),
                on=["form", "statement"],
                how="left",
            )
            weighted = True
    return SurveyStats(
        statements=statements, alphas=_alphas(plan, valid), weighted=weighted, weighting_note=note
    )


# --- for the assessors' pages ----------------------------------------------------------------


def proposed_levels(participation: Participation) -> dict[str, float]:
    """The survey's proposed level per Impact item code (the survey mean of its statement),
    for the assessors' scoring pages. Empty until the region's survey has valid responses.

    Only ``survey`` items of the cycle's framework whose statement was asked in one of the
    region's forms and has at least one valid answer get a value; it is the unweighted mean of
    the valid responses (0–4), not rounded.
    """
    plan = SurveyPlan.objects.filter(participation=participation).first()
    report = quality_of(plan)
    if report is None:
        return {}
    valid = report.valid
    framework = participation.cycle.framework.framework
    out: dict[str, float] = {}
    for _component, item in framework.items_for(participation.group):
        if item.kind != "survey" or item.statement is None:
            continue
        column = question_name(item.statement)
        if column not in valid.columns:
            continue
        mean = valid.get_column(column).drop_nulls().cast(pl.Float64).mean()
        if mean is not None:
            out[item.code] = float(mean)  # type: ignore[arg-type]
    return out


def impact_flags(participation: Participation) -> dict[str, list[str]]:
    """Per Impact item code, the quality flags of the form that asked its statement (below
    target, exclusions by reason, respondents also in other forms, more respondents than the
    service's known users), for the assessors' scoring pages. Empty without forms."""
    plan = SurveyPlan.objects.filter(participation=participation).first()
    report = quality_of(plan)
    if report is None:
        return {}
    by_statement: dict[str, list[str]] = {}
    for row in form_rows(plan, report):
        for code in row.form.statements:
            by_statement.setdefault(code, form_flags(row))
    framework = participation.cycle.framework.framework
    return {
        item.code: by_statement[item.statement]
        for _component, item in framework.items_for(participation.group)
        if item.kind == "survey" and item.statement in by_statement
    }
