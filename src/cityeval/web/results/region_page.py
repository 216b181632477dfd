"""What the region page shows of its run, kept by the process (see :mod:`.kept`).

The region's report (without the assessors' feedback), its radar charts, item scores, peers
and intervals depend on the run's stored rows, which never change, and on a few other things,
all in the key: the region, the cycle's slug, year and framework, the page's language and
decimal mark, whether the reader may see the run's peers and intervals (the coordinator, or
anyone once the cycle is published), whether the run is published, the previous cycle's
current run (last year's scores) and year, the links' script prefix, and the names, slugs and
kinds of the regions (read on every request: a renamed region is a new key).

Who may open the page, whether the reader sees the assessors' feedback, the feedback itself
and the region's history over the cycles (other runs, their publication) are decided and read
on every request, never kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from cityeval.engine.report import RegionReport, feedback_entry
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark
from cityeval.web.kept import Kept
from cityeval.web.panels.tables import feedback_for
from cityeval.web.regions.models import Region
from cityeval.web.results.intervals import region_intervals
from cityeval.web.results.kept import run_key
from cityeval.web.results.letters import region_charts
from cityeval.web.results.peers import region_peers
from cityeval.web.results.selectors import (
    RegionResults,
    previous_run,
    region_items,
    region_report_of,
)

REGION_PAGES_KEPT = 64  # regions × languages × readers' kinds; about 50 kB of HTML each


@dataclass(frozen=True)
class RegionPage:
    """The run's part of a region page (every field read-only)."""

    report: RegionReport  # without feedback
    scores: SafeString  # results/_region_scores.html: summary, components, charts, intervals, peers
    details: SafeString  # results/_region_details.html: the panel's agreement, the item scores


_kept: Kept[RegionPage] = Kept(REGION_PAGES_KEPT)


def _made(results: RegionResults, previous_year: int | None) -> RegionPage:
    access, row = results.access, results.row
    run = access.require_run()
    report = region_report_of(dataclasses.replace(results, sees_feedback=False))
    context = {
        "cycle": access.cycle,
        "region": row.region,
        "report": report,
        "charts": region_charts(report, year=access.cycle.year, previous_year=previous_year),
        "items": region_items(run, row.region_id),
        "peers": region_peers(access, row),
        "intervals": region_intervals(access, row),
    }
    return RegionPage(
        report=report,
        scores=render_to_string("results/_region_scores.html", context),
        details=render_to_string("results/_region_details.html", context),
    )


def region_page(results: RegionResults, *, previous_year: int | None) -> RegionPage:
    """The run's part of ``results``' region page, kept; access was decided by the caller
    (``region_results``)."""
    access, row = results.access, results.row
    run = access.require_run()
    before = previous_run(run)
    # In the key as a digest: 550 regions' names are larger than the page kept under them.
    names = hashlib.blake2b(
        repr(tuple(Region.objects.order_by("pk").values_list("pk", "name", "slug", "kind"))).encode(),
        digest_size=16,
    ).digest()
    key = (
        run_key(run),
        row.region_id,
        access.cycle.slug,
        access.cycle.year,  # the radar charts' legend
        access.cycle.framework.digest,
        get_script_prefix(),
        get_language(),
        decimal_mark(),
        access.is_coordinator or access.published,
        run.published_at is not None,
        run_key(before) if before is not None else None,
        previous_year,
        names,
    )
    return _kept.get(key, lambda: _made(results, previous_year))


def with_feedback(report: RegionReport, results: RegionResults) -> RegionReport:
    """``report`` with the assessors' feedback on the region, read now, if the reader sees it."""
    if not results.sees_feedback:
        return report
    run = results.access.require_run()
    feedback: Sequence[Mapping[str, Any]] = feedback_for(results.row.participation, run.stage)
    return dataclasses.replace(report, feedback=tuple(feedback_entry(entry) for entry in feedback))
