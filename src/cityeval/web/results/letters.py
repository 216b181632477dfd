"""Charts and PDF letters: drawn from the same report data as the pages.

The charts are SVG drawn by ``charts.py`` (no JavaScript), embedded inline in the page and in the
letter. Letters are HTML templates rendered by WeasyPrint; nothing external is fetched.

The region letter draws what the region page draws, with the same chart functions and the same
visibility: the radar charts, the peers box plots (``peers.region_peers``), the final's
interval chart (``intervals.region_intervals``, or the sentence why there is none) and the
trend over the years (``trends``), each with its numbers in a table.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.engine.report import CycleReport, RegionReport
from cityeval.web.accounts.access import is_coordinator
from cityeval.web.downloads import file_response
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import JobFile
from cityeval.web.labels import page_language
from cityeval.web.pdf import pdf_bytes
from cityeval.web.refusals import Refused
from cityeval.web.results.charts import histogram_svg, radar_svg
from cityeval.web.results.intervals import region_intervals
from cityeval.web.results.models import LetterDetails
from cityeval.web.results.peers import region_peers
from cityeval.web.results.selectors import (
    RegionResults,
    ResultsAccess,
    cycle_report_of,
    region_report_of,
    results_access,
)
from cityeval.web.results.trends import RegionTrends, region_trends

RADAR_MIN_AXES = 3  # below three axes a radar is a line, not a shape: the tables suffice


def _legend(year: int, previous_year: int | None) -> tuple[str, str]:
    return str(year), str(previous_year) if previous_year else _("last year")


def _radar(series, *, scale_max: float, scale_min: float, title: str, legend: tuple[str, str]) -> str | None:
    if len(series) < RADAR_MIN_AXES or all(now is None for _label, now, _before in series):
        return None
    return radar_svg(
        series,
        scale_max=scale_max,
        scale_min=scale_min,
        title=title,
        legend=legend,
        decimal_mark=decimal_mark(),
    )


def region_charts(report: RegionReport, *, year: int, previous_year: int | None) -> dict[str, str | None]:
    """The region's radar charts: dimensions and components, this year against last year."""
    language = page_language()
    legend = _legend(year, previous_year)
    scale = {"scale_max": report.scale_max, "scale_min": report.scale_min}
    return {
        "dimensions": _radar(
            report.dimension_series(language), title=_("Score per dimension"), legend=legend, **scale
        ),
        "components": _radar(
            report.component_series(language), title=_("Score per component"), legend=legend, **scale
        ),
    }


def cycle_charts(report: CycleReport, *, year: int, previous_year: int | None) -> dict[str, str | None]:
    """National means per dimension and the distribution of finals."""
    language = page_language()
    scale = {"scale_max": report.scale_max, "scale_min": report.scale_min}
    finals = report.finals
    return {
        "dimensions": _radar(
            report.dimension_series(language),
            title=_("National mean per dimension"),
            legend=_legend(year, previous_year),
            **scale,
        ),
        "histogram": histogram_svg(
            finals,
            title=_("Distribution of finals"),
            scale_min=report.scale_min,
            scale_max=report.scale_max,
            decimal_mark=decimal_mark(),
        )
        if finals
        else None,
    }


def letter_trends(access: ResultsAccess, results: RegionResults) -> RegionTrends | None:
    """The region's results year by year as its letter shows them: the trends page's data and
    charts, cut at the letter's cycle (a letter does not speak of later years) and, as a letter
    is sent out, of the other cycles only the published ones. None when the region took part in
    none of them."""
    region = results.row.region
    published_only = not access.is_coordinator

    def kept(cycle: Cycle) -> bool:
        return cycle.year <= access.cycle.year and (
            cycle.status == Cycle.Status.PUBLISHED or cycle.pk == access.cycle.pk
        )

    trends = region_trends(region, published_only=published_only, keep=kept)
    return trends if any(y.took_part for y in trends.years) else None


def region_letter_context(results: RegionResults) -> dict:
    """What the region's letter needs: its report, radar charts, peers, intervals and trends,
    each chart drawn by the same code as the pages, with the same visibility."""
    access = results.access
    run = access.require_run()
    report = region_report_of(results)
    previous = run.previous_cycle.year if run.previous_cycle is not None else None
    return {
        "cycle": access.cycle,
        "run": run,
        "region": results.row.region,
        "report": report,
        "framework": access.framework,
        "charts": region_charts(report, year=access.cycle.year, previous_year=previous),
        "sees_feedback": results.sees_feedback,
        "letter": LetterDetails.objects.filter(cycle=access.cycle).first(),
        "peers": region_peers(access, results.row),
        "intervals": region_intervals(access, results.row),
        "trends": letter_trends(access, results),
    }


def pdf_response(request: HttpRequest, template: str, context: dict, *, filename: str) -> HttpResponse:
    html = render_to_string(template, context, request=request)
    return file_response(pdf_bytes(html), filename=filename)


def cycle_letter_context(access: ResultsAccess, report: CycleReport, *, with_feedback: bool) -> dict:
    """What the whole-cycle letter's template needs, on a page's request or in a job."""
    run = access.require_run()
    previous = run.previous_cycle.year if run.previous_cycle is not None else None
    return {
        "cycle": access.cycle,
        "run": run,
        "report": report,
        "framework": access.framework,
        "charts": cycle_charts(report, year=access.cycle.year, previous_year=previous),
        "sees_feedback": with_feedback,
        "letter": LetterDetails.objects.filter(cycle=access.cycle).first(),
    }


def cycle_letter_job(job: Job, progress: Callable[[int, int], None]) -> JobFile:
    """The coordinator's whole-cycle letter with every region's feedback, made by a job:
    one step per region read, one for the PDF; access checked again for the job's author."""
    user = job.created_by
    if user is None or not is_coordinator(user):
        raise LetterRefused
    with translation.override(job.params["language"]):
        access = results_access(user, job.params["cycle"])
        steps = [1]  # the PDF, plus one per region once the regions are counted

        def region_read(done: int, total: int) -> None:
            steps[0] = total + 1
            progress(done, steps[0])

        report = cycle_report_of(access, with_feedback=True, progress=region_read)
        context = cycle_letter_context(access, report, with_feedback=True)
        content = pdf_bytes(render_to_string("results/pdf/cycle_letter.html", context))
    progress(steps[0], steps[0])
    return JobFile(content, f"results-{access.cycle.slug}-feedback.pdf")


class LetterRefused(Refused):
    status = 403
    default_message = gettext_lazy("Only a national coordinator may have this letter made.")
