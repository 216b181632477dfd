"""The region's survey pages: overview, plan, forms (XLSForm, template, open/close), import,
quality, statistics, raking margins and the recap (PDF, XLSX).

Access: members of the region and the coordinator read (others get 404); the regional admin
alone writes — the plan, generating forms, opening and closing links, imports, margins (403
for everyone else), and only while the cycle is open: once it is closed or published, every
write answers 403 with the reason and changes nothing, while the pages, downloads and recaps
stay readable. The public questionnaire is in ``public.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.engine.limits import LimitError, check_bytes
from cityeval.engine.survey import REASONS, template_csv, xlsform_bytes
from cityeval.web.accounts.access import acting_user
from cityeval.web.downloads import file_response
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.phases import Activity, CycleClosed
from cityeval.web.imports import limit_message, survey_limits, upload_bytes
from cityeval.web.labels import page_language
from cityeval.web.programmes.models import Programme
from cityeval.web.programmes.selectors import dimension_labels
from cityeval.web.refusals import refused_page
from cityeval.web.surveys import qr, recap
from cityeval.web.surveys.forms import ImportForm, MarginsForm, PlanForm
from cityeval.web.surveys.jobs import import_jobs_unfinished, survey_import_enqueue
from cityeval.web.surveys.models import ImportBatch
from cityeval.web.surveys.plans import (
    form_set_open,
    forms_generate,
    locked_dimensions,
    margins_save,
    plan_get_or_create,
    plan_save,
)
from cityeval.web.surveys.readiness import STATUS_LABELS, FormNotReady
from cityeval.web.surveys.responses import ImportResult, import_summary, responses_import
from cityeval.web.surveys.selectors import (
    REASON_LABELS,
    Survey,
    busy_hours,
    cross_form_respondents,
    form_of,
    form_rows,
    form_titles,
    forms_of,
    quality_of,
    survey_for,
)
from cityeval.web.surveys.services import ImportRejected, InvalidInput, cycle_is_open, spec_of


def _frozen(survey: Survey) -> str:
    """Why the survey can no longer change ("" while its cycle is open)."""
    return phases.refusal(survey.participation.cycle, Activity.SURVEY) or ""


def _can_manage(survey: Survey) -> bool:
    return survey.access.is_admin and not _frozen(survey)


def _context(survey: Survey, **extra) -> dict:
    return {
        "access": survey.access,
        "region": survey.access.region,
        "participation": survey.participation,
        "cycle": survey.participation.cycle,
        "framework": survey.framework,
        "plan": survey.plan,
        "can_manage": _can_manage(survey),
        "frozen": _frozen(survey),
        **extra,
    }


def _refused(request: HttpRequest, survey: Survey, back: str) -> HttpResponse:
    """A write the survey no longer takes (its cycle is not open): 403 with the reason."""
    reason = phases.refusal(phases.current(survey.participation.cycle_id), Activity.SURVEY) or ""
    context = {
        "region": survey.access.region,
        "cycle": survey.participation.cycle,
        "nav": "surveys/_nav.html",
    }
    return refused_page(request, reason, back=_to(back, survey).url, context=context)


def _require_writable(request: HttpRequest, survey: Survey, back: str) -> HttpResponse | None:
    """The regional admin alone writes (403 for others), and only while the cycle is open:
    otherwise the refusal page, before anything is read or created."""
    survey.access.require_admin()
    if not cycle_is_open(survey.participation):
        return _refused(request, survey, back)
    return None


def _to(name: str, survey: Survey) -> HttpResponseRedirect:
    return redirect(
        f"surveys:{name}", region=survey.access.region.slug, cycle=survey.participation.cycle.slug
    )


def public_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("surveys:public", kwargs={"token": token}))


@login_required
def overview(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    rows = form_rows(survey.plan, quality_of(survey.plan))
    links = {row.form.code: public_url(request, row.form.token) for row in rows}
    totals = {
        "received": sum(r.received for r in rows),
        "valid": sum(r.valid for r in rows),
        "target": sum(r.form.target for r in rows),
    }
    labels = form_titles(survey.plan, [row.form for row in rows])
    return render(
        request,
        "surveys/overview.html",
        _context(
            survey,
            rows=rows,
            links=links,
            totals=totals,
            labels=labels,
            busy_hours=busy_hours(survey.plan),
            statuses=STATUS_LABELS,
        ),
    )


def _plan_form(survey: Survey, data=None) -> PlanForm:
    programmes = list(
        Programme.objects.filter(region=survey.access.region)
        .select_related("owner")
        .order_by("dimension", "name")
    )
    form = PlanForm(
        data,
        initial=PlanForm.initial_for(survey.plan, survey.framework),
        framework=survey.framework,
        programmes=programmes,
        language=page_language(),
        locked=locked_dimensions(survey.plan) if survey.plan else set(),
    )
    if not _can_manage(survey):  # members (or a closed cycle) read the plan; the fields say so
        for field in form.fields.values():
            field.disabled = True
    return form


def _plan_layout(survey: Survey, form: PlanForm) -> list[dict]:
    """Per dimension: its mode field and, per sub-dimension, the programme and users fields."""
    entries = (
        {e.subdimension: e for e in survey.plan.entries.select_related("programme__owner")}
        if survey.plan
        else {}
    )
    return [
        {
            "dimension": dim,
            "mode": form[f"mode_{dim.code}"],
            "subs": [
                {
                    "sub": sub,
                    "programme": form[f"programme_{sub.code}"],
                    "users": form[f"users_{sub.code}"],
                    "entry": entries.get(sub.code),
                }
                for sub in dim.subdimensions
            ],
        }
        for dim in survey.framework.dimensions
    ]


@login_required
def plan(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    if request.method == "POST":
        if refused := _require_writable(request, survey, "plan"):
            return refused
        form = _plan_form(survey, request.POST)
        if form.is_valid():
            try:
                plan_save(participation=survey.participation, data=form.plan_input())
            except CycleClosed:  # closed between the check and the save
                return _refused(request, survey, "plan")
            except InvalidInput as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(request, _("Survey plan saved. Generate the forms to apply it."))
                return _to("plan", survey)
    else:
        form = _plan_form(survey)
    forms = forms_of(survey.plan)
    locked = locked_dimensions(survey.plan) if survey.plan else set()
    labels = dimension_labels(survey.framework, page_language())
    return render(
        request,
        "surveys/plan.html",
        _context(
            survey,
            form=form,
            layout=_plan_layout(survey, form),
            forms=forms,
            locked=[label for code, label in labels.items() if code in locked],
        ),
    )


@login_required
@require_POST
def generate(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    if refused := _require_writable(request, survey, "plan"):
        return refused
    result = forms_generate(plan=survey.plan or plan_get_or_create(participation=survey.participation))
    messages.success(
        request,
        _("Forms generated: %(created)d new, %(updated)d updated, %(removed)d removed.")
        % {"created": len(result.created), "updated": len(result.updated), "removed": len(result.removed)},
    )
    if result.kept:
        messages.warning(
            request,
            _("Forms %(codes)s have responses but are no longer in the plan: they were kept and closed.")
            % {"codes": ", ".join(result.kept)},
        )
    if result.unnamed:
        messages.warning(
            request,
            _(
                "Forms %(codes)s do not say which service they ask about: their links stay closed until "
                "the survey plan names a programme or service for each of their sub-dimensions."
            )
            % {"codes": ", ".join(result.unnamed)},
        )
    return _to("overview", survey)


@login_required
@require_POST
def toggle(request: HttpRequest, region: str, cycle: str, form: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    if refused := _require_writable(request, survey, "overview"):
        return refused
    the_form = form_of(survey, form)
    try:
        form_set_open(form=the_form, is_open=request.POST.get("open") == "1")
    except FormNotReady as exc:
        messages.error(request, str(exc))
        return _to("overview", survey)
    if the_form.is_open:
        messages.success(request, _("The link of form %(code)s is open.") % {"code": the_form.code})
    else:
        messages.success(request, _("The link of form %(code)s is closed.") % {"code": the_form.code})
    return _to("overview", survey)


@login_required
def xlsform(request: HttpRequest, region: str, cycle: str, form: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    the_form = form_of(survey, form)
    data = xlsform_bytes(spec_of(the_form), survey.framework)
    return file_response(data, filename=f"cityeval_{region}_{the_form.code}.xlsx")


@login_required
def template(request: HttpRequest, region: str, cycle: str, form: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    the_form = form_of(survey, form)
    return file_response(template_csv(spec_of(the_form)), filename=f"cityeval_{the_form.code}_template.csv")


@login_required
def qr_code(request: HttpRequest, region: str, cycle: str, form: str, kind: str) -> HttpResponse:
    """The QR code of the form's public link, as PNG or SVG, for a poster."""
    survey = survey_for(request.user, region, cycle)
    the_form = form_of(survey, form)
    if kind not in qr.KINDS:
        raise Http404
    data = qr.qr_bytes(public_url(request, the_form.token), kind)
    response = file_response(
        data, filename=f"survey-{region}-{the_form.code}-qr.{kind}", content_type=qr.KINDS[kind]
    )
    # An SVG is a document: opened on its own it runs nothing, like a stored upload.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def import_responses(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    forms = forms_of(survey.plan)
    errors: list[str] = []
    if request.method == "POST":
        if refused := _require_writable(request, survey, "import"):
            return refused
        upload_form = ImportForm(request.POST, request.FILES, forms_=forms)
        if upload_form.is_valid():
            data = upload_form.cleaned_data
            upload = data["file"]
            try:
                content = upload_bytes(upload, survey_limits())
                if len(content) > settings.SURVEY_IMPORT_SYNC_MAX_KB * 1024:
                    check_bytes(content, survey_limits())  # the checks that need no parsing
                    job = survey_import_enqueue(
                        form=form_of(survey, data["form"]),
                        data=content,
                        file_name=upload.name or "",
                        kind=data["kind"],
                        user=acting_user(request),
                    )
                    return redirect("jobs:job", job_id=job.pk)
                result = responses_import(
                    form=form_of(survey, data["form"]),
                    data=content,
                    file_name=upload.name or "",
                    kind=data["kind"],
                    user=acting_user(request),
                )
            except LimitError as exc:  # refused before the file was parsed
                errors = [limit_message(exc)]
            except ImportRejected as exc:
                errors = exc.errors
            else:
                _import_messages(request, result)
                return _to("import", survey)
    else:
        upload_form = ImportForm(forms_=forms)
    batches = (
        ImportBatch.objects.filter(plan=survey.plan).select_related("form", "uploaded_by")[:50]
        if survey.plan
        else []
    )
    unfinished = []
    if survey.access.is_admin or survey.access.is_coordinator:
        unfinished = import_jobs_unfinished(
            forms=forms,
            user=acting_user(request),
            everyone=survey.access.is_coordinator,
        )
    return render(
        request,
        "surveys/import.html",
        _context(
            survey,
            upload_form=upload_form,
            errors=errors,
            batches=batches,
            forms=forms,
            unfinished=unfinished,
            sync_max_kb=settings.SURVEY_IMPORT_SYNC_MAX_KB,
        ),
        status=400 if errors else 200,
    )


def _import_messages(request: HttpRequest, result: ImportResult) -> None:
    warning, text = import_summary(result)
    (messages.warning if warning else messages.success)(request, text)


@login_required
def quality(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    report = quality_of(survey.plan)
    rows = form_rows(survey.plan, report)
    excluded = []
    if report is not None:
        table = report.responses.filter(report.responses["excluded"])
        excluded = table.select("form", "response_id", "reason").sort("form", "reason").to_dicts()
    return render(
        request,
        "surveys/quality.html",
        _context(
            survey,
            rows=rows,
            reasons=[(r, REASON_LABELS.get(r, r)) for r in REASONS],
            reason_labels=REASON_LABELS,
            excluded=excluded,
            cross_form=cross_form_respondents(report),
            busy_hours=busy_hours(survey.plan),
            titles=form_titles(survey.plan, [row.form for row in rows]),
        ),
    )


@login_required
def statistics(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    report = quality_of(survey.plan)
    blocks = recap.stat_blocks(survey, report) if report is not None else []
    weighted = any(b["weighted"] for b in blocks)
    return render(
        request,
        "surveys/statistics.html",
        _context(survey, blocks=blocks, weighted=weighted, note=blocks[0]["note"] if blocks else ""),
    )


@login_required
def margins(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    if request.method == "POST":
        if refused := _require_writable(request, survey, "margins"):
            return refused
        plan_ = survey.plan or plan_get_or_create(participation=survey.participation)
        if request.POST.get("clear"):
            margins_save(plan=plan_, shares=None)
            messages.success(request, _("Population margins removed: estimates are unweighted."))
            return _to("margins", survey)
        form = MarginsForm(request.POST)
        if form.is_valid():
            try:
                margins_save(plan=plan_, shares=form.shares())
            except InvalidInput as exc:
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(
                    request,
                    _("Population margins saved: weighted estimates are shown beside the unweighted ones."),
                )
                return _to("margins", survey)
    else:
        form = MarginsForm(initial=MarginsForm.initial_for(survey.plan))
    return render(request, "surveys/margins.html", _context(survey, form=form))


@login_required
def recap_pdf(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    data = recap.recap_pdf(survey, request=request)
    return file_response(data, filename=f"survey-recap-{region}-{cycle}.pdf")


@login_required
def recap_xlsx(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    survey = survey_for(request.user, region, cycle)
    data = recap.recap_xlsx(survey)
    return file_response(data, filename=f"survey-recap-{region}-{cycle}.xlsx")
