"""Writes of survey responses: web submissions and imported exports.

Responses are appended, never changed or deleted. A web submission carries the id its page was
rendered with, so a double tap or a flaky network stores it once; an import skips every row
whose id the form already holds, so the same file imported twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

import polars as pl
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import InputError
from cityeval.engine.limits import LimitError
from cityeval.engine.survey import AGE_BANDS, ANSWERS, SEXES, read_responses
from cityeval.engine.survey import identity_hash as engine_identity_hash
from cityeval.engine.survey.imports import Kind as ImportKind
from cityeval.web.bounds import max_length
from cityeval.web.engine_errors import input_error_text
from cityeval.web.imports import limit_message, survey_limits
from cityeval.web.surveys.limits import network_of, sender_of, submission_check
from cityeval.web.surveys.models import ImportBatch, Response, SurveyForm
from cityeval.web.surveys.services import (
    ImportRejected,
    InvalidInput,
    SurveyClosed,
    form_accepts_responses,
    require_open_cycle,
    spec_of,
)

RESPONSE_ID = re.compile(r"^[A-Za-z0-9:._-]{8,100}$")
DISTRICT_MAX = 120
IMPORT_KINDS = ("auto", "kobo", "odk", "template")


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
    if not value:  # nothing to hash (the number is optional): no need to ask the engine
        return ""
    return engine_identity_hash(value, salt=identity_salt()) or ""


def ip_hash(ip: str) -> str:
    return hmac.new(_derived_key("survey-ip").encode(), (ip or "").encode(), hashlib.sha256).hexdigest()


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
    *, form: SurveyForm, submission: Submission, ip: str, assisted_by: User | None = None
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
    stored = Response.objects.filter(form=form, response_id=submission.response_id)
    if stored.exists():  # (the common case, a new id, reads no row)
        existing = stored.first()  # None if its form was deleted meanwhile: then it is refused below
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
    # One INSERT is atomic by itself: a transaction around it only when the caller holds one,
    # which the insert losing the race below must leave usable (a savepoint).
    atomic = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with atomic:
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


ROWS_PER_STEP = 500  # rows checked between two progress reports of an import job


def import_rows(
    table: pl.DataFrame, form: SurveyForm, *, progress: Callable[[int], None] | None = None
) -> list[Response]:
    """The unsaved responses of a read export, not yet tied to their import batch; ``progress``
    is told how many rows are done, every :data:`ROWS_PER_STEP` rows and at the end."""
    spec = spec_of(form)
    out = []
    for number, row in enumerate(table.iter_rows(named=True), start=1):
        answers = {code: row.get(q) for code, q in zip(spec.statements, spec.questions, strict=True)}
        out.append(
            Response(
                form=form,
                response_id=row["response_id"],
                source=Response.Source.IMPORT,
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
        if progress is not None and (number % ROWS_PER_STEP == 0 or number == table.height):
            progress(number)
    return out


def responses_read(*, form: SurveyForm, data: bytes, kind: ImportKind) -> pl.DataFrame:
    """Read and check an export of ``form`` (nothing stored): its rows as a table. Raises
    ImportRejected, or CycleClosed unless the cycle is open."""
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
            max_id_length=max_length(Response, "response_id"),
        )
    except LimitError as exc:  # over a SURVEY_IMPORT_* limit: refused before it was parsed
        raise ImportRejected([limit_message(exc)]) from None
    except InputError as exc:  # said in the page's language, from the error's code
        raise ImportRejected([input_error_text(exc)]) from None
    if table.height == 0:  # a header alone: refused, not recorded as an import of nothing
        empty = InputError("the table has a header but no data rows", code="no_data_rows")
        raise ImportRejected([input_error_text(empty)])
    return table


def responses_import(
    *, form: SurveyForm, data: bytes, file_name: str, kind: ImportKind, user: User
) -> ImportResult:
    """Import an export of ``form``: all rows or none. Rows whose id the form already holds
    (and repeated ids within the file) are skipped and counted. Raises ImportRejected, or
    CycleClosed unless the cycle is open (nothing imported). A large file is imported the same
    way by a background job (``surveys.jobs``): read and checked first, then stored."""
    table = responses_read(form=form, data=data, kind=kind)
    return responses_store(
        form=form,
        rows=import_rows(table, form),
        digest=hashlib.sha256(data).hexdigest(),
        file_name=file_name,
        kind=kind,
        user=user,
    )


def responses_store(
    *, form: SurveyForm, rows: list[Response], digest: str, file_name: str, kind: str, user: User
) -> ImportResult:
    """Store the checked rows of one export (:func:`import_rows`) in one transaction with their
    import batch, skipping every id the form already holds (and repeated ids); ``digest`` is the
    file's SHA-256, which tells an earlier import of the very same file. CycleClosed unless the
    cycle is still open."""
    require_open_cycle(form.plan.participation)
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
        for response in rows:
            if response.response_id in held or response.response_id in seen:
                continue
            seen.add(response.response_id)
            response.batch = batch
            fresh.append(response)
        # A web submission may store one of these ids after ``held`` was read (it does not lock
        # the form): that row stands, this one is skipped, and the counts say what was stored.
        Response.objects.bulk_create(fresh, ignore_conflicts=True)
        added = Response.objects.filter(batch=batch).count()
        batch.rows_added, batch.rows_skipped_duplicate = added, len(rows) - added
        batch.save(update_fields=["rows_added", "rows_skipped_duplicate"])
    return ImportResult(
        batch=batch, added=batch.rows_added, skipped=batch.rows_skipped_duplicate, same_file_before=before
    )


def import_summary(result: ImportResult) -> tuple[bool, str]:
    """What the import page says after an import, in the active language: whether it is a
    warning (the same file was imported before and added nothing), and the sentence."""
    counts = {"added": result.added, "skipped": result.skipped, "file": result.batch.file_name}
    if result.added == 0 and result.same_file_before is not None:
        return True, _(
            "%(file)s was imported before: nothing was added (%(skipped)d responses were already there)."
        ) % counts
    return False, _(
        "%(file)s imported: %(added)d responses added, %(skipped)d already there and skipped."
    ) % counts
