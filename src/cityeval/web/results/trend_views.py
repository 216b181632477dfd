"""Results over the years: a region's trends page and the coordinator's national trends page
(docs in :mod:`cityeval.web.results.trends`).

The region page: the region's own members (regional admin, OPD contributors) and the national
coordinator, as :func:`~cityeval.web.accounts.access.region_access` says — anonymous visitors
are sent to log in, everyone else gets 404. Members see published cycles only (imported
history is published); the coordinator sees every cycle with results. The national page: the
coordinator only (403 to every other user).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cityeval.web.accounts.access import region_access, require_coordinator
from cityeval.web.results.trends import national_trends, region_trends


@login_required
def region(request: HttpRequest, region: str) -> HttpResponse:
    access = region_access(request.user, region)
    trends = region_trends(access.region, published_only=not access.is_coordinator)
    context = {"access": access, "region": access.region, "trends": trends}
    return render(request, "results/trends.html", context)


@login_required
def national(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    return render(request, "results/national_trends.html", {"trends": national_trends(published_only=False)})
