"""Login, logout, the home redirect and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.accounts.access import (
    KKPD_ROLES,
    acting_user,
    is_assessor,
    is_coordinator,
    regions_of,
    require_coordinator,
)
from cityeval.web.accounts.models import ApiToken, Role
from cityeval.web.accounts.services import token_create
from cityeval.web.accounts.services import token_revoke as revoke
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.mail import outbox_messages


class LoginForm(AuthenticationForm):
    # Django's own Indonesian text puts the field name after "nama pengguna" and so reads
    # "nama pengguna nama pengguna"; this message names the fields once.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Wrong username or password. Upper and lower case letters are different."
        ),
        # Shown only after the right password (accounts.backends): a wrong guess learns nothing.
        "inactive": gettext_lazy(
            "This account has been deactivated, so it cannot log in. Contact your coordinator if "
            "you still need it."
        ),
    }


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their work is."""
    if is_coordinator(request.user):
        return redirect("evaluations:cycle_list")
    regions = regions_of(request.user)
    if regions and not regions_of(request.user, (Role.REGIONAL_ADMIN,)):
        return redirect("assessments:tasks")  # an OPD contributor's work is their item list
    if is_assessor(request.user) and not regions:
        return redirect("panels:mine")
    if len(regions) == 1:
        return redirect("regions:dashboard", region=regions[0].slug)
    kkpd = regions_of(request.user, KKPD_ROLES)
    if not regions and len(kkpd) == 1:
        return redirect("kkpd:dashboard", region=kkpd[0].slug)
    return render(request, "accounts/home.html", {"regions": regions})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    created = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100]
        if not name:
            messages.error(request, _("Give the token a name."))
        else:
            created = token_create(user=acting_user(request), name=name)
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": ApiToken.objects.filter(user=acting_user(request)), "created": created},
    )


@login_required
def token_revoke(request: HttpRequest, hint: str) -> HttpResponse:
    """GET: the confirmation page; POST with ``confirm=yes``: revoke (another user's token: 404)."""
    token = get_object_or_404(ApiToken, user=request.user, hint=hint)
    if not confirmed(request):
        return confirm_page(
            request,
            title=_("Revoke the token %(name)s?") % {"name": token.name},
            action=request.path,
            cancel=reverse("accounts:tokens"),
            button=_("Yes, revoke the token"),
            consequences=[
                _("The token stops working at once: every program using it loses access."),
                _("A revoked token cannot be restored; create a new one if it is needed again."),
            ],
        )
    revoke(token=token, user=acting_user(request))
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """The demo's sent mail (``DEMO_OUTBOX``), for the coordinator: 404 when the setting is off."""
    if not settings.DEMO_OUTBOX:
        raise Http404
    require_coordinator(request.user)
    return render(request, "accounts/outbox.html", {"messages_sent": outbox_messages()})
