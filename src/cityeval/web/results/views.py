"""Results pages: the national table, region pages, exports, PDF letters, and the
coordinator's compute, publish and history-import actions.

Access (see selectors): before publication the coordinator only, 404 to everyone else;
after publication everyone, anonymous citizens included. Assessors' feedback: the coordinator
always, the region's own members after publication. Compute, publish and import: the
coordinator (403 to other logged-in users).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, require_coordinator
from cityeval.web.audit import services as audit
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.downloads import file_response
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Stage
from cityeval.web.evaluations.phases import Activity
from cityeval.web.evaluations.services import framework_version_chosen
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark
from cityeval.web.imports import REFUSED_STATUS, ImportRejected, read_upload
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_enqueue
from cityeval.web.labels import page_label
from cityeval.web.listing import Filter, list_query, listing
from cityeval.web.refusals import Refused
from cityeval.web.results.exports import FORMATS
from cityeval.web.results.forms import HistoryImportForm, LetterDetailsForm
from cityeval.web.results.history import history_import
from cityeval.web.results.intervals import national_intervals_kept
from cityeval.web.results.jobs import cycle_letter_enqueue, export_file
from cityeval.web.results.letters import (
    cycle_letter_context,
    pdf_response,
    region_letter_context,
)
from cityeval.web.results.models import LetterDetails, ResultRun
from cityeval.web.results.national_table import histogram, table_rows
from cityeval.web.results.region_page import region_page, with_feedback
from cityeval.web.results.selectors import (
    ResultsAccess,
    cycle_report_of,
    filter_choices,
    national_rows,
    ranked_count,
    region_history,
    region_results,
    results_access,
    sortable_columns,
    visible_cycles,
)
from cityeval.web.results.services import (
    cycle_publish,
    letter_details_save,
    scores_changed_since,
)


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "results/index.html", {"cycles": visible_cycles(request.user)})


def _previous_year(access: ResultsAccess) -> int | None:
    run = access.run
    return run.previous_cycle.year if run is not None and run.previous_cycle is not None else None


def national(request: HttpRequest, cycle: str) -> HttpResponse:
    access = results_access(request.user, cycle)
    framework = access.framework
    context = {
        "access": access,
        "cycle": access.cycle,
        "run": access.run,
        "framework": framework,
        "components": framework.components,
        "can_compute": access.is_coordinator and phases.refusal(access.cycle, Activity.COMPUTE) is None,
        "can_publish": access.is_coordinator and phases.can(access.cycle, "publish") and access.run,
        "stale": access.is_coordinator
        and access.run is not None
        and scores_changed_since(access.run, cycle=access.cycle),
    }
    if access.run is not None:
        context |= _table(request, access)
    return render(request, "results/national.html", context)


def _table(request: HttpRequest, access: ResultsAccess) -> dict:
    """The national table as asked for: ``?sort=<column>&dir=asc|desc&province=…&group=…&q=…&page=…``."""
    run, framework = access.require_run(), access.framework
    sort = request.GET.get("sort") or "rank_national"
    if sort not in sortable_columns(framework):
        sort = "rank_national"
    descending = request.GET.get("dir") == "desc"
    provinces, _groups = filter_choices(run)
    filters = [
        Filter("province", _("Province"), [(p, p) for p in provinces], _("All provinces")),
        Filter("group", _("Group"), [(g, g) for g in framework.group_codes], _("All groups")),
    ]
    query = list_query(request, filters)
    province, group = query.value("province"), query.value("group")
    rows = national_rows(
        run, framework, sort=sort, descending=descending, province=province, group=group, search=query.search
    )
    finals = tuple(r.result.final for r in rows if r.result.rank_national is not None)
    table = listing(request, rows, filters=filters, id="national", search_label=_("Region name"))
    intervals = national_intervals_kept(access)
    return {
        "table": table,
        "intervals": intervals,
        "rows": table_rows(
            table.items,
            run=run,
            codes=tuple(framework.component_codes),
            cycle=access.cycle.slug,
            intervals=intervals,
            readable=access.is_coordinator or access.published,
        ),
        "ranked": ranked_count(run),
        "sort": sort,
        "descending": descending,
        "formats": FORMATS,
        "job_formats": JOB_FORMATS,
        "headers": _headers(
            framework,
            sort=sort,
            descending=descending,
            query={"province": province, "group": group, "q": query.search},
        ),
        "histogram": histogram(
            finals,
            title=_("Distribution of finals"),
            scale_min=framework.scale.min,
            scale_max=framework.scale.max,
            decimal_mark=decimal_mark(),
        )
        if finals
        else None,
    }


def _headers(framework, *, sort: str, descending: bool, query: dict[str, str]) -> list[dict]:
    """The national table's column headers, each a link that sorts by it (again: reversed)."""
    names = {
        "region": _("Region"),
        "group": _("Group"),
        "province": _("Province"),
        "final": _("Final"),
        "improvement": _("Improvement"),
        "rank_national": _("National rank"),
        "rank_province": _("Provincial rank"),
        "coverage": _("Coverage"),
    }
    for component in framework.components:
        names[component.code] = page_label(component.label)
    headers = []
    for column in sortable_columns(framework):
        active = column == sort
        # Scores read best first; names and ranks from the top of the list.
        first_desc = column not in ("region", "group", "province", "rank_national", "rank_province")
        desc = (not descending) if active else first_desc
        params = {k: v for k, v in query.items() if v} | {"sort": column, "dir": "desc" if desc else "asc"}
        headers.append(
            {
                "key": column,
                "label": names[column],
                "url": "?" + urlencode(params),
                "active": active,
                "descending": descending if active else None,
                "numeric": column not in ("region", "group", "province"),
            }
        )
    return headers


def region(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    results = region_results(request.user, cycle, region)
    access = results.access
    run = access.require_run()
    page = region_page(results, previous_year=_previous_year(access))
    context = {
        "access": access,
        "cycle": access.cycle,
        "run": run,
        "region": results.row.region,
        "result": results.row,
        "report": with_feedback(page.report, results),
        "framework": access.framework,
        "page": page,
        "sees_feedback": results.sees_feedback,
        "history": region_history(results.row.region_id, coordinator=access.is_coordinator),
    }
    return render(request, "results/region.html", context)


# --- exports ---------------------------------------------------------------------------------


def _export(request: HttpRequest, cycle: str, fmt: str, table: str) -> HttpResponse:
    """A download made on the request, for everyone who may see the results (after publication
    anonymous citizens too); the coordinator may also have it made by a job
    (:func:`export_prepare`)."""
    if fmt not in FORMATS:
        raise Http404
    content, name = export_file(results_access(request.user, cycle), table, fmt)
    return file_response(content, filename=name)


def national_export(request: HttpRequest, cycle: str, fmt: str) -> HttpResponse:
    return _export(request, cycle, fmt, "national")


def items_export(request: HttpRequest, cycle: str, fmt: str) -> HttpResponse:
    return _export(request, cycle, fmt, "items")


JOB_FORMATS = ("xlsx", "csv")  # offered on the page; JSON, small, is asked for on the link
EXPORT_KINDS = {"national": Job.Kind.NATIONAL_EXPORT, "items": Job.Kind.ITEMS_EXPORT}


@login_required
@require_POST
def export_prepare(request: HttpRequest, cycle: str, fmt: str, table: str) -> HttpResponse:
    """The coordinator has the national table or the item scores made by a background job
    (the same file asked again, while the results and the cycle's status stay the same, is
    the same job); its page shows the progress, then the download."""
    require_coordinator(request.user)
    if fmt not in FORMATS:
        raise Http404
    access = results_access(request.user, cycle)
    run = access.require_run()
    language = get_language()
    kind = EXPORT_KINDS[table]
    job = job_enqueue(
        user=acting_user(request),
        kind=kind,
        key=f"{kind}:{access.cycle.pk}:{run.pk}:{access.cycle.status}:{fmt}:{language}",
        params={
            "cycle": access.cycle.slug,
            "cycle_name": access.cycle.name,
            "language": language,
            "format": fmt,
        },
    )
    return redirect("jobs:job", job_id=job.pk)


# --- letters ---------------------------------------------------------------------------------


def region_letter(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    results = region_results(request.user, cycle, region)
    access = results.access
    context = region_letter_context(results)
    filename = f"results-{access.cycle.slug}-{results.row.region.slug}.pdf"
    return pdf_response(request, "results/pdf/region_letter.html", context, filename=filename)


def cycle_letter(request: HttpRequest, cycle: str) -> HttpResponse:
    """The whole cycle's letter: the national table and charts. The coordinator's copy with
    every region's feedback is long (about 50 s for 550 regions): a background job makes it
    (:func:`cycle_letter_prepare`)."""
    access = results_access(request.user, cycle)
    report = cycle_report_of(access, with_feedback=False)
    context = cycle_letter_context(access, report, with_feedback=False)
    filename = f"results-{access.cycle.slug}.pdf"
    return pdf_response(request, "results/pdf/cycle_letter.html", context, filename=filename)


@login_required
@require_POST
def cycle_letter_prepare(request: HttpRequest, cycle: str) -> HttpResponse:
    """The coordinator asks for the letter with every region's feedback: queued as a job (the
    same letter asked again is the same job), then its page shows the progress."""
    require_coordinator(request.user)
    access = results_access(request.user, cycle)
    job = cycle_letter_enqueue(user=acting_user(request), access=access, language=get_language())
    # Every assessor's feedback, by name: the audit trail keeps who asked for it.
    audit.record(
        action=audit.Action.ASSESSOR_DATA_DOWNLOAD, user=acting_user(request), target=access.cycle,
        request=request, details={"what": "cycle letter with feedback", "job": job.pk},
    )  # fmt: skip
    return redirect("jobs:job", job_id=job.pk)


@login_required
def letter_details(request: HttpRequest, cycle: str) -> HttpResponse:
    """The coordinator sets what makes the cycle's letters official (403 to everyone else)."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    details = LetterDetails.objects.filter(cycle=the_cycle).first()
    form = LetterDetailsForm(request.POST or None, instance=details)
    if request.method == "POST" and form.is_valid():
        letter_details_save(cycle=the_cycle, data=form.cleaned_data, user=acting_user(request))
        messages.success(
            request,
            _("Letter details saved: the letters of %(cycle)s carry them.") % {"cycle": the_cycle.name},
        )
        return redirect("results:letter_details", cycle=the_cycle.slug)
    return render(
        request,
        "results/letter_details.html",
        {"cycle": the_cycle, "form": form, "details": details},
        status=400 if form.errors else 200,
    )


# --- coordinator actions ---------------------------------------------------------------------


@login_required
@require_POST
def compute(request: HttpRequest, cycle: str) -> HttpResponse:
    """The coordinator computes the closed cycle's results: a background job (see
    ``results.jobs``), whose page shows the outcome or the failure with a retry. Asked again
    while it is queued or running, it is the same job (its key names the results it replaces);
    once it is done, asking again computes again, as before. A cycle that does not allow
    computing is refused here, with the reason, and nothing is queued."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    if reason := phases.refusal(the_cycle, Activity.COMPUTE):
        messages.error(request, reason)
        return redirect("results:national", cycle=the_cycle.slug)
    stage = Stage.Kind.STAGE_II
    current = ResultRun.objects.filter(cycle=the_cycle, is_current=True).values_list("pk", flat=True).first()
    language = get_language()
    job = job_enqueue(
        user=acting_user(request),
        kind=Job.Kind.RESULTS_COMPUTE,
        key=f"results_compute:{the_cycle.pk}:{stage}:{current or '-'}",
        params={"cycle": the_cycle.slug, "cycle_name": the_cycle.name, "language": language, "stage": stage},
    )
    return redirect("jobs:job", job_id=job.pk)


def _publish_confirmation(request: HttpRequest, the_cycle: Cycle) -> HttpResponse:
    """What publishing makes public and locks, and what would stop it."""
    run = ResultRun.objects.filter(cycle=the_cycle, is_current=True).first()
    unfinished = []
    if reason := phases.transition_refusal(the_cycle, "publish"):
        unfinished.append(reason)
    if run is None:
        unfinished.append(_("There are no results to publish: compute them first."))
    elif scores_changed_since(run):
        unfinished.append(
            _("Scores were recorded after the results were computed: compute them again before publishing.")
        )
    return confirm_page(
        request,
        title=_("Publish the results of %(cycle)s?") % {"cycle": the_cycle.name},
        action=request.path,
        cancel=reverse("results:national", kwargs={"cycle": the_cycle.slug}),
        button=_("Yes, publish the results"),
        consequences=[
            _(
                "The national table, every region's page, the letters and the downloads "
                "become public to everyone, without logging in."
            ),
            _("Each region's members see the assessors' feedback."),
            _("The cycle is locked for good: no recomputation, no reopening, no changes to its dates."),
        ],
        unfinished=unfinished,
    )


@login_required
def publish(request: HttpRequest, cycle: str) -> HttpResponse:
    """GET: the confirmation page; POST with ``confirm=yes``: publish."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    if not confirmed(request):
        return _publish_confirmation(request, the_cycle)
    try:
        cycle_publish(cycle=the_cycle, user=acting_user(request))
    except Refused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The results are published. The cycle is now locked."))
    return redirect("results:national", cycle=the_cycle.slug)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    form = HistoryImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        version = framework_version_chosen(data["framework"])
        try:
            imported = history_import(
                year=data["year"],
                framework_version=version,
                table=read_upload(data["file"]),
                user=acting_user(request),
                default_group=data["default_group"] or None,
                slug=data["slug"] or None,
                name=data["name"] or None,
            )
        except ImportRejected as exc:
            problems = exc.errors
        else:
            messages.success(
                request,
                _("%(count)d regions imported as the published results of %(year)d.")
                % {"count": imported.participations.count(), "year": imported.year},
            )
            return redirect("results:national", cycle=imported.slug)
    return render(
        request,
        "results/history.html",
        {"form": form, "problems": problems},
        status=REFUSED_STATUS if problems else 200,
    )
