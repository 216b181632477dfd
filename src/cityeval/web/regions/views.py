"""Regions: the national list (coordinator), each region's dashboard and OPDs. The regions
import is the coordinator's page in ``evaluations`` (it may queue a job: ``region_imports``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cityeval.web.accounts.access import region_access, require_coordinator
from cityeval.web.evaluations.models import Participation, framework_of
from cityeval.web.labels import page_language
from cityeval.web.listing import listing
from cityeval.web.programmes.selectors import programme_overview
from cityeval.web.regions.forms import OpdForm
from cityeval.web.regions.models import Region
from cityeval.web.regions.selectors import region_filters
from cityeval.web.regions.services import opd_create


@login_required
def region_list(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    regions = Region.objects.select_related("province").annotate(opd_count=Count("opds")).order_by("name")
    found = listing(
        request,
        regions,
        search=("name", "code"),
        filters=region_filters(),
        id="regions",
        search_label=_("Region name or code"),
    )
    return render(request, "regions/region_list.html", {"listing": found})


@login_required
def dashboard(request: HttpRequest, region: str) -> HttpResponse:
    access = region_access(request.user, region)
    # The framework's content hash, not its YAML (~45 KB a cycle): parsed once per process.
    participations = list(
        Participation.objects.filter(region=access.region)
        .select_related("cycle")
        .annotate(framework_digest=F("cycle__framework__digest"))
    )
    chosen = next((p for p in participations if p.cycle.slug == request.GET.get("cycle")), None)
    chosen = chosen or (participations[0] if participations else None)
    overview = programme_overview(
        region=access.region,
        framework=framework_of(chosen.framework_digest) if chosen else None,
        language=page_language(),
    )
    return render(
        request,
        "regions/dashboard.html",
        {"access": access, "region": access.region, "participations": participations,
         "participation": chosen, "overview": overview},
    )  # fmt: skip


@login_required
def opd_list(request: HttpRequest, region: str) -> HttpResponse:
    access = region_access(request.user, region)
    form = OpdForm(request.POST or None)
    if request.method == "POST":
        access.require_admin()
        if form.is_valid():
            try:
                opd_create(region=access.region, **form.cleaned_data)
            except IntegrityError:
                form.add_error("name", _("This region already has an OPD with that name."))
            else:
                messages.success(request, _("OPD added."))
                return redirect("regions:opd_list", region=access.region.slug)
    opds = access.region.opds.annotate(programme_count=Count("programmes"))
    return render(
        request,
        "regions/opd_list.html",
        {"access": access, "region": access.region, "opds": opds, "form": form},
    )
