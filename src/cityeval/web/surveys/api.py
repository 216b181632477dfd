"""API: the region's survey forms with their counts and statistics (members of the region; 404
to others), and the public submission endpoint (no authentication).

``POST /api/survey/{token}/responses`` is idempotent by ``response_id``: the first post stores
the response (201), a repeat answers 200 with ``created: false`` and stores nothing. A closed
link (or a cycle no longer open) answers 409, too many submissions from one address 429, invalid
answers 422 naming the fields.

Like the web form, a submission carries ``started``: a signed start token the server handed
out (``GET /api/survey/{token}/start``) together with a ``response_id``, at most 24 hours old.
The token is signed for that form and that response id, and the post must carry both: one
token vouches for one response, never for a flood. Without a valid one the post is refused
(422); with one, the time from start to submission feeds the same "implausibly fast" check as
the web form (the response is stored and excluded, as a too-fast web response is).

The endpoint never looks at the session: it has no CSRF protection, so a logged-in browser's
cookie must grant nothing here. Every caller is anonymous — held to the per-address limit, and
unable to mark a response ``assisted`` (422; assisted entry is on the CSRF-protected web form).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from cityeval.web.refusals import ApiError, api_error
from cityeval.web.surveys.forms import START_MAX_AGE, start_stamp, started_at, started_token
from cityeval.web.surveys.limits import RateLimited
from cityeval.web.surveys.public import client_ip
from cityeval.web.surveys.responses import Submission, response_submit
from cityeval.web.surveys.selectors import form_rows, quality_of, submission_form, survey_for, survey_stats
from cityeval.web.surveys.services import InvalidInput, SurveyClosed, form_accepts_responses

router = Router(tags=["survey"])
_BASE = "/regions/{slug}/cycles/{cycle}/survey"


class FormOut(Schema):
    code: str
    dimension: str
    subdimension: str | None
    mode: str
    statements: list[str]
    target: int
    is_open: bool  # takes responses now: the link is open, its cycle open, its services named
    status: str  # open, closed, unnamed (no programme: never opened) or cycle_closed
    url: str
    received: int
    valid: int
    excluded: dict[str, int]
    cross_form: int
    known_users: int | None
    over_known_users: bool


class StatementOut(Schema):
    form: str
    statement: str
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    method: str
    counts: list[int]
    weighted_mean: float | None = None


class AlphaOut(Schema):
    form: str
    subdimension: str
    alpha: float | None
    n: int
    k: int
    ci_low: float | None
    ci_high: float | None


class StatsOut(Schema):
    sample: str = "non-probability"
    weighted: bool
    statements: list[StatementOut]
    alphas: list[AlphaOut]


class StartOut(Schema):
    response_id: str = Field(description="the id the response must be sent with (the token is signed for it)")
    started: str = Field(description="signed start token: send it back as ``started`` with the response")
    expires_in: int = Field(description="seconds the token stays valid")


class ResponseIn(Schema):
    response_id: str = Field(description="the ``response_id`` GET /api/survey/{token}/start returned")
    started: str = Field("", description="the token from GET /api/survey/{token}/start (required)")
    used_service: bool | None
    answers: dict[str, int | None] = Field(default_factory=dict, description="statement code → 0..4")
    age_band: str = ""
    sex: str = ""
    district: str = ""
    phone: str = Field("", description="optional; only its salted hash is kept")
    assisted: bool = Field(False, description="must be false: assisted entry is on the web form only")


class ResponseOut(Schema):
    response_id: str
    created: bool


@router.get(_BASE + "/forms", response=list[FormOut])
def list_forms(request: HttpRequest, slug: str, cycle: str):
    """The survey's forms with their public link and counts: received, valid, excluded by reason."""
    survey = survey_for(request.user, slug, cycle)
    rows = form_rows(survey.plan, quality_of(survey.plan))
    return [
        FormOut(
            code=r.form.code,
            dimension=r.form.dimension,
            subdimension=r.form.subdimension or None,
            mode=r.form.mode,
            statements=list(r.form.statements),
            target=r.form.target,
            is_open=r.status == "open",
            status=r.status,
            url=request.build_absolute_uri(reverse("surveys:public", kwargs={"token": r.form.token})),
            received=r.received,
            valid=r.valid,
            excluded=r.excluded,
            cross_form=r.cross_form,
            known_users=r.known_users,
            over_known_users=r.over_known_users,
        )
        for r in rows
    ]


@router.get(_BASE + "/stats", response=StatsOut)
def get_stats(request: HttpRequest, slug: str, cycle: str):
    """Per statement: n, mean, bootstrap interval (non-probability sample), answer counts; alpha
    per sub-dimension; the raked mean when the region gave population margins."""
    survey = survey_for(request.user, slug, cycle)
    report = quality_of(survey.plan)
    if survey.plan is None or report is None:
        return StatsOut(weighted=False, statements=[], alphas=[])
    stats = survey_stats(survey.plan, report)
    statements = [
        StatementOut(
            form=r["form"],
            statement=r["statement"],
            n=r["n"],
            mean=r["mean"],
            ci_low=r["ci_low"],
            ci_high=r["ci_high"],
            method=r["method"],
            counts=[r[f"count_{k}"] for k in range(5)],
            weighted_mean=r.get("w_mean"),
        )
        for r in stats.statements.iter_rows(named=True)
    ]
    alphas = [AlphaOut(**a) for a in stats.alphas.iter_rows(named=True)]
    return StatsOut(weighted=stats.weighted, statements=statements, alphas=alphas)


def _start_refusal(started: str, form_token: str, response_id: str) -> dict[str, list[str]]:
    """Why the start token was refused, put where the client can fix it."""
    stamp = start_stamp(started)
    if stamp is not None and stamp[0] == form_token:  # genuine and for this form: the id differs
        return {
            "response_id": [
                _(
                    "This response_id is not the one handed out with the start token: send the "
                    "response_id that GET /api/survey/{token}/start returned with it."
                )
            ],
            "started": [_("The start token was handed out for another response_id.")],
        }
    return {
        "started": [
            _(
                "The start token is missing, forged, over 24 hours old or for another form: get "
                "one from GET /api/survey/{token}/start before answering."
            )
        ]
    }


@router.get("/survey/{token}/start", auth=None, response={200: StartOut, 409: ApiError})
def start_response(request: HttpRequest, token: str):
    """A new ``response_id`` and a start token signed for it and this form (no account): the
    respondent starts answering now. Send both with the response. Unknown token 404, closed
    link 409."""
    form = submission_form(token)
    if not form_accepts_responses(form):
        return api_error(409, "This survey link is closed.")
    response_id = str(uuid.uuid4())
    return StartOut(
        response_id=response_id,
        started=started_token(form, response_id),
        expires_in=int(START_MAX_AGE.total_seconds()),
    )


@router.post(
    "/survey/{token}/responses",
    auth=None,
    # 422 is not declared: a body that fails parsing gets django-ninja's own 422 shape.
    response={200: ResponseOut, 201: ResponseOut, 409: ApiError, 429: ApiError},
)
def submit_response(request: HttpRequest, token: str, payload: ResponseIn):
    """Submit one response to a form by its public token (no account). Idempotent by
    ``response_id``. ``started`` must be a token from ``GET /api/survey/{token}/start`` at most
    24 hours old, sent with the ``response_id`` handed out with it (422 otherwise). The session
    is ignored (no CSRF check here): ``assisted: true`` is refused with 422 — staff mark
    assisted responses on the web form."""
    form = submission_form(token)
    if payload.assisted:
        refused = _("Assisted responses are entered by region staff on the web form, not through the API.")
        return api_error(422, "Invalid response.", {"assisted": [refused]})
    response_id = payload.response_id.strip()
    submission = Submission(
        response_id=response_id,
        used_service=payload.used_service,
        answers=payload.answers,
        age_band=payload.age_band.strip(),
        sex=payload.sex.strip(),
        district=payload.district.strip(),
        phone=payload.phone.strip(),
        assisted=False,
        started_at=started_at(payload.started.strip(), form=form, response_id=response_id),
    )
    try:
        response, created = response_submit(form=form, submission=submission, ip=client_ip(request))
    except SurveyClosed:
        return api_error(409, "This survey link is closed.")
    except RateLimited:
        return api_error(429, "Too many submissions; try again later.")
    except InvalidInput as exc:
        if "started" in exc.errors:
            exc.errors.update(_start_refusal(payload.started.strip(), form.token, response_id))
        return api_error(422, "Invalid response.", exc.errors)
    return Status(201 if created else 200, ResponseOut(response_id=response.response_id, created=created))
