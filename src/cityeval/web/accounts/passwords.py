"""Password change and reset, on Django's views with the project's templates and mail.

Reset answers every address the same way, known or not: the same page, after the same work
(the message is built in both cases and sent only to a known, active account), so neither the
answer nor its timing tells whether an address has an account. Requests are limited per
e-mail address and per client address (``PASSWORD_RESET_PER_*_HOUR``), counted in the
database like the log-in lockout, so that every app server sees the same count. A mail server
that fails changes nothing in the answer either: the failure is logged, not shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import get_language, gettext_lazy

from cityeval.web.accounts.models import ResetRequest
from cityeval.web.addresses import client_ip
from cityeval.web.mail import MAIL_ERRORS, absolute_url, mail_build
from cityeval.web.refusals import Refused, refused_page

HOUR = dt.timedelta(hours=1)
logger = logging.getLogger(__name__)


class TooManyResets(Refused):
    status = 429
    default_message = gettext_lazy("Too many password reset requests; try again in an hour.")


def reset_request_check(*, address: str, ip: str) -> None:
    """Count one request from ``ip`` for ``address``; refuse (TooManyResets) when either count in
    the last hour is over its limit. Refused requests count too, so a flood stays refused."""
    now = timezone.now()
    to = "to:" + hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()
    keys = {
        to: settings.PASSWORD_RESET_PER_ADDRESS_HOUR,
        f"ip:{ip}"[:80]: settings.PASSWORD_RESET_PER_IP_HOUR,
    }
    ResetRequest.objects.bulk_create([ResetRequest(key=key) for key in keys])
    ResetRequest.objects.filter(created_at__lt=now - HOUR).delete()  # the window is an hour
    for key, limit in keys.items():
        if ResetRequest.objects.filter(key=key, created_at__gte=now - HOUR).count() > limit:
            raise TooManyResets


class ResetForm(PasswordResetForm):
    def save(self, *, request: HttpRequest, **_: object) -> None:  # type: ignore[override]
        """Mail a reset link to each active account with this address; for an unknown address,
        build the same message for nobody and drop it (same work, same answer)."""
        address = self.cleaned_data["email"]
        users: list[User | None] = list(self.get_users(address))
        for user in users or [None]:
            uid = urlsafe_base64_encode(force_bytes(user.pk)) if user else "MA"
            token = default_token_generator.make_token(user) if user else "x-x"
            link = absolute_url(
                reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
                request=request,
            )
            message = mail_build(
                to=address,
                template="password_reset",
                context={"username": user.get_username() if user else ""},
                link=link,
                language=get_language() or settings.LANGUAGE_CODE,
            )
            if user is not None:
                try:
                    message.send()
                except MAIL_ERRORS:
                    # The same answer as for an unknown address: an error page here would tell
                    # that the address has an account. The operator reads it in the log.
                    logger.warning("Password reset mail for user %s not sent", user.pk, exc_info=True)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = ResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: ResetForm) -> HttpResponse:
        try:
            reset_request_check(address=form.cleaned_data["email"], ip=client_ip(self.request))
        except TooManyResets as refusal:
            return refused_page(self.request, refusal, back=self.request.path, status=refusal.status)
        form.save(request=self.request)
        return super(auth_views.PasswordResetView, self).form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        # Proving control of the address ends a log-in lockout: the owner can use the new
        # password at once instead of waiting for AXES_COOLOFF_MINUTES.
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
