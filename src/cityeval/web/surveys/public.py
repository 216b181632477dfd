"""The public questionnaire at /s/<token>/: no account, Bahasa Indonesia by default, no script.

The page is rendered with a fresh ``response_id`` (a uuid4) in a hidden field, so posting the
same rendered page twice — a double tap, a retry on a flaky network, the back button — stores
one response and answers both posts with the same thank-you page. Beside it, a start stamp
signed for that form and that response id times the answer (``forms.started_token``): it vouches
for one response only. CSRF protection stays on:
Django's CSRF cookie needs no login. Both pages open for a session whose two-factor sign-in is
unfinished (password given, code not yet), which they treat as anonymous.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cityeval.engine import Framework
from cityeval.engine.survey import question_name
from cityeval.web.accounts.access import memberships
from cityeval.web.accounts.models import Role
from cityeval.web.accounts.twofactor import open_to_everyone
from cityeval.web.addresses import client_ip
from cityeval.web.evaluations.models import framework_of
from cityeval.web.labels import page_label
from cityeval.web.surveys import texts
from cityeval.web.surveys.forms import started_token, submission_from_post
from cityeval.web.surveys.limits import RateLimited
from cityeval.web.surveys.models import SurveyForm
from cityeval.web.surveys.readiness import subdimensions_of
from cityeval.web.surveys.responses import Submission, response_submit
from cityeval.web.surveys.selectors import public_form, public_page_form, services_named
from cityeval.web.surveys.services import InvalidInput, SurveyClosed, form_accepts_responses

STAFF_ROLES = (Role.REGIONAL_ADMIN, Role.OPD_CONTRIBUTOR)


def may_assist(user, form: SurveyForm) -> bool:
    """Staff of the form's region (regional admin or OPD contributor) may mark a response as
    filled in with their help; nobody else sees the checkbox."""
    region_id = form.plan.participation.region_id
    return any(m.role in STAFF_ROLES and m.region_id == region_id for m in memberships(user))


def _framework(form: SurveyForm) -> Framework:
    """The form's framework: by the content hash the page's selector read
    (:func:`public_page_form`), parsed once per process, else through its cycle."""
    digest = getattr(form, "framework_digest", None)
    return framework_of(digest) if digest else form.plan.participation.cycle.framework.framework


def _services(form: SurveyForm) -> dict[str, str]:
    """Per sub-dimension the form asks about, the programme it asks about, named so that
    respondents know which service ("E-Padi (Bapenda)")."""
    named = services_named(form.plan_id)
    framework = _framework(form)
    names = {}
    for sub in subdimensions_of(framework, form.dimension, form.subdimension):
        if sub in named:
            name, owner_short, owner_name = named[sub]
            names[sub] = f"{name} ({owner_short or owner_name})"  # the OPD as str(Opd) writes it
    return names


def _subject(form: SurveyForm) -> str:
    framework = _framework(form)
    for dim in framework.dimensions:
        if dim.code == form.dimension:
            if not form.subdimension:
                return page_label(dim.label)
            for sub in dim.subdimensions:
                if sub.code == form.subdimension:
                    return f"{page_label(dim.label)} · {page_label(sub.label)}"
    return form.code


def _page(
    request: HttpRequest,
    form: SurveyForm,
    *,
    submission: Submission | None = None,
    errors: dict | None = None,
    started: str = "",
    status: int = 200,
) -> HttpResponse:
    framework = _framework(form)
    statements = framework.statements_by_code
    answers = submission.answers if submission else {}
    # The stamp is signed for this response id, so a malformed id gets a fresh one (and stamp).
    if submission is not None and submission.response_id and "response_id" not in (errors or {}):
        response_id = submission.response_id
    else:  # the stamp is signed for one response id: a new id needs a new stamp
        response_id, started = str(uuid.uuid4()), ""
    services = _services(form)
    answer_choices = texts.answer_choices()
    statement_rows: list[dict] = [
        {
            "code": code,
            "name": question_name(code),
            "label": page_label(statements[code][2].label),
            "value": answers.get(code),
            "errors": (errors or {}).get(code, []),
            # A combined form asks about several services: each group of statements is
            # headed by the service it is about.
            "service": services.get(statements[code][1].code, "") if not form.subdimension else "",
        }
        for code in form.statements
    ]
    context = {
        "form": form,
        "region": form.plan.participation.region,
        "subject": _subject(form),
        "services": list(services.values()),
        "t": {
            name: page_label(getattr(texts, name))
            for name in (
                "SCREEN",
                "SCREEN_HINT",
                "YES",
                "NO",
                "SCALE_HINT",
                "AGE",
                "SEX",
                "DISTRICT",
                "PHONE",
                "PHONE_HINT",
                "TITLE",
            )
        },
        "statements": statement_rows,
        "answers": answer_choices,
        "ages": texts.age_choices(),
        "sexes": texts.sex_choices(),
        "response_id": response_id,
        "started": started or started_token(form, response_id),
        "submission": submission,
        "errors": errors or {},
        "may_assist": may_assist(request.user, form),
    }
    context["statement_fieldsets"] = statement_fieldsets(statement_rows, answer_choices)
    return render(request, "surveys/public_form.html", context, status=status)


def statement_fieldsets(statements: list[dict], answers: list[tuple[int, str]]) -> SafeString:
    """The questionnaire's statements, one fieldset each with its five answers, as the page's
    HTML: written here rather than by two nested template loops (four to forty statements of
    five radio buttons, the bulk of the page's rendering). Every text is escaped; the output is
    what the loops wrote, to the byte (spacing included)."""
    about = conditional_escape(gettext("About:"))
    out: list[str] = []
    previous: object = object()  # as {% ifchanged %}: the first statement always differs
    for counter, st in enumerate(statements, start=1):
        out.append("\n  ")
        if st["service"] != previous:
            previous = st["service"]
            if st["service"]:
                out.append(f'<h2 class="service-heading">{about} {conditional_escape(st["service"])}</h2>')
        name, errors = conditional_escape(st["name"]), st["errors"]
        out.append(
            f'\n  <fieldset class="q{" bad" if errors else ""}" id="q-{name}" aria-describedby="scale-hint">'
            f"\n    <legend>{counter}. {conditional_escape(st['label'])}</legend>\n    "
        )
        if errors:
            joined = " ".join(conditional_escape(error) for error in errors)
            out.append(f'<p class="errorlist" role="alert">{joined}</p>')
        out.append('\n    <div class="choices scale">')
        for value, text in answers:
            checked = " checked" if st["value"] == value else ""
            out.append(
                f'\n      <label><input type="radio" name="{name}" value="{value}"{checked}> '
                f"<span><strong>{value}</strong> · {conditional_escape(text)}</span></label>"
            )
        out.append("\n    </div>\n  </fieldset>\n  ")
    return mark_safe("".join(out))  # every value above is escaped


def _closed(request: HttpRequest, form: SurveyForm) -> HttpResponse:
    return render(request, "surveys/public_closed.html", {"form": form, "title": page_label(texts.TITLE)})


@open_to_everyone  # a signed-in person who has not yet given the code answers as anyone
def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        form = public_page_form(token)
        return _page(request, form) if form_accepts_responses(form) else _closed(request, form)
    form = public_form(token)
    staff = may_assist(request.user, form)
    submission = submission_from_post(form, request.POST, may_assist=staff)
    try:
        response_submit(
            form=form,
            submission=submission,
            ip=client_ip(request),
            assisted_by=request.user if staff and request.user.is_authenticated else None,
        )
    except SurveyClosed:
        return _closed(request, form)
    except InvalidInput as exc:
        # A valid start stamp is kept, so the time to answer counts from the first render.
        started = "" if "started" in exc.errors else request.POST.get("started", "")
        return _page(request, form, submission=submission, errors=exc.errors, started=started, status=400)
    except RateLimited:
        return render(request, "surveys/public_limited.html", {"form": form}, status=429)
    return redirect("surveys:thanks", token=form.token)


@open_to_everyone
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    form = public_form(token)
    return render(
        request,
        "surveys/public_thanks.html",
        {"form": form, "title": page_label(texts.TITLE), "may_assist": may_assist(request.user, form)},
    )
