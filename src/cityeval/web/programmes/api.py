"""API: a region's programme registry, with the pages' permissions.

Reading: any member of the region. Writing: a regional admin for every programme, an OPD
contributor only for programmes their own OPD owns (and only naming their own OPD as owner).
Refused input answers 422 with ``detail`` and per-field ``errors``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from cityeval.web.accounts.access import RegionAccess, region_access
from cityeval.web.bounds import POSITIVE_INTEGER_MAX
from cityeval.web.programmes.models import Programme
from cityeval.web.programmes.selectors import programme_of_region, programmes_of_region, region_framework
from cityeval.web.programmes.services import InvalidInput, ProgrammeFields, programme_create, programme_update
from cityeval.web.refusals import ApiError, api_refusal
from cityeval.web.regions.models import Opd

router = Router(tags=["programmes"])


class ProgrammeOut(Schema):
    public_id: uuid.UUID
    name: str
    dimension: str
    subdimension: str
    owner: str  # the owning OPD's slug
    owner_name: str
    status: str
    start_year: int
    description: str
    beneficiaries: int | None
    is_quick_win: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProgrammeIn(Schema):
    name: str
    dimension: str
    subdimension: str = ""
    owner: str  # an OPD slug of the region
    status: str = Programme.Status.PLANNED.value
    start_year: int
    description: str = ""
    beneficiaries: int | None = Field(None, ge=0, le=POSITIVE_INTEGER_MAX)
    is_quick_win: bool = False


class ProgrammePatch(Schema):
    """Only the fields given change."""

    name: str | None = None
    dimension: str | None = None
    subdimension: str | None = None
    owner: str | None = None
    status: str | None = None
    start_year: int | None = None
    description: str | None = None
    beneficiaries: int | None = Field(None, ge=0, le=POSITIVE_INTEGER_MAX)
    is_quick_win: bool | None = None


# What a PATCH may change besides the owner (given as a slug and resolved separately).
_EDITABLE = (
    "name", "dimension", "subdimension", "status", "start_year",
    "description", "beneficiaries", "is_quick_win",
)  # fmt: skip


def _out(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        public_id=p.public_id, name=p.name, dimension=p.dimension, subdimension=p.subdimension,
        owner=p.owner.slug, owner_name=p.owner.name, status=p.status, start_year=p.start_year,
        description=p.description, beneficiaries=p.beneficiaries, is_quick_win=p.is_quick_win,
        created_at=p.created_at, updated_at=p.updated_at,
    )  # fmt: skip


def _owner(access: RegionAccess, slug: str) -> Opd:
    """The region's OPD ``slug``, checked for the user's right to act for it."""
    owner = access.region.opds.filter(slug=slug).first()
    if owner is None:
        raise InvalidInput({"owner": [_("There is no OPD “%(slug)s” in this region.") % {"slug": slug}]})
    access.require_edit_for_opd(owner.id)
    return owner


@router.get("/regions/{slug}/programmes", response=list[ProgrammeOut])
def list_programmes(
    request: HttpRequest, slug: str, dimension: str = "", status: str = "", quick_win: bool | None = None
):
    region = region_access(request.user, slug).region
    return [
        _out(p)
        for p in programmes_of_region(region=region, dimension=dimension, status=status, quick_win=quick_win)
    ]


@router.post("/regions/{slug}/programmes", response={201: ProgrammeOut, 422: ApiError})
def create_programme(request: HttpRequest, slug: str, payload: ProgrammeIn):
    access = region_access(request.user, slug)
    if not access.can_edit_anything:
        raise PermissionDenied
    try:
        fields = ProgrammeFields(**{**payload.dict(), "owner": _owner(access, payload.owner)})
        programme = programme_create(
            region=access.region, framework=region_framework(region=access.region), fields=fields
        )
    except InvalidInput as exc:
        return api_refusal(exc)
    return Status(201, _out(programme))


@router.get("/regions/{slug}/programmes/{public_id}", response=ProgrammeOut)
def get_programme(request: HttpRequest, slug: str, public_id: uuid.UUID):
    region = region_access(request.user, slug).region
    return _out(programme_of_region(region=region, public_id=public_id))


@router.patch("/regions/{slug}/programmes/{public_id}", response={200: ProgrammeOut, 422: ApiError})
def update_programme(request: HttpRequest, slug: str, public_id: uuid.UUID, payload: ProgrammePatch):
    access = region_access(request.user, slug)
    programme = programme_of_region(region=access.region, public_id=public_id)
    access.require_edit_for_opd(programme.owner_id)
    changes = payload.dict(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k != "beneficiaries")
    if nulls:
        return api_refusal(InvalidInput({k: [_("This field cannot be null.")] for k in nulls}))
    try:
        owner = _owner(access, changes.pop("owner")) if "owner" in changes else programme.owner
        current = {name: getattr(programme, name) for name in _EDITABLE}
        fields = ProgrammeFields(**{**current, **changes, "owner": owner})
        programme = programme_update(
            programme=programme, framework=region_framework(region=access.region), fields=fields
        )
    except InvalidInput as exc:
        return api_refusal(exc)
    return _out(programme)
