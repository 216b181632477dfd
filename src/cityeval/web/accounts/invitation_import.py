"""Bulk invitations from a CSV or XLSX: ``region, name, email, role`` and, for assessors,
``affiliation, organisation``. The coordinator's: regional admins and assessors.

Every row is checked first and every bad row reported; the invitations are written in one
transaction only when no row failed, and mailed (over one connection) once they are saved.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import get_connection
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.web.accounts.access import is_coordinator
from cityeval.web.accounts.invitations import (
    invitation_audit,
    invitation_check,
    invitation_new,
    invitation_send,
)
from cityeval.web.accounts.models import Invitation, Role
from cityeval.web.audit import services as audit
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell, read_upload
from cityeval.web.regions.models import Region

COLUMNS = ("region", "name", "email", "role")
# The role column: the code or its English or Indonesian name, in any case.
ROLE_NAMES = {
    "regional_admin": Role.REGIONAL_ADMIN,
    "regional admin": Role.REGIONAL_ADMIN,
    "admin daerah": Role.REGIONAL_ADMIN,
    "assessor": Role.ASSESSOR,
    "asesor": Role.ASSESSOR,
    "penilai": Role.ASSESSOR,
}


def _regions() -> dict[str, Region]:
    """Regions by lower-cased slug and name."""
    found: dict[str, Region] = {}
    for region in Region.objects.only("id", "name", "slug"):
        found[region.slug.lower()] = region
        found.setdefault(region.name.lower(), region)
    return found


def _pending_addresses() -> set[tuple[str, str, int | None]]:
    """(address, role, region id) of the live invitations: one per address, role and scope."""
    live = Invitation.objects.filter(used_at=None, revoked_at=None, expires_at__gt=timezone.now())
    return {
        (email.lower(), role, region) for email, role, region in live.values_list("email", "role", "region")
    }


def invitations_import(*, by: User, upload: UploadedFile, request: HttpRequest | None = None) -> int:
    """Invite everyone in the file; all or nothing (ImportRejected lists every bad row).
    Returns how many were invited."""
    if not is_coordinator(by):
        raise PermissionDenied
    table = read_upload(upload)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ImportRejected([_("The table has no column '%(column)s'.") % {"column": c} for c in missing])
    regions, pending = _regions(), _pending_addresses()
    errors, seen = RowErrors(), set(pending)
    rows: list[dict] = []
    for row in table.iter_rows(named=True):
        values = {c: cell(row, c) for c in (*COLUMNS, "affiliation", "organisation", "language")}
        if problem := _row_problem(values, regions, seen):
            errors.add(row[ROW], *problem)
            continue
        seen.add(_key(values, regions))
        rows.append(values)
    if errors:
        raise ImportRejected(errors.errors)
    if not rows:
        raise ImportRejected([_("The table has no rows.")])
    made = [
        invitation_new(
            by=by,
            email=v["email"],
            name=v["name"],
            role=v["role"],
            region=regions[v["region"].lower()] if v["role"] == Role.REGIONAL_ADMIN else None,
            opd=None,
            affiliation=v["affiliation"].lower(),
            organisation=v["organisation"],
            language=v["language"].lower() or "id",
        )
        for v in rows
    ]
    with transaction.atomic():
        Invitation.objects.bulk_create([invitation for invitation, _token in made])
        for invitation, _token in made:
            invitation_audit(audit.Action.INVITATION_SEND, by=by, invitation=invitation, request=request)
    # Mailed once all are saved: a failure part-way leaves invitations that can be sent again.
    _send_all(made, request)
    return len(made)


def _row_problem(values: dict[str, str], regions: dict[str, Region], seen: set) -> tuple[str, str] | None:
    """(column, message) for the first problem of one row; None when it is fine. Sets the row's
    role to its code."""
    role = ROLE_NAMES.get(values["role"].lower().replace("-", " ").strip())
    if role is None:
        return "role", _("say 'regional_admin' or 'assessor'")
    values["role"] = role
    if role == Role.REGIONAL_ADMIN and values["region"].lower() not in regions:
        return "region", _("no region '%(region)s' (give its name or its short name in addresses)") % {
            "region": values["region"]
        }
    if role == Role.ASSESSOR and values["region"]:
        return "region", _("assessors are national: leave the region empty")
    values["affiliation"] = values["affiliation"].lower().replace(" ", "_")
    problems = invitation_check(
        email=values["email"],
        name=values["name"],
        role=role,
        affiliation=values["affiliation"],
        pending=False,
    )
    if problems:
        column, message = next(iter(problems.items()))
        return column, message
    if _key(values, regions) in seen:
        return "email", _("this address is invited for this role already (here or earlier)")
    return None


def _key(values: dict[str, str], regions: dict[str, Region]) -> tuple[str, str, int | None]:
    region = regions[values["region"].lower()].id if values["role"] == Role.REGIONAL_ADMIN else None
    return values["email"].lower(), values["role"], region


def _send_all(made: list[tuple[Invitation, str]], request: HttpRequest | None) -> None:
    with get_connection() as connection:
        for invitation, token in made:
            invitation_send(invitation=invitation, token=token, request=request, connection=connection)


__all__ = ["COLUMNS", "invitations_import"]
