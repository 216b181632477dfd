"""The audit trail's pages: the coordinator browses, filters and exports every entry; a
regional admin sees their regions' entries, except the assessor panel's (see
``audit.selectors.PANEL_ACTIONS``); everyone else gets 404 (the page might as well
not exist for them). The pages live here, not in the audit app, because they need the access
helpers, and the audit app sits below every app so that all of them can record into it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.web.accounts.access import is_coordinator, regions_of
from cityeval.web.accounts.models import Role
from cityeval.web.audit.selectors import SEARCH_FIELDS, actions_for, entries_csv, entries_for, filters
from cityeval.web.downloads import file_response
from cityeval.web.listing import Filter, listing, narrowed
from cityeval.web.regions.models import Region


def _visible(request: HttpRequest) -> tuple[QuerySet, list[Filter]]:
    """The entries the user may see and the regions they may filter by; 404 for others."""
    regions: list[Region]
    region_ids: list[int] | None
    if is_coordinator(request.user):
        region_ids = None
        rows = entries_for(region_ids)
        regions = list(Region.objects.filter(id__in=rows.exclude(region=None).values("region_id")))
    else:
        regions = regions_of(request.user, (Role.REGIONAL_ADMIN,))
        if not regions:
            raise Http404
        region_ids = [r.id for r in regions]
        rows = entries_for(region_ids)
    choices = [(r.slug, r.name) for r in sorted(regions, key=lambda r: r.name)]
    return rows, filters(rows, choices, actions_for(region_ids))


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    rows, audit_filters = _visible(request)
    entries = listing(
        request, rows, search=SEARCH_FIELDS, filters=audit_filters, id="audit", search_label=_("Who or what")
    )
    export = "?" + entries.params.urlencode() if entries.params else ""
    return render(request, "audit/entries.html", {"entries": entries, "export_query": export})


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered entries (every page) as CSV."""
    rows, audit_filters = _visible(request)
    chosen = narrowed(request, rows, search=SEARCH_FIELDS, filters=audit_filters)
    return file_response(entries_csv(chosen), filename=f"audit-{timezone.localdate():%Y-%m-%d}.csv")
