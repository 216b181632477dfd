"""Reads for the impact survey: whose survey it is, the responses as the engine's table, the
quality report, statistics, and the proposed level of each Impact item (used by other apps).

Quality exclusions are never stored: they are the engine's ``check_responses`` run over the raw
responses each time, so changing a rule re-evaluates every response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, TypedDict

import polars as pl
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, Max, QuerySet, TextField
from django.db.models.functions import Cast, TruncHour
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

import cityeval
from cityeval.engine import CityevalError, Framework
from cityeval.engine.survey import (
    REASONS,
    QualityReport,
    check_responses,
    form_alphas,
    pooled_counts,
    pooled_means,
    question_name,
    rake,
    response_columns,
    statement_stats,
)
from cityeval.web.accounts.access import RegionAccess, User, region_access
from cityeval.web.engine_errors import message_text
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.labels import page_language
from cityeval.web.programmes.selectors import dimension_labels, subdimension_labels
from cityeval.web.surveys.models import PlanEntry, Response, SurveyForm, SurveyPlan
from cityeval.web.surveys.readiness import link_status
from cityeval.web.surveys.services import spec_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Received(TypedDict):
    received: int


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


def public_page_form(token: str) -> SurveyForm:
    """The form behind a public link for its questionnaire page (404 for an unknown token):
    with its plan, participation and region, and its framework's content hash as
    ``framework_digest`` instead of the framework's YAML (``evaluations.models.framework_of`` parses it
    once per process)."""
    return get_object_or_404(
        SurveyForm.objects.select_related("plan__participation__region").annotate(
            framework_digest=F("plan__participation__cycle__framework__digest")
        ),
        token=token,
    )


def submission_form(token: str) -> SurveyForm:
    """The form behind a public link, alone, for the API's start and submission (404 for an
    unknown token): they need none of the region, cycle and framework the page shows
    (:func:`public_form`), and ``services.form_accepts_responses`` reads the cycle itself. Six
    tables joined with the framework's YAML cost PostgreSQL more to plan and send than the rest
    of the call."""
    return get_object_or_404(SurveyForm, token=token)


def forms_of(plan: SurveyPlan | None) -> list[WithAnnotations[SurveyForm, _Received]]:
    """The plan's forms with ``received`` (every stored response) annotated."""
    if plan is None:
        return []
    return list(plan.forms.annotate(received=Count("responses")).order_by("id"))


def entries_of(plan: SurveyPlan | None) -> dict[str, PlanEntry]:
    if plan is None:
        return {}
    return {e.subdimension: e for e in plan.entries.select_related("programme__owner")}


def services_named(plan_id: int) -> dict[str, tuple[str, str, str]]:
    """Per sub-dimension of the plan whose entry names a programme: the programme's name and its
    owning OPD's short name and name (what the public form shows), three columns read rather
    than the entries, programmes and OPDs as objects."""
    rows = PlanEntry.objects.filter(plan_id=plan_id, programme__isnull=False).values_list(
        "subdimension", "programme__name", "programme__owner__short_name", "programme__owner__name"
    )
    return {sub: (name, short, full) for sub, name, short, full in rows}


def known_users(plan: SurveyPlan, forms: Sequence[SurveyForm]) -> dict[str, int]:
    """Per form, the users of its service: a split form's entry; for a combined form the
    smallest known count of its sub-dimensions' services (each respondent answers about all)."""
    framework = plan.participation.cycle.framework.framework
    # PlanEntry.users (the override, else the programme's beneficiaries), read as values: the
    # entries' programmes and their owners are not needed here.
    users_of = {
        sub: known if known is not None else beneficiaries
        for sub, known, beneficiaries in plan.entries.values_list(
            "subdimension", "known_users", "programme__beneficiaries"
        )
    }
    subs_of = {d.code: [s.code for s in d.subdimensions] for d in framework.dimensions}
    out: dict[str, int] = {}
    for form in forms:
        subs = [form.subdimension] if form.subdimension else subs_of.get(form.dimension, [])
        counts = [users for s in subs if (users := users_of.get(s)) is not None]
        if counts:
            out[form.code] = min(counts)
    return out


_RESPONSE_FIELDS = (
    "response_id", "form_id", "started_at", "ended_at", "used_service", "age_band", "sex", "district",
    "identity_hash", "assisted", "review_state", "burst",
)  # fmt: skip
_BLANK_IS_NULL = ("age_band", "sex", "district", "identity_hash", "review_state")
_FRAME_ROWS = 50_000  # responses turned into a table at a time


def responses_frame(forms: Sequence[SurveyForm]) -> pl.DataFrame:
    """Every stored response of ``forms`` as the table the engine's reader returns (one
    column per statement of any of the forms; null where a form does not ask it), plus the
    ``burst`` flag set at submission."""
    return _frame(forms, Response.objects.filter(form__in=forms), {f.pk: f.code for f in forms})


def _frame(forms: Sequence[SurveyForm], responses: QuerySet[Response], names: dict[int, str]) -> pl.DataFrame:
    """:func:`responses_frame` of the ``responses`` (of ``forms``), each form named ``names``
    in the ``form`` column. One query, in submission order within each form (the order the
    quality rules keep the first of), read in blocks; the answers are read as their stored JSON
    text and decoded by polars, one column per statement of the forms (a national cycle holds
    half a million responses)."""
    schema: dict[str, pl.DataType] = {}
    for form in forms:
        schema.update(response_columns(spec_of(form)))
    schema["burst"] = pl.Boolean()  # the web app's flag, checked by the engine like the others
    if not forms:
        return pl.DataFrame(schema=schema)
    codes = list(dict.fromkeys(code for form in forms for code in form.statements))
    fixed = {name: pl.Int64() if name == "form_id" else schema[name] for name in _RESPONSE_FIELDS}
    query = (
        responses.order_by("form_id", "submitted_at", "id")
        .annotate(answers_text=Cast("answers", output_field=TextField()))
        .values_list(*_RESPONSE_FIELDS, "answers_text")
    )
    parts: list[pl.DataFrame] = []
    rows: list[tuple] = []
    for line in query.iterator(chunk_size=2000):
        rows.append(line)
        if len(rows) == _FRAME_ROWS:
            parts.append(_frame_part(rows, fixed, codes, names, schema))
            rows = []
    if rows or not parts:
        parts.append(_frame_part(rows, fixed, codes, names, schema))
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def _frame_part(
    rows: list[tuple], fixed: dict[str, pl.DataType], codes: list[str], names: dict[int, str], schema: dict
) -> pl.DataFrame:
    """One block of :func:`_frame`'s rows (the ``fixed`` fields and the answers' JSON text) as
    the reader's table of ``schema``."""
    table = pl.DataFrame(rows, schema=fixed | {"answers": pl.String()}, orient="row")
    if codes:
        answers = table.get_column("answers").str.json_decode(pl.Struct({code: pl.Int8() for code in codes}))
        decoded = answers.struct.unnest().rename({code: question_name(code) for code in codes})
        table = table.hstack(decoded)
    return table.with_columns(
        pl.col("form_id").replace_strict(names, return_dtype=pl.String).alias("form"),
        *(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in _BLANK_IS_NULL),
    ).select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def quality_check(
    responses: pl.DataFrame,
    *,
    known_users: dict[str, int] | None = None,
    targets: dict[str, int] | None = None,
) -> QualityReport:
    """The engine's quality check of ``responses`` (:func:`responses_frame`) with the site's
    rules: every response of the survey is checked with these, wherever it is counted."""
    return check_responses(
        responses,
        min_seconds=float(settings.SURVEY_MIN_SECONDS),
        known_users=known_users,
        targets=targets,
    )


# Long enough to outlive a busy day; the key changes anyway as soon as a response arrives.
QUALITY_CACHE_SECONDS = 24 * 3600


def _quality_key(
    plan: SurveyPlan, forms: Sequence[WithAnnotations[SurveyForm, _Received]], users: dict[str, int]
) -> str:
    """The cache key of the plan's quality report: everything the report is computed from.
    Responses are append-only, so their count and latest id per plan name the data; the
    forms (statements, targets), the services' known users and the settings do the rest."""
    # With the arrival time too, a database restored or rolled back (ids used again) cannot
    # meet a report of other responses.
    latest = Response.objects.filter(form__plan=plan).aggregate(id=Max("id"), at=Max("submitted_at"))
    inputs = (
        cityeval.__version__,
        settings.SURVEY_MIN_SECONDS,
        latest["id"],
        str(latest["at"]),
        [(f.pk, f.code, f.target, f.dimension, f.subdimension, f.statements, f.demographics, f.received)
         for f in forms],
        sorted(users.items()),
    )  # fmt: skip
    digest = hashlib.sha256(repr(inputs).encode()).hexdigest()
    return f"cityeval:survey-quality:{plan.pk}:{digest}"


def quality_of(plan: SurveyPlan | None) -> QualityReport | None:
    """The engine's quality check of every response of the plan (None without forms).

    Computed once per plan and kept in Django's cache until a response arrives or the
    plan changes (see :func:`_quality_key`): reading every response through the ORM and
    checking them takes time that grows with the responses."""
    return _quality(plan)[0]


def _quality(plan: SurveyPlan | None) -> tuple[QualityReport | None, str | None]:
    """:func:`quality_of` and its cache key (None without forms): what the figures derived
    from the report are cached under, so that they change with it."""
    forms = forms_of(plan)
    if plan is None or not forms:
        return None, None
    users = known_users(plan, forms)
    key = _quality_key(plan, forms, users)
    stored = cache.get(key)
    if stored is not None:
        responses, summary, cross_form, parameters = stored
        report = QualityReport(
            responses, summary, MappingProxyType(cross_form), parameters=MappingProxyType(parameters)
        )
        return report, key
    report = quality_check(
        responses_frame(forms), known_users=users, targets={f.code: f.target for f in forms}
    )
    # Stored as plain parts: the report's read-only mappings cannot be pickled.
    parts = (report.responses, report.forms, dict(report.cross_form), dict(report.parameters))
    cache.set(key, parts, QUALITY_CACHE_SECONDS)
    return report, key


class PlanQuality(NamedTuple):
    """A participation's survey plan, its quality report and the report's cache key (None
    without forms): computed once per request and shared by :func:`proposed_levels` and
    :func:`impact_flags`."""

    plan: SurveyPlan | None
    report: QualityReport | None
    key: str | None


def _plan_of(participation: Participation) -> SurveyPlan | None:
    """The participation's survey plan, holding the participation already at hand (its cycle
    and framework are read from it, not again from the database)."""
    plan = SurveyPlan.objects.filter(participation=participation).first()
    if plan is not None:
        plan.participation = participation
    return plan


def plan_quality(participation: Participation) -> PlanQuality:
    """The participation's survey plan and its quality report, to share between the callers
    of one request (:func:`proposed_levels`, :func:`impact_flags`)."""
    plan = _plan_of(participation)
    return PlanQuality(plan, *_quality(plan))


def plan_quality_key(participation: Participation) -> str | None:
    """The cache key of the participation's quality report (None without forms), without
    reading the report: a version of everything :func:`proposed_levels` and
    :func:`impact_flags` are computed from besides the framework, for pages that keep what
    they draw from them (the scoring page)."""
    plan = _plan_of(participation)
    forms = forms_of(plan)
    if plan is None or not forms:
        return None
    return _quality_key(plan, forms, known_users(plan, forms))


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
    forms = [spec_of(form) for form in forms_of(plan)]
    return form_alphas(valid, forms=forms, framework=plan.participation.cycle.framework.framework)


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
            # In the page's language, from the error's code; without the row, which numbers the
            # pooled respondents raked here, not a row of any file the user has.
            note = message_text(exc)
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


def proposed_levels(participation: Participation, *, quality: PlanQuality | None = None) -> dict[str, float]:
    """The survey's proposed level per Impact item code (the survey mean of its statement),
    for the assessors' scoring pages. Empty until the region's survey has valid responses.

    Only ``survey`` items of the cycle's framework whose statement was asked in one of the
    region's forms and has at least one valid answer get a value; it is the unweighted mean of
    the valid responses (0–4), not rounded. ``quality``: :func:`plan_quality`, if known.

    The means are cached beside the quality report, under its key (so they change with it:
    a new response gives a new key) and the statements asked for.
    """
    _plan, report, key = quality or plan_quality(participation)
    if report is None:
        return {}
    framework = participation.cycle.framework.framework
    items = [
        (item.code, item.statement)
        for _component, item in framework.items_for(participation.group)
        if item.kind == "survey" and item.statement is not None
    ]
    statements = [statement for _code, statement in items]
    means_key = f"{key}:means:{hashlib.sha256(repr(statements).encode()).hexdigest()}"
    means: dict[str, float] | None = cache.get(means_key) if key else None
    if means is None:
        means = pooled_means(report.valid, statements=statements)
        if key:
            cache.set(means_key, means, QUALITY_CACHE_SECONDS)
    return {code: means[statement] for code, statement in items if statement in means}


def impact_counts(cycle: Cycle) -> pl.DataFrame:
    """The answer counts behind every region's proposed levels (:func:`proposed_levels`) in
    ``cycle``, for the uncertainty analysis's survey source
    (:func:`cityeval.engine.uncertainty_inputs.survey_counts`, wide form): ``region`` (the
    region's name), ``statement``, ``count_0 … count_4``, one row per region and statement
    linked to a survey item of the region's group with at least one valid answer, in region then
    statement order.

    The same responses count as in the survey's statistics and proposed levels: every response
    of the region's forms through :func:`quality_check` (an excluded response — not a user,
    duplicate, too fast, burst, rejected… — does not count), pooled over the forms that asked
    the statement. The region's forms are checked together with every other region's: each
    form's own name (its id) keeps the rules, which all look within one form, to that form.
    Two queries, whatever the number of regions.
    """
    columns: dict[str, pl.DataType] = {"region": pl.String(), "statement": pl.String()}
    columns |= {f"count_{k}": pl.Int64() for k in range(5)}
    forms = list(
        SurveyForm.objects.filter(plan__participation__cycle=cycle)
        .select_related("plan__participation__region")
        .order_by("id")
    )
    if not forms:
        return pl.DataFrame(schema=columns)
    framework = cycle.framework.framework
    responses = _frame(
        forms,
        Response.objects.filter(form__plan__participation__cycle=cycle),
        {f.pk: str(f.pk) for f in forms},
    )
    participations = {f.plan.participation.region.name: f.plan.participation for f in forms}
    linked = pl.DataFrame(
        [
            (name, item.statement)
            for name, participation in participations.items()
            for _component, item in framework.items_for(participation.group)
            if item.kind == "survey" and item.statement is not None
        ],
        schema={"region": pl.String(), "statement": pl.String()},
        orient="row",
    ).unique()
    region_of = {str(f.pk): f.plan.participation.region.name for f in forms}
    valid = quality_check(responses).valid.with_columns(
        pl.col("form").replace_strict(region_of, return_dtype=pl.String).alias("region")
    )
    statements = sorted(set(linked.get_column("statement").to_list()))
    counts = pooled_counts(valid, statements=statements, by=("region",))
    # In (region, statement) order: the engine draws the rows in their order, so a join's order
    # (not guaranteed) must not change a run's intervals.
    return (
        counts.join(linked, on=["region", "statement"], how="semi")
        .select(list(columns))
        .sort("region", "statement")
    )


def impact_flags(participation: Participation, *, quality: PlanQuality | None = None) -> dict[str, list[str]]:
    """Per Impact item code, the quality flags of the form that asked its statement (below
    target, exclusions by reason, respondents also in other forms, more respondents than the
    service's known users), for the assessors' scoring pages. Empty without forms.
    ``quality``: :func:`plan_quality`, if known."""
    plan, report, _key = quality or plan_quality(participation)
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


def form_titles(plan: SurveyPlan | None, forms) -> dict[str, str]:
    """Each form's name for people, by code: its sub-dimension (a combined form: its dimension)
    and the programmes it asks about, e.g. "Layanan Publik — Mal Pelayanan Publik", rather
    than its code (``service``)."""
    if plan is None:
        return {}
    framework = plan.participation.cycle.framework.framework
    language = page_language()
    names = dimension_labels(framework, language) | subdimension_labels(framework, language)
    entries = entries_of(plan)
    subs_of = {d.code: [s.code for s in d.subdimensions] for d in framework.dimensions}
    out = {}
    for form in forms:
        subs = [form.subdimension] if form.subdimension else subs_of.get(form.dimension, [])
        chosen = [entries[s].programme for s in subs if s in entries]
        programmes = [p.name for p in chosen if p is not None]
        name = names.get(form.subdimension or form.dimension, form.code)
        out[form.code] = f"{name} — {', '.join(programmes)}" if programmes else name
    return out
