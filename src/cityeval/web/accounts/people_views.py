"""People pages: a region's members and pending invitations (its regional admin and the
coordinator), the coordinator's list of everyone, and deactivating or reactivating a
membership or an account (services and rules in ``people.py``).

No ids in URLs: the actions are POSTs naming the person by username (and the membership by
role and OPD) in the form, as the panels' member actions do. Deactivating goes through the
confirmation page; reactivating is one POST.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import RegionAccess, acting_user, region_access, require_coordinator
from cityeval.web.accounts.invitations import may_manage
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.accounts.people import (
    SelfChangeRefused,
    account_deactivate,
    account_reactivate,
    may_change_account,
    may_change_membership,
    membership_deactivate,
    membership_reactivate,
    people_all,
    people_narrowed,
    region_members,
    region_pending,
)
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.listing import Filter, list_query, listing
from cityeval.web.refusals import refused_page
from cityeval.web.regions.models import Region

STATUS_ACTIVE, STATUS_INACTIVE = "active", "inactive"


def _people_access(request: HttpRequest, region: str) -> RegionAccess:
    """The region's people pages: its regional admin and the coordinator; 403 for its other
    members, 404 for everyone outside the region (as every regional page)."""
    access = region_access(request.user, region)
    if not (access.is_admin or access.is_coordinator):
        raise PermissionDenied
    return access


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


@login_required
def region_people(request: HttpRequest, region: str) -> HttpResponse:
    access = _people_access(request, region)
    me = acting_user(request)
    members = region_members(access.region)
    for m in members:
        m.changeable = may_change_membership(me, m)  # type: ignore[attr-defined]
    pending = list(region_pending(access.region))
    for invitation in pending:
        invitation.manageable = may_manage(me, invitation)  # type: ignore[attr-defined]
    context = {
        "region": access.region,
        "access": access,
        "members": members,
        "pending": pending,
        "now": timezone.now(),
    }
    return render(request, "accounts/people_region.html", context)


def _membership_posted(request: HttpRequest, region: Region) -> Membership:
    """The region's membership the form names (username, role, OPD slug); 404 if none."""
    post = request.POST
    found = Membership.objects.select_related("user", "region", "opd").filter(
        region=region, user__username=post.get("user", ""), role=post.get("role", "")
    )
    opd = post.get("opd", "")
    found = found.filter(opd__slug=opd) if opd else found.filter(opd=None)
    membership = found.first()
    if membership is None:
        raise Http404
    return membership


def _membership_hidden(membership: Membership) -> list[tuple[str, str]]:
    return [
        ("user", membership.user.get_username()),
        ("role", membership.role),
        ("opd", membership.opd.slug if membership.opd else ""),
    ]


@login_required
@require_POST
def region_member_deactivate(request: HttpRequest, region: str) -> HttpResponse:
    access = _people_access(request, region)
    membership = _membership_posted(request, access.region)
    back = reverse("accounts:people_region", kwargs={"region": access.region.slug})
    me = acting_user(request)
    if membership.user_id == me.pk:
        return refused_page(request, SelfChangeRefused(), back=back)
    if not may_change_membership(me, membership):
        raise PermissionDenied
    name = _name(membership.user)
    role = Role(membership.role).label
    scope = membership.opd.name if membership.opd else access.region.name
    if not confirmed(request):
        return confirm_page(
            request,
            title=_("Deactivate %(name)s as %(role)s of %(scope)s?")
            % {"name": name, "role": role, "scope": scope},
            action=request.path,
            cancel=back,
            button=_("Yes, deactivate"),
            consequences=[
                _("%(name)s loses this role's access at their next step; other roles stay.") % {"name": name},
                _("What they wrote stays, with their name; the role can be reactivated."),
            ],
            hidden=_membership_hidden(membership),
            offer_reason=True,
        )
    membership_deactivate(membership=membership, by=me, reason=request.POST.get("reason", ""))
    messages.success(request, _("%(name)s is deactivated as %(role)s.") % {"name": name, "role": role})
    return redirect(back)


@login_required
@require_POST
def region_member_reactivate(request: HttpRequest, region: str) -> HttpResponse:
    access = _people_access(request, region)
    membership = _membership_posted(request, access.region)
    back = reverse("accounts:people_region", kwargs={"region": access.region.slug})
    try:
        membership_reactivate(membership=membership, by=acting_user(request))
    except SelfChangeRefused as refusal:
        return refused_page(request, refusal, back=back)
    messages.success(
        request,
        _("%(name)s is active again as %(role)s.")
        % {"name": _name(membership.user), "role": Role(membership.role).label},
    )
    return redirect(back)


def _people_filters() -> list[Filter]:
    roles = [(code, label) for code, label in Role.choices]
    regions = [(r.slug, r.name) for r in Region.objects.order_by("name").only("slug", "name")]
    status = [(STATUS_ACTIVE, _("Active")), (STATUS_INACTIVE, _("Deactivated"))]
    return [
        Filter("role", _("Role"), roles, _("All roles")),
        Filter("region", _("Region"), regions, _("All regions")),
        Filter("status", _("Account"), status, _("Active and deactivated")),
    ]


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """Everyone, for the coordinator: searched by name, username or e-mail address, filtered
    by role, region and account status, 50 a page."""
    require_coordinator(request.user)
    filters = _people_filters()
    query = list_query(request, filters)
    found = people_narrowed(
        people_all(), role=query.value("role"), region=query.value("region"), status=query.value("status")
    )
    page = listing(
        request,
        found,
        search=("username", "first_name", "last_name", "email"),
        filters=filters,  # applied above (no lookup): a role and a region in the same membership
        id="people",
        search_label=_("Name, username or e-mail address"),
    )
    me = acting_user(request)
    for person in page.items:
        person.changeable = may_change_account(me, person)
    return render(request, "accounts/people.html", {"listing": page})


def _person_posted(request: HttpRequest):
    person = get_user_model().objects.filter(username=request.POST.get("user", "")).first()
    if person is None:
        raise Http404
    return person


@login_required
@require_POST
def person_deactivate(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    person = _person_posted(request)
    back = reverse("accounts:people")
    me = acting_user(request)
    if person.pk == me.pk:
        return refused_page(request, SelfChangeRefused(), back=back)
    name = _name(person)
    if not confirmed(request):
        return confirm_page(
            request,
            title=_("Deactivate the account of %(name)s?") % {"name": name},
            action=request.path,
            cancel=back,
            button=_("Yes, deactivate the account"),
            consequences=[
                _("%(name)s can no longer log in; an open session ends at their next step.") % {"name": name},
                _("Their API tokens are refused and none of their roles gives access."),
                _("What they wrote stays, with their name; the account can be reactivated."),
            ],
            hidden=[("user", person.get_username())],
            offer_reason=True,
        )
    account_deactivate(person=person, by=me, reason=request.POST.get("reason", ""))
    messages.success(request, _("The account of %(name)s is deactivated.") % {"name": name})
    return redirect(back)


@login_required
@require_POST
def person_reactivate(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    person = _person_posted(request)
    back = reverse("accounts:people")
    try:
        account_reactivate(person=person, by=acting_user(request))
    except SelfChangeRefused as refusal:
        return refused_page(request, refusal, back=back)
    messages.success(request, _("The account of %(name)s is active again.") % {"name": _name(person)})
    return redirect(back)
