"""KKPD pages: the region dashboard, cards, transactions, flags with their status action, the
statement import, the coordinator's side by side and the public transparency page.

Access (see ``kkpd.access``): administrators and inspectors read the whole region, card holders
their own OPD, the coordinator every region; only administrators import, administrators and
inspectors change a flag's status. The public page needs no login and shows aggregates only.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.engine.kkpd import DEFAULT_RULES_YAML
from cityeval.engine.kkpd.mapping import EXAMPLE_MAPPING_YAML
from cityeval.web.accounts.access import acting_user, require_coordinator
from cityeval.web.downloads import file_response, stored_file_response
from cityeval.web.imports import ImportRejected
from cityeval.web.kkpd.access import KkpdAccess, kkpd_access
from cityeval.web.kkpd.charts import bar_chart
from cityeval.web.kkpd.models import Bank, Flag, KkpdRegion, Receipt, Transaction
from cityeval.web.kkpd.selectors import (
    RULE_NAMES,
    Summary,
    cards_of,
    effective_transactions,
    flags_of,
    kkpd_regions,
    region_summary,
)
from cityeval.web.kkpd.services import (
    GENERIC_MAPPING_YAML,
    InvalidInput,
    bank_set_mapping,
    flag_set_status,
    receipt_attach,
    rules_set,
    spending_import,
    statement_import,
    transaction_correct,
)
from cityeval.web.kkpd.summary import summary_file_name, summary_pdf
from cityeval.web.refusals import refused_page

TRANSACTIONS_SHOWN = 200


def _period(request: HttpRequest) -> tuple[dt.date | None, dt.date | None]:
    """``?year=2024`` limits the figures to one calendar year."""
    year = request.GET.get("year", "")
    if year.isdigit() and 2000 <= int(year) <= 2100:
        return dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
    return None, None


def _charts(summary: Summary) -> dict:
    return {
        "by_month": bar_chart([(m.strftime("%Y-%m"), v) for m, v in summary.months]),
        "by_category": bar_chart(
            [
                (_("Goods and services") if c == "goods_services" else _("Capital"), v)
                for c, v in summary.by_category
            ]
        ),
    }


def _context(access: KkpdAccess, **more) -> dict:
    return {"access": access, "region": access.region, **more}


@login_required
def dashboard(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    start, end = _period(request)
    summary = region_summary(region=access.region, opd_ids=access.opd_ids, start=start, end=end)
    return render(
        request,
        "kkpd/dashboard.html",
        _context(access, summary=summary, charts=_charts(summary), start=start),
    )


@login_required
def card_list(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    return render(
        request,
        "kkpd/cards.html",
        _context(access, cards=cards_of(region=access.region, opd_ids=access.opd_ids)),
    )


@login_required
def transaction_list(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    rows = (
        effective_transactions(region=access.region, opd_ids=access.opd_ids)
        .select_related("card", "card__opd")
        .order_by("-date", "-id")[:TRANSACTIONS_SHOWN]
    )
    return render(
        request, "kkpd/transactions.html", _context(access, transactions=rows, shown=TRANSACTIONS_SHOWN)
    )


@login_required
def flag_list(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    rule = request.GET.get("rule", "") if request.GET.get("rule", "") in RULE_NAMES else ""
    status = request.GET.get("status", "") if request.GET.get("status", "") in Flag.Status.values else ""
    flags = flags_of(region=access.region, opd_ids=access.opd_ids, rule=rule, status=status)
    return render(
        request,
        "kkpd/flags.html",
        _context(
            access,
            flags=flags.prefetch_related("history", "history__changed_by")[:500],
            rules=RULE_NAMES,
            statuses=Flag.Status.choices,
            chosen={"rule": rule, "status": status},
        ),
    )


@login_required
@require_POST
def flag_status(request: HttpRequest, region: str, flag: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    the_flag = get_object_or_404(Flag, region=access.region, public_id=flag)
    access.require_opd(the_flag.card.opd_id)
    access.require_flag_changer()
    try:
        flag_set_status(
            flag=the_flag, status=request.POST.get("status", ""), reason=request.POST.get("reason", ""),
            user=acting_user(request),
        )  # fmt: skip
    except InvalidInput as exc:
        messages.error(request, str(exc))
        back = reverse("kkpd:flags", kwargs={"region": access.region.slug})
        return refused_page(request, exc, back=back, status=400, context=_context(access))
    messages.success(request, _("Flag status changed."))
    return redirect("kkpd:flags", region=access.region.slug)


@login_required
def statement_upload(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    access.require_admin()
    banks = Bank.objects.filter(region=access.region)
    if request.method != "POST":
        return render(request, "kkpd/import.html", _context(access, banks=banks))
    bank_id = _uuid_or_none(request.POST.get("bank", ""))
    bank = banks.filter(public_id=bank_id).first() if bank_id is not None else None
    upload = request.FILES.get("file")
    if bank is None or upload is None:
        errors = [_("Choose the bank and a statement file.")]
        return render(request, "kkpd/import.html", _context(access, banks=banks, errors=errors), status=400)
    try:
        outcome = statement_import(region=access.region, bank=bank, upload=upload, user=acting_user(request))
    except (ImportRejected, InvalidInput) as exc:
        errors = exc.errors if isinstance(exc, ImportRejected) else [str(exc)]
        return render(request, "kkpd/import.html", _context(access, banks=banks, errors=errors), status=400)
    if outcome.added == 0:
        messages.info(
            request, _("Nothing new: all %(n)d transactions were already imported.") % {"n": outcome.rows}
        )
    else:
        messages.success(
            request,
            _("%(added)d transactions added (%(already)d already imported); %(flags)d new flags.")
            % {"added": outcome.added, "already": outcome.already, "flags": outcome.flags_added},
        )
    return redirect("kkpd:flags", region=access.region.slug)


def _uuid_or_none(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


@login_required
def national(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    start, end = _period(request)
    rows = [(r, region_summary(region=r, start=start, end=end)) for r in kkpd_regions()]
    return render(request, "kkpd/national.html", {"rows": rows})


def public_page(request: HttpRequest, region: str) -> HttpResponse:
    """Aggregates only, without login: no card digits, holders or merchants."""
    the_region = kkpd_regions().filter(slug=region).first()
    if the_region is None:
        raise Http404
    start, end = _period(request)
    summary = region_summary(region=the_region, start=start, end=end)
    return render(
        request, "kkpd/public.html", {"region": the_region, "summary": summary, "charts": _charts(summary)}
    )


def _transaction_for(access: KkpdAccess, public_id: str) -> Transaction:
    found = get_object_or_404(
        Transaction.objects.select_related("card", "card__opd"), region=access.region, public_id=public_id
    )
    access.require_opd(found.card.opd_id)
    return found


@login_required
def transaction_detail(request: HttpRequest, region: str, transaction: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    found = _transaction_for(access, transaction)
    return render(request, "kkpd/transaction.html", _context(access, t=found, kinds=Transaction.Kind.choices))


@login_required
@require_POST
def receipt_upload(request: HttpRequest, region: str, transaction: str) -> HttpResponse:
    """The administrator, or a card holder for their own OPD, attaches a receipt."""
    access = kkpd_access(request.user, region)
    found = _transaction_for(access, transaction)
    if not (access.is_admin or found.card.opd_id in {o.id for o in access.opds}):
        raise PermissionDenied
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput(_("Choose a file."))
        receipt_attach(transaction=found, upload=upload, user=acting_user(request))
    except InvalidInput as exc:
        back = reverse(
            "kkpd:transaction", kwargs={"region": access.region.slug, "transaction": found.public_id}
        )
        return refused_page(request, exc, back=back, status=400, context=_context(access))
    messages.success(request, _("Receipt attached."))
    return redirect("kkpd:transaction", region=access.region.slug, transaction=found.public_id)


@login_required
@require_POST
def transaction_correction(request: HttpRequest, region: str, transaction: str) -> HttpResponse:
    """The administrator corrects a transaction by a new record (amount and kind)."""
    access = kkpd_access(request.user, region)
    found = _transaction_for(access, transaction)
    access.require_admin()
    amount = request.POST.get("amount", "").strip()
    try:
        if not amount.isdigit():
            raise InvalidInput(_("The amount must be a positive whole number of rupiah."))
        corrected = transaction_correct(
            original=found, fields={"amount": int(amount), "kind": request.POST.get("kind", found.kind)},
            reason=request.POST.get("reason", ""), user=acting_user(request),
        )  # fmt: skip
    except InvalidInput as exc:
        back = reverse(
            "kkpd:transaction", kwargs={"region": access.region.slug, "transaction": found.public_id}
        )
        return refused_page(request, exc, back=back, status=400, context=_context(access))
    messages.success(request, _("Correction recorded as a new transaction."))
    return redirect("kkpd:transaction", region=access.region.slug, transaction=corrected.public_id)


@login_required
def spending_upload(request: HttpRequest, region: str) -> HttpResponse:
    """The administrator imports realised spending per OPD and month."""
    access = kkpd_access(request.user, region)
    access.require_admin()
    if request.method != "POST":
        return render(request, "kkpd/spending.html", _context(access))
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ImportRejected([_("Choose a file.")])
        added = spending_import(region=access.region, upload=upload, user=acting_user(request))
    except ImportRejected as exc:
        return render(request, "kkpd/spending.html", _context(access, errors=exc.errors), status=400)
    messages.success(request, _("%(n)d rows of realised spending imported.") % {"n": added})
    return redirect("kkpd:dashboard", region=access.region.slug)


@login_required
def summary_download(request: HttpRequest, region: str) -> HttpResponse:
    """The region's KKPD summary PDF for ``?year=`` (region-wide readers only)."""
    access = kkpd_access(request.user, region)
    if not access.region_wide:
        raise PermissionDenied
    year = int(request.GET["year"]) if request.GET.get("year", "").isdigit() else timezone.localdate().year
    name = summary_file_name(region=access.region, year=year)
    return file_response(summary_pdf(region=access.region, year=year), filename=name)


@login_required
def bank_mapping(request: HttpRequest, region: str, bank: str) -> HttpResponse:
    """The administrator saves the bank's statement column mapping (YAML); empty is the template."""
    access = kkpd_access(request.user, region)
    access.require_admin()
    the_bank = get_object_or_404(Bank, region=access.region, public_id=bank)
    presets = {"generic": GENERIC_MAPPING_YAML, "example": EXAMPLE_MAPPING_YAML}
    context = _context(access, bank=the_bank, presets=presets, text=the_bank.mapping_yaml)
    if request.method != "POST":
        return render(request, "kkpd/mapping.html", context)
    text = request.POST.get("mapping_yaml", "")
    try:
        bank_set_mapping(bank=the_bank, mapping_yaml=text)
    except InvalidInput as exc:
        return render(
            request, "kkpd/mapping.html", {**context, "text": text, "errors": [str(exc)]}, status=400
        )
    messages.success(request, _("Column mapping saved."))
    return redirect("kkpd:import", region=access.region.slug)


@login_required
def receipt_download(request: HttpRequest, region: str, transaction: str, receipt: str) -> FileResponse:
    """A stored receipt, to those who see its transaction, always as a download."""
    access = kkpd_access(request.user, region)
    found = _transaction_for(access, transaction)
    the_receipt = get_object_or_404(Receipt, transaction=found, public_id=receipt)
    return stored_file_response(
        the_receipt.file.open("rb"), filename=the_receipt.original_name, content_type=the_receipt.content_type
    )


@login_required
def rules_edit(request: HttpRequest, region: str) -> HttpResponse:
    """The region's rule file: everyone with KKPD access reads it, the administrator changes it."""
    access = kkpd_access(request.user, region)
    current = (
        KkpdRegion.objects.filter(region=access.region).values_list("rules_yaml", flat=True).first() or ""
    )
    context = _context(access, text=current, defaults=DEFAULT_RULES_YAML)
    if request.method != "POST":
        return render(request, "kkpd/rules.html", context)
    access.require_admin()
    text = request.POST.get("rules_yaml", "")
    try:
        added = rules_set(region=access.region, rules_yaml=text)
    except InvalidInput as exc:
        return render(request, "kkpd/rules.html", {**context, "text": text, "errors": [str(exc)]}, status=400)
    messages.success(request, _("Rule file saved; %(n)d new flags.") % {"n": added})
    return redirect("kkpd:flags", region=access.region.slug)
