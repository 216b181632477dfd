"""A person's notices: the list (newest first, 50 a page), opening one (which marks it read),
marking all read, and the e-mail preference. Every page shows the signed-in person's own
notices only; another person's notice is 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from cityeval.web.accounts.access import acting_user
from cityeval.web.listing import listing
from cityeval.web.notices.models import Notice, NoticePreference
from cityeval.web.notices.selectors import language_of, notices_of, preference_of
from cityeval.web.notices.services import NoAddress, notice_read, notices_read_all, preference_save
from cityeval.web.notices.texts import notice_text

PER_PAGE = 50


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    page = listing(request, notices_of(user), per_page=PER_PAGE, id="notices")
    rows = []
    for notice in page.items:
        title, body = notice_text(notice)
        rows.append({"notice": notice, "title": title, "body": body})
    return render(request, "notices/list.html", {"listing": page, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def notice_open(request: HttpRequest, notice: str) -> HttpResponse:
    """Mark the notice read and go to its page: a POST from the list, a GET from the mail's
    link (after logging in). Only the reader's own notices; 404 for anyone else's."""
    found = get_object_or_404(Notice, public_id=notice, user=acting_user(request))
    notice_read(notice=found)
    target = found.url
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = "notices:list"  # only the site's own pages; a stored address cannot send elsewhere
    return redirect(target)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    count = notices_read_all(user=acting_user(request))
    messages.success(
        request,
        ngettext("%(count)d notice marked read.", "%(count)d notices marked read.", count) % {"count": count},
    )
    return redirect("notices:list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    preference = preference_of(user)
    errors = {}
    if request.method == "POST":
        delivery = request.POST.get("delivery", "")
        language = request.POST.get("language", "")
        if not user.email:  # the choices are shown disabled; a hand-made post is refused too
            errors["delivery"] = str(NoAddress.default_message)
        elif delivery not in NoticePreference.Delivery.values:
            errors["delivery"] = _("Choose how you receive notices by e-mail.")
        elif language and language not in {code for code, _name in settings.LANGUAGES}:
            errors["language"] = _("Choose a language of the list.")
        else:
            preference_save(user=user, delivery=delivery, language=language)
            messages.success(request, _("Your notice settings are saved."))
            return redirect("notices:preferences")
    return render(
        request,
        "notices/preferences.html",
        {
            "preference": preference,
            "deliveries": NoticePreference.Delivery.choices,
            "mail_language": language_of(user, preference),
            "has_email": bool(user.email),
            "no_address": NoAddress.default_message,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
