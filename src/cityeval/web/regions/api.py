"""API: regions and OPDs, visible as on the pages."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from cityeval.web.accounts.access import is_coordinator, region_access, regions_of
from cityeval.web.regions.models import Region

router = Router(tags=["regions"])


class RegionOut(Schema):
    slug: str
    name: str
    kind: str
    province: str
    code: str


class OpdOut(Schema):
    slug: str
    name: str
    short_name: str


def _region_out(region: Region) -> RegionOut:
    return RegionOut(
        slug=region.slug, name=region.name, kind=region.kind, province=region.province.name, code=region.code
    )


@router.get("/regions", response=list[RegionOut])
def list_regions(request: HttpRequest):
    """Every region for the coordinator; a regional member's own regions otherwise."""
    if is_coordinator(request.user):
        regions = list(Region.objects.select_related("province"))
    else:
        regions = regions_of(request.user)
    return [_region_out(r) for r in regions]


@router.get("/regions/{slug}", response=RegionOut)
def get_region(request: HttpRequest, slug: str):
    return _region_out(region_access(request.user, slug).region)


@router.get("/regions/{slug}/opds", response=list[OpdOut])
def list_opds(request: HttpRequest, slug: str):
    region = region_access(request.user, slug).region
    return [OpdOut(slug=o.slug, name=o.name, short_name=o.short_name) for o in region.opds.all()]
