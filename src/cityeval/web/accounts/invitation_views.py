"""Invitation pages: the coordinator's (regional admins and assessors, one at a time or from a
file), a regional admin's (OPD contributors), resend and revoke, and the invitee's link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, region_access, require_coordinator
from cityeval.web.accounts.invitation_import import invitations_import
from cityeval.web.accounts.invitations import (
    AFFILIATIONS,
    AddressDeactivated,
    InvitationDead,
    InvitationRejected,
    account_for,
    deactivated_account_for,
    invitation_accept,
    invitation_create,
    invitation_for,
    invitation_resend,
    invitation_revoke,
    may_manage,
    pending_invitations,
)
from cityeval.web.accounts.models import Invitation, Role
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.imports import ImportRejected
from cityeval.web.mail import MAIL_ERRORS
from cityeval.web.refusals import refused_page
from cityeval.web.regions.models import Opd, Region

MODEL_BACKEND = "cityeval.web.accounts.backends.AccountBackend"
# A mail server that refuses or cannot be reached: the invitations are saved (pending) and can
# be sent again from the list once it works (MAIL_ERRORS).
MAIL_FAILED = gettext_lazy(
    "The invitation is saved, but the e-mail could not be sent. Send it again from the list below."
)


def _fields(request: HttpRequest) -> dict[str, str]:
    post = request.POST
    return {
        key: post.get(key, "").strip() for key in ("email", "name", "affiliation", "organisation", "language")
    }


def _invite_national(request: HttpRequest) -> None:
    """One regional admin (with the region) or one assessor, from the coordinator's forms."""
    role = request.POST.get("role", "")
    region = None
    if role == Role.REGIONAL_ADMIN:
        region = Region.objects.filter(slug=request.POST.get("region", "")).first()
        if region is None:
            raise InvitationRejected(_("Choose the region."))
    fields = _fields(request)
    invitation_create(
        by=acting_user(request),
        role=role,
        region=region,
        request=request,
        email=fields["email"],
        name=fields["name"],
        affiliation=fields["affiliation"],
        organisation=fields["organisation"],
        language=fields["language"],
    )
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": fields["email"]})


@login_required
def invitations_national(request: HttpRequest) -> HttpResponse:
    """The coordinator's invitations: invite a regional admin or an assessor, or many from a file."""
    require_coordinator(request.user)
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise ImportRejected([_("Choose a CSV or XLSX file.")])
                count = invitations_import(by=acting_user(request), upload=upload, request=request)
                sent = ngettext("%(n)d invitation sent.", "%(n)d invitations sent.", count)
                messages.success(request, sent % {"n": count})
            else:
                _invite_national(request)
            return redirect("accounts:invitations")
        except MAIL_ERRORS:
            messages.error(request, str(MAIL_FAILED))
            return redirect("accounts:invitations")
        except (InvitationRejected, ImportRejected) as exc:
            errors = [str(e) for e in exc.errors] if isinstance(exc.errors, list) else [str(exc)]
    context = {
        "pending": pending_invitations().exclude(role=Role.OPD_CONTRIBUTOR)[:500],
        "regions": Region.objects.order_by("name").only("name", "slug"),
        "affiliations": AFFILIATIONS,
        "errors": errors,
        "values": request.POST,
        "now": timezone.now(),
    }
    return render(request, "accounts/invitations.html", context, status=400 if errors else 200)


@login_required
def invitations_regional(request: HttpRequest, region: str) -> HttpResponse:
    """A regional admin's invitations: OPD contributors for the region's OPDs."""
    access = region_access(request.user, region)
    access.require_admin()
    errors: list[str] = []
    if request.method == "POST":
        opd = Opd.objects.filter(region=access.region, slug=request.POST.get("opd", "")).first()
        try:
            if opd is None:
                raise InvitationRejected(_("Choose the OPD."))
            fields = _fields(request)
            invitation_create(
                by=acting_user(request),
                role=Role.OPD_CONTRIBUTOR,
                region=access.region,
                opd=opd,
                request=request,
                email=fields["email"],
                name=fields["name"],
                language=fields["language"],
            )
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": fields["email"]})
            return redirect("accounts:invitations_regional", region=access.region.slug)
        except MAIL_ERRORS:
            messages.error(request, str(MAIL_FAILED))
            return redirect("accounts:invitations_regional", region=access.region.slug)
        except InvitationRejected as exc:
            errors = [str(exc)]
    context = {
        "region": access.region,
        "pending": pending_invitations(region=access.region),
        "opds": access.region.opds.all(),
        "errors": errors,
        "values": request.POST,
        "now": timezone.now(),
    }
    return render(request, "accounts/invitations_regional.html", context, status=400 if errors else 200)


def _managed(request: HttpRequest, ref: str) -> Invitation:
    """The invitation ``ref`` if the user could have sent it; 404 otherwise (fail closed)."""
    invitation = get_object_or_404(Invitation.objects.select_related("region", "opd"), ref=ref)
    if not may_manage(acting_user(request), invitation):
        raise Http404
    return invitation


def _list_of(invitation: Invitation) -> str:
    if invitation.role == Role.OPD_CONTRIBUTOR and invitation.region is not None:
        return reverse("accounts:invitations_regional", kwargs={"region": invitation.region.slug})
    return reverse("accounts:invitations")


@login_required
@require_POST
def invitation_resend_view(request: HttpRequest, ref: str) -> HttpResponse:
    invitation = _managed(request, ref)
    try:
        invitation_resend(by=acting_user(request), invitation=invitation, request=request)
    except AddressDeactivated as refused:
        messages.error(request, str(refused))
    except MAIL_ERRORS:
        messages.error(request, str(MAIL_FAILED))
    else:
        messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
    return redirect(_list_of(invitation))


@login_required
def invitation_revoke_view(request: HttpRequest, ref: str) -> HttpResponse:
    invitation = _managed(request, ref)
    if not confirmed(request):
        return confirm_page(
            request,
            title=_("Withdraw the invitation to %(email)s?") % {"email": invitation.email},
            action=request.path,
            cancel=_list_of(invitation),
            button=_("Yes, withdraw it"),
            consequences=[_("The link in the message stops working at once.")],
        )
    invitation_revoke(by=acting_user(request), invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect(_list_of(invitation))


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's link: choose a password (or, with an account already, accept while logged
    in), then land on the work. A used, withdrawn, expired or made-up link: 410."""
    try:
        invitation = invitation_for(token)
    except InvitationDead as dead:
        return refused_page(request, dead, status=dead.status)
    user = request.user if request.user.is_authenticated else None
    if user is None and deactivated_account_for(invitation.email) is not None:
        refusal = AddressDeactivated()  # said before a password is chosen; the accept refuses too
        return refused_page(request, refusal, status=refusal.status)
    existing = account_for(invitation)
    errors: list[str] = []
    if request.method == "POST":
        password = request.POST.get("password1", "")
        try:
            if user is None and password != request.POST.get("password2", ""):
                raise InvitationRejected(_("The two passwords differ."))
            accepted = invitation_accept(token=token, password=password, user=user)
        except InvitationDead as dead:
            return refused_page(request, dead, status=dead.status)
        except InvitationRejected as exc:
            errors = [str(exc)]
        else:
            if user is None:
                login(request, accepted, backend=MODEL_BACKEND)
            messages.success(request, _("Welcome. Your role is ready."))
            return redirect("home")
    context = {"invitation": invitation, "existing": existing, "signed_in": user, "errors": errors}
    return render(request, "accounts/invitation_accept.html", context, status=400 if errors else 200)
