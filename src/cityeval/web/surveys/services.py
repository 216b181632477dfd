"""Writes for the impact survey: the plan and its forms, web submissions, imports, margins.

Responses are appended, never changed or deleted. A web submission carries the id its page was
rendered with, so a double tap or a flaky network stores it once; an import skips every row
whose id the form already holds, so the same file imported twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field

import polars as pl
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import InputError
from cityeval.engine.limits import LimitError
from cityeval.engine.survey import AGE_BANDS, ANSWERS, SEXES, FormSpec, build_forms, read_responses
from cityeval.engine.survey import identity_hash as engine_identity_hash
from cityeval.web.bounds import POSITIVE_INTEGER_MAX
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.imports import limit_message, survey_limits
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.limits import network_of, sender_of, submission_check
from cityeval.web.surveys.models import (
    DimensionMode,
    ImportBatch,
    Mode,
    PlanEntry,
    Response,
    SurveyForm,
    SurveyPlan,
)
from cityeval.web.surveys.readiness import FormNotReady, subdimensions_of, unnamed_subdimensions

TARGET_MAX = 100_000
RESPONSE_ID = re.compile(r"^[A-Za-z0-9:._-]{8,100}$")
DISTRICT_MAX = 120
IMPORT_KINDS = ("auto", "kobo", "odk", "template")


class InvalidInput(ValueError):
    """Input a service refuses; ``errors`` maps a field (or ``__all__``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class SurveyClosed(Exception):
    """The form's link is closed: it takes no new responses."""


class CycleNotOpen(PermissionDenied):
    """The participation's cycle is not open (draft, closed or published): the survey can no
    longer change. Admin writes raise it; public submissions are refused as :class:`SurveyClosed`."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("The cycle is closed: the survey can no longer change"))


class ImportRejected(Exception):
    """Nothing was imported; ``errors`` name the row and column of each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


# --- hashing: never store a phone number or an IP address -----------------------------------


def _derived_key(purpose: str) -> str:
    """A per-deployment secret for one purpose, derived from SECRET_KEY (never stored)."""
    return hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def identity_salt() -> str:
    """The salt of respondents' identity hashes, the same for web and imported responses."""
    return _derived_key("survey-identity")


def identity_hash(value: str) -> str:
    """The deployment's salted hash of a phone number, by the engine's one rule (the same as
    for imported rows, so web and imported respondents match); "" without digits."""
    return engine_identity_hash(value, salt=identity_salt()) or ""


def ip_hash(ip: str) -> str:
    return hmac.new(_derived_key("survey-ip").encode(), (ip or "").encode(), hashlib.sha256).hexdigest()


# --- the cycle's state ----------------------------------------------------------------------


def cycle_is_open(participation: Participation) -> bool:
    """Whether the participation's cycle is open, read from the database (not a cached object),
    so that a cycle closed or published a moment ago is seen as such."""
    return Cycle.objects.filter(pk=participation.cycle_id, status=Cycle.Status.OPEN).exists()


def require_open_cycle(participation: Participation) -> None:
    """Raise :class:`CycleNotOpen` unless the participation's cycle is open. Every write of the
    plan, the forms, imports and margins calls it first; the survey freezes with its cycle."""
    if not cycle_is_open(participation):
        raise CycleNotOpen


def form_accepts_responses(form: SurveyForm) -> bool:
    """A form takes new responses while its link is open, its cycle is open and it names the
    service of every sub-dimension it asks about."""
    return form.is_open and cycle_is_open(form.plan.participation) and not unnamed_subdimensions(form)


# --- the plan -------------------------------------------------------------------------------


def spec_of(form: SurveyForm) -> FormSpec:
    """The engine's description of a stored form."""
    return FormSpec(
        code=form.code,
        dimension=form.dimension,
        subdimension=form.subdimension or None,
        statements=tuple(form.statements),
        mode=form.mode,  # type: ignore[arg-type]
        target=form.target,
        demographics=form.demographics,
    )


def plan_get_or_create(*, participation: Participation) -> SurveyPlan:
    plan, _created = SurveyPlan.objects.get_or_create(participation=participation)
    return plan


@dataclass(frozen=True)
class EntryInput:
    programme: Programme | None = None
    known_users: int | None = None


@dataclass(frozen=True)
class PlanInput:
    target: int
    demographics: bool
    modes: dict[str, str]  # dimension code → "combined" | "split"
    entries: dict[str, EntryInput] = field(default_factory=dict)  # sub-dimension code → entry


def locked_dimensions(plan: SurveyPlan) -> set[str]:
    """Dimensions whose forms already hold responses: their mode can no longer change."""
    return set(plan.forms.filter(responses__isnull=False).values_list("dimension", flat=True).distinct())


def _plan_errors(plan: SurveyPlan, data: PlanInput) -> dict[str, list[str]]:
    framework = plan.participation.cycle.framework.framework
    errors: dict[str, list[str]] = {}
    if not 1 <= data.target <= TARGET_MAX:
        errors["target"] = [_("The target must be between 1 and %(max)d.") % {"max": TARGET_MAX}]
    dimensions = {d.code for d in framework.dimensions}
    subdimensions = {s.code for d in framework.dimensions for s in d.subdimensions}
    current = {m.dimension: m.mode for m in plan.modes.all()}
    locked = locked_dimensions(plan)
    for dimension, mode in data.modes.items():
        if dimension not in dimensions or mode not in Mode.values:
            errors.setdefault("modes", []).append(_("Unknown dimension or mode: %(d)s.") % {"d": dimension})
        elif dimension in locked and current.get(dimension, Mode.SPLIT) != mode:
            errors.setdefault(f"mode_{dimension}", []).append(
                _("This dimension's forms already have responses: its form mode cannot change.")
            )
    region_id = plan.participation.region_id
    for sub, entry in data.entries.items():
        if sub not in subdimensions:
            errors.setdefault("entries", []).append(_("Unknown sub-dimension: %(s)s.") % {"s": sub})
        if entry.programme is not None and entry.programme.region_id != region_id:
            errors.setdefault(f"programme_{sub}", []).append(_("Choose a programme of this region."))
        if entry.known_users is not None and entry.known_users < 0:
            errors.setdefault(f"users_{sub}", []).append(_("The number of users cannot be negative."))
        elif entry.known_users is not None and entry.known_users > POSITIVE_INTEGER_MAX:
            errors.setdefault(f"users_{sub}", []).append(
                _("The number of users cannot exceed %(max)d.") % {"max": POSITIVE_INTEGER_MAX}
            )
    return errors


@transaction.atomic
def plan_save(*, participation: Participation, data: PlanInput) -> SurveyPlan:
    """Save the plan: target, demographics, a mode per dimension, a programme per sub-dimension.

    The forms are not touched: :func:`forms_generate` makes them from the saved plan.
    Raises CycleNotOpen (nothing saved) unless the cycle is open.
    """
    require_open_cycle(participation)
    plan = plan_get_or_create(participation=participation)
    plan = (
        SurveyPlan.objects.select_for_update()
        .select_related("participation__cycle__framework")
        .get(pk=plan.pk)
    )
    errors = _plan_errors(plan, data)
    if errors:
        raise InvalidInput(errors)
    plan.target, plan.demographics = data.target, data.demographics
    plan.save(update_fields=["target", "demographics", "updated_at"])
    for dimension, mode in data.modes.items():
        DimensionMode.objects.update_or_create(plan=plan, dimension=dimension, defaults={"mode": mode})
    for sub, entry in data.entries.items():
        PlanEntry.objects.update_or_create(
            plan=plan,
            subdimension=sub,
            defaults={"programme": entry.programme, "known_users": entry.known_users},
        )
    return plan


@dataclass(frozen=True)
class GenerateResult:
    created: list[str]
    updated: list[str]
    removed: list[str]
    kept: list[str]  # forms with responses the plan no longer produces: kept, closed
    unnamed: list[str] = field(default_factory=list)  # forms left closed: a service is not named


@transaction.atomic
def forms_generate(*, plan: SurveyPlan) -> GenerateResult:
    """Create or update the plan's forms from the pinned framework.

    A form that already has responses keeps its statements and mode (they are pinned to the
    data collected under them); its target and demographics follow the plan. A form the plan
    no longer produces is removed when empty and closed when it has responses. A form whose
    services the plan does not all name is created (or left) closed: see :class:`FormNotReady`.
    Raises CycleNotOpen (nothing changed) unless the cycle is open.
    """
    require_open_cycle(plan.participation)
    plan = (
        SurveyPlan.objects.select_for_update()
        .select_related("participation__cycle__framework")
        .get(pk=plan.pk)
    )
    framework = plan.participation.cycle.framework.framework
    modes = {m.dimension: m.mode for m in plan.modes.all()}
    specs = build_forms(framework, modes=modes, target=plan.target, demographics=plan.demographics)
    existing = {f.code: f for f in plan.forms.all()}
    # Forms holding responses or imports are pinned to the data collected under them.
    answered = set(plan.forms.filter(responses__isnull=False).values_list("code", flat=True))
    answered |= set(plan.forms.filter(imports__isnull=False).values_list("code", flat=True))
    named = {e.subdimension for e in plan.entries.all() if e.programme_id is not None}
    created, updated, unnamed = [], [], []
    for spec in specs:
        form = existing.pop(spec.code, None)
        ready = all(sub in named for sub in subdimensions_of(framework, spec.dimension, spec.subdimension))
        if not ready:
            unnamed.append(spec.code)
        if form is None:
            SurveyForm.objects.create(
                plan=plan,
                code=spec.code,
                dimension=spec.dimension,
                subdimension=spec.subdimension or "",
                statements=list(spec.statements),
                mode=spec.mode,
                target=spec.target,
                demographics=spec.demographics,
                is_open=ready,
            )
            created.append(spec.code)
            continue
        form.target, form.demographics = spec.target, spec.demographics
        form.is_open = form.is_open and ready
        if spec.code not in answered:
            form.dimension, form.subdimension = spec.dimension, spec.subdimension or ""
            form.statements, form.mode = list(spec.statements), spec.mode
        form.save()
        updated.append(spec.code)
    removed, kept = [], []
    for code, form in existing.items():
        if code in answered:
            form.is_open = False
            form.save(update_fields=["is_open"])
            kept.append(code)
        else:
            form.delete()
            removed.append(code)
    return GenerateResult(created=created, updated=updated, removed=removed, kept=kept, unnamed=unnamed)


def form_set_open(*, form: SurveyForm, is_open: bool) -> SurveyForm:
    """Open or close the form's link. Raises CycleNotOpen unless the cycle is open, and
    FormNotReady (nothing changed) when opening a form that does not name its services."""
    require_open_cycle(form.plan.participation)
    if is_open and (missing := unnamed_subdimensions(form)):
        raise FormNotReady(form, missing)
    form.is_open = is_open
    form.save(update_fields=["is_open"])
    return form


# --- web submissions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """What a respondent sent; ``phone`` is hashed here and never stored."""

    response_id: str
    used_service: bool | None
    answers: dict[str, int | None]  # statement code → 0..4 or None
    age_band: str = ""
    sex: str = ""
    district: str = ""
    phone: str = ""
    # From the signed start stamp the page was rendered with (or the API handed out): a missing,
    # forged or expired stamp (None) is refused, so that the "implausibly fast" check cannot be
    # dodged by the web form or the API.
    started_at: dt.datetime | None = None
    assisted: bool = False


def submission_errors(form: SurveyForm, sub: Submission) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not RESPONSE_ID.match(sub.response_id or ""):
        errors["response_id"] = [_("The form's id is missing or malformed: reload the page.")]
    if sub.started_at is None:
        errors["started"] = [_("This form has expired or was changed: please reload the page")]
    if sub.used_service is None:
        errors["used_service"] = [_("Say whether you used this service in the last 12 months.")]
    unknown = set(sub.answers) - set(form.statements)
    if unknown:
        errors["answers"] = [_("Unknown statements: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}]
    for code in form.statements:
        value = sub.answers.get(code)
        if value is not None and value not in ANSWERS:
            errors[code] = [_("Choose one of the answers 0 to 4.")]
        elif value is None and sub.used_service:
            errors[code] = [_("Choose an answer for this statement.")]
    if sub.age_band and sub.age_band not in AGE_BANDS:
        errors["age_band"] = [_("Choose an age band from the list.")]
    if sub.sex and sub.sex not in SEXES:
        errors["sex"] = [_("Choose from the list.")]
    if len(sub.district) > DISTRICT_MAX:
        errors["district"] = [_("Keep the district under %(n)d characters.") % {"n": DISTRICT_MAX}]
    if len(sub.phone) > 40:
        errors["phone"] = [_("That is not a phone number.")]
    return errors


def response_submit(
    *, form: SurveyForm, submission: Submission, ip: str, assisted_by: AbstractBaseUser | None = None
) -> tuple[Response, bool]:
    """Store a web submission once per (form, response id): ``(response, created)``.

    A resubmission of a stored id returns the stored response (even once the link is closed),
    so a double tap or a retry sees the same thank-you. ``assisted_by`` is the logged-in OPD
    staff member or regional admin who helped; only they can mark a response "assisted", and
    their submissions are exempt from the per-address limit (an office shares one address).
    A form whose link is closed, or whose cycle is no longer open, takes no new response.
    The abuse limits (``surveys.limits``) refuse an address (an IPv6 /64) over its hourly limit
    and mark a submission that is part of a burst from its network (``burst``): it is stored and
    excluded by the quality check.
    Raises SurveyClosed, InvalidInput or RateLimited, storing nothing.
    """
    existing = Response.objects.filter(form=form, response_id=submission.response_id).first()
    if existing is not None:
        return existing, False
    if not form_accepts_responses(form):
        raise SurveyClosed
    errors = submission_errors(form, submission)
    if errors:
        raise InvalidInput(errors)
    hashed_ip = ip_hash(ip)
    burst = submission_check(
        form=form,
        address=ip_hash(sender_of(ip)),
        network=ip_hash(network_of(ip)),
        exempt=assisted_by is not None,
    )
    answers = {code: submission.answers.get(code) for code in form.statements}
    if not submission.used_service:
        answers = {code: None for code in form.statements}
    assisted = bool(submission.assisted and assisted_by is not None)
    try:
        with transaction.atomic():
            response = Response.objects.create(
                form=form,
                response_id=submission.response_id,
                source=Response.Source.WEB,
                started_at=submission.started_at,
                ended_at=timezone.now(),
                used_service=submission.used_service,
                answers=answers,
                age_band=submission.age_band,
                sex=submission.sex,
                district=submission.district.strip(),
                identity_hash=identity_hash(submission.phone),
                assisted=assisted,
                assisted_by=assisted_by if assisted else None,
                ip_hash=hashed_ip,
                burst=burst,
            )
    except IntegrityError:
        # The same id won a race with this request (two taps a few milliseconds apart).
        return Response.objects.get(form=form, response_id=submission.response_id), False
    return response, True


# --- imports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    added: int
    skipped: int
    same_file_before: ImportBatch | None  # an earlier import of the very same bytes


def _rows_to_responses(table: pl.DataFrame, form: SurveyForm, batch: ImportBatch) -> list[Response]:
    spec = spec_of(form)
    out = []
    for row in table.iter_rows(named=True):
        answers = {code: row.get(q) for code, q in zip(spec.statements, spec.questions, strict=True)}
        out.append(
            Response(
                form=form,
                response_id=row["response_id"],
                source=Response.Source.IMPORT,
                batch=batch,
                started_at=row.get("started_at"),
                ended_at=row.get("ended_at"),
                used_service=row.get("used_service"),
                answers={k: (None if v is None else int(v)) for k, v in answers.items()},
                age_band=row.get("age_band") or "",
                sex=row.get("sex") or "",
                district=(row.get("district") or "")[:DISTRICT_MAX],
                identity_hash=row.get("identity_hash") or "",
                assisted=bool(row.get("assisted")),
                review_state=row.get("review_state") or "",
            )
        )
    return out


def responses_import(
    *, form: SurveyForm, data: bytes, file_name: str, kind: str, user: AbstractBaseUser
) -> ImportResult:
    """Import an export of ``form``: all rows or none. Rows whose id the form already holds
    (and repeated ids within the file) are skipped and counted. Raises ImportRejected, or
    CycleNotOpen unless the cycle is open (nothing imported)."""
    require_open_cycle(form.plan.participation)
    if kind not in IMPORT_KINDS:
        raise ImportRejected([_("Unknown file format %(kind)s.") % {"kind": kind}])
    try:
        table = read_responses(
            data,
            form=spec_of(form),
            kind=kind,
            identity_salt=identity_salt(),
            limits=survey_limits(),
            max_id_length=Response._meta.get_field("response_id").max_length,
        )
    except LimitError as exc:  # over a SURVEY_IMPORT_* limit: refused before it was parsed
        raise ImportRejected([limit_message(exc)]) from None
    except InputError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise ImportRejected([str(p) for p in problems]) from None
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = SurveyForm.objects.select_for_update().get(pk=form.pk)
        before = ImportBatch.objects.filter(form=locked, sha256=digest).order_by("uploaded_at").first()
        batch = ImportBatch.objects.create(
            plan_id=locked.plan_id,
            form=locked,
            kind=kind,
            file_name=file_name[:255],
            sha256=digest,
            uploaded_by=user,
        )
        held = set(Response.objects.filter(form=locked).values_list("response_id", flat=True))
        fresh, seen = [], set()
        for response in _rows_to_responses(table, locked, batch):
            if response.response_id in held or response.response_id in seen:
                continue
            seen.add(response.response_id)
            fresh.append(response)
        # A web submission may store one of these ids after ``held`` was read (it does not lock
        # the form): that row stands, this one is skipped, and the counts say what was stored.
        Response.objects.bulk_create(fresh, ignore_conflicts=True)
        added = Response.objects.filter(batch=batch).count()
        batch.rows_added, batch.rows_skipped_duplicate = added, table.height - added
        batch.save(update_fields=["rows_added", "rows_skipped_duplicate"])
    return ImportResult(
        batch=batch, added=batch.rows_added, skipped=batch.rows_skipped_duplicate, same_file_before=before
    )


# --- raking margins -------------------------------------------------------------------------


def margins_save(*, plan: SurveyPlan, shares: dict[tuple[str, str], float] | None) -> SurveyPlan:
    """Store the population shares per (age band, sex) cell, normalised to sum to 1; ``None``
    removes them. Raises InvalidInput for unknown cells, negative shares or a zero total, and
    CycleNotOpen unless the cycle is open (nothing saved)."""
    require_open_cycle(plan.participation)
    if shares is None:
        plan.margins, plan.margins_updated_at = None, timezone.now()
        plan.save(update_fields=["margins", "margins_updated_at", "updated_at"])
        return plan
    errors: dict[str, list[str]] = {}
    for (age, sex), share in shares.items():
        if age not in AGE_BANDS or sex not in SEXES:
            errors.setdefault("__all__", []).append(
                _("Unknown cell %(age)s × %(sex)s.") % {"age": age, "sex": sex}
            )
        elif share < 0:
            errors.setdefault(f"cell_{age}_{sex}", []).append(_("A share cannot be negative."))
    total = sum(v for v in shares.values() if v > 0)
    if not errors and total <= 0:
        errors["__all__"] = [_("Give at least one positive share.")]
    if errors:
        raise InvalidInput(errors)
    plan.margins = [
        {"age_band": age, "sex": sex, "share": share / total} for (age, sex), share in sorted(shares.items())
    ]
    plan.margins_updated_at = timezone.now()
    plan.save(update_fields=["margins", "margins_updated_at", "updated_at"])
    return plan
