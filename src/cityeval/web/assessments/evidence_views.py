"""Evidence added on an item page: a file (checked on content, size-limited while it is
read), a link, or the item page's one form that saves the typed answer with the evidence.

Access as for answers (see ``views``): the regional admin, or the OPD the item is assigned to;
outsiders 404. Evidence may be added while the self-assessment is open or, for an item the
panel marked "needs evidence", during the interview's top-up window.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from cityeval.web.accounts.access import acting_user
from cityeval.web.assessments.forms import AnswerForm, EvidenceFileForm, EvidenceLinkForm
from cityeval.web.assessments.selectors import (
    SelfAssessment,
    answer_history,
    evidence_closed_reason,
    item_of,
    self_assessment_for,
)
from cityeval.web.assessments.services import (
    AnswerRejected,
    EvidenceNotStored,
    EvidenceRejected,
    answer_record,
    evidence_link_add,
    evidence_upload,
)
from cityeval.web.assessments.uploads import SizeLimitHandler, UploadRejected, inspect_upload
from cityeval.web.assessments.views import (
    _answer_form,
    _item_page,
    _refused,
    _refused_if_closed,
    _require_answerer,
    _to_item,
)
from cityeval.web.evaluations.phases import CycleClosed


@csrf_exempt  # CSRF is checked below, once the size-limiting upload handler is in place
@login_required
def evidence_add(request: HttpRequest, region: str, cycle: str, item: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # The handler must be installed before the body is parsed, i.e. before the CSRF check
    # reads request.POST: it stops an oversized file from being written to disk in full.
    handler = SizeLimitHandler(request)
    # A list until the body is read; afterwards Django's ImmutableList refuses with its own error.
    request.upload_handlers.insert(0, handler)  # type: ignore[union-attr]
    return _evidence_add(request, region, cycle, item, handler)


@csrf_protect
def _evidence_add(request: HttpRequest, region: str, cycle: str, item: str, handler: SizeLimitHandler):
    sa = self_assessment_for(request.user, region, cycle)
    _require_answerer(sa, item)
    if reason := evidence_closed_reason(sa.participation, item):  # open, or the panel's top-up window
        return _refused(request, sa, reason)
    if request.POST.get("with_answer"):  # the item page's one form: answer and evidence together
        return _save_all(request, sa, item, too_large=handler.exceeded)
    if request.POST.get("kind") == "link":
        return _link_add(request, sa, item)
    return _file_add(request, sa, item, too_large=handler.exceeded)


def _link_add(request: HttpRequest, sa: SelfAssessment, item: str) -> HttpResponse:
    form = EvidenceLinkForm(request.POST)
    if form.is_valid():
        try:
            evidence_link_add(
                participation=sa.participation,
                item=item,
                url=form.cleaned_data["url"],
                user=acting_user(request),
            )
        except CycleClosed as exc:
            return _refused(request, sa, exc)
        except EvidenceRejected as exc:
            form.add_error("url", str(exc))
        else:
            messages.success(request, _("Link added as evidence."))
            return _to_item(sa, item)
    return _item_page(request, sa, item, link_form=form)


def _file_add(request: HttpRequest, sa: SelfAssessment, item: str, *, too_large: bool) -> HttpResponse:
    form = EvidenceFileForm(request.POST, request.FILES, too_large=too_large)
    if form.is_valid():
        try:
            evidence_upload(
                participation=sa.participation,
                item=item,
                upload=form.cleaned_data["file"],
                user=acting_user(request),
            )
        except CycleClosed as exc:
            return _refused(request, sa, exc)
        except EvidenceNotStored as exc:
            form.add_error("file", str(exc))
            page = _item_page(request, sa, item, file_form=form)
            page.status_code = 503  # the server's fault, not the file's: trying later may work
            return page
        except EvidenceRejected as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, _("File uploaded as evidence."))
            return _to_item(sa, item)
    return _item_page(request, sa, item, file_form=form)


def _save_all(request: HttpRequest, sa: SelfAssessment, item: str, *, too_large: bool) -> HttpResponse:
    """The item page's one form, whichever of its buttons was pressed: the answer if it was
    changed, the chosen file and the typed link. Uploading a file thus keeps (saves) the level
    and narrative typed beside it. Everything is checked first; if anything is wrong nothing is
    saved and the page comes back with what was typed (the file must be chosen again: browsers
    do not let a page refill a file field)."""
    if refused := _refused_if_closed(request, sa):
        return refused
    _component, the_item = item_of(sa.participation, item)
    history = answer_history(sa.participation, item)
    initial = _answer_form(sa, the_item, history[0] if history else None).initial
    answer_form = AnswerForm(request.POST, initial=initial, item=the_item, framework=sa.framework)
    file_form = EvidenceFileForm(request.POST, request.FILES, too_large=too_large)
    link_form = EvidenceLinkForm(request.POST)
    parts = {
        "answer": answer_form.has_changed(),
        "file": too_large or "file" in request.FILES,
        "url": bool(request.POST.get("url", "").strip()),
    }
    forms = {"answer_form": answer_form, "file_form": file_form, "link_form": link_form}
    checked = [answer_form.is_valid() if parts["answer"] else True]
    checked += [
        _file_ok(file_form) if parts["file"] else True,
        link_form.is_valid() if parts["url"] else True,
    ]
    if not any(parts.values()):
        messages.info(request, _("Nothing to save: the answer is unchanged and no file or link was given."))
        return _to_item(sa, item)
    if not all(checked):
        messages.error(request, _("Nothing was saved: correct what is marked below."))
        return _item_page(request, sa, item, **_unbound_unused(forms, parts))
    try:
        return _save_parts(request, sa, item, forms=forms, parts=parts)
    except CycleClosed as exc:
        return _refused(request, sa, exc)


def _file_ok(form: EvidenceFileForm) -> bool:
    """The file's content is checked before anything is saved (the service checks it again
    when storing it), so a refused file does not leave the answer saved without it."""
    if not form.is_valid():
        return False
    try:
        inspect_upload(form.cleaned_data["file"])
    except UploadRejected as exc:
        form.add_error("file", str(exc))
        return False
    return True


def _unbound_unused(forms: dict, parts: dict[str, bool]) -> dict:
    """The bound forms of the parts that were used; the unused ones stay empty, without errors."""
    used = {"answer_form": parts["answer"], "file_form": parts["file"], "link_form": parts["url"]}
    return {name: form for name, form in forms.items() if used[name]}


def _save_parts(
    request: HttpRequest, sa: SelfAssessment, item: str, *, forms: dict, parts: dict
) -> HttpResponse:
    """Answer first (the typed work), then file, then link; a refusal of a later part leaves
    the earlier ones saved and says so."""
    answer_form, file_form, link_form = forms["answer_form"], forms["file_form"], forms["link_form"]
    if parts["answer"]:
        data = answer_form.cleaned_data
        try:
            answer_record(
                participation=sa.participation,
                item=item,
                level=data.get("level"),
                raw_value=data.get("raw_value"),
                narrative=data["narrative"],
                user=acting_user(request),
            )
        except AnswerRejected as exc:
            for field, message in exc.errors.items():
                answer_form.add_error(field if field in answer_form.fields else None, message)
            messages.error(request, _("Nothing was saved: correct what is marked below."))
            return _item_page(request, sa, item, **_unbound_unused(forms, parts))
        messages.success(request, _("Answer saved as a new revision."))
    for part, form, field in (("file", file_form, "file"), ("url", link_form, "url")):
        if not parts[part]:
            continue
        try:
            if part == "file":
                evidence_upload(
                    participation=sa.participation,
                    item=item,
                    upload=form.cleaned_data["file"],
                    user=acting_user(request),
                )
                messages.success(request, _("File uploaded as evidence."))
            else:
                evidence_link_add(
                    participation=sa.participation,
                    item=item,
                    url=form.cleaned_data["url"],
                    user=acting_user(request),
                )
                messages.success(request, _("Link added as evidence."))
        except (EvidenceRejected, EvidenceNotStored) as exc:
            form.add_error(field, str(exc))
            page = _item_page(request, sa, item, **_unbound_unused(forms, {**parts, "answer": False}))
            page.status_code = 503 if isinstance(exc, EvidenceNotStored) else 200
            return page
    return _to_item(sa, item)
