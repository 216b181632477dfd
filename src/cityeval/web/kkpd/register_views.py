"""The KKPD administrator's register pages: issuing banks, cards, the merchant register (with
its import), realised spending entered by hand and the monthly bills (settlements) import.

Every KKPD reader sees the lists (a card holder only their OPD's cards); only the administrator
opens the forms and writes (others get 403; outsiders of the region 404, see ``kkpd.access``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from cityeval.web.accounts.access import acting_user
from cityeval.web.imports import REFUSED_STATUS, ImportRejected
from cityeval.web.kkpd.access import KkpdAccess, kkpd_access
from cityeval.web.kkpd.forms import BankForm, CardForm, MerchantForm, SpendingForm
from cityeval.web.kkpd.models import Bank, Card, Merchant, Settlement, Spending
from cityeval.web.kkpd.register import (
    bank_save,
    card_create,
    card_update,
    merchant_import,
    merchant_save,
    settlement_import,
    spending_add,
)
from cityeval.web.kkpd.services import InvalidInput

SHOWN = 500


def _context(access: KkpdAccess, **more) -> dict:
    return {"access": access, "region": access.region, **more}


def _form_page(
    request: HttpRequest, access: KkpdAccess, form, title: str, status: int = 200, **more
) -> HttpResponse:
    return render(request, "kkpd/form.html", _context(access, form=form, title=title, **more), status=status)


def _submit(
    request: HttpRequest,
    access: KkpdAccess,
    form,
    save: Callable[[dict], object],
    *,
    refused: Callable[[list[str]], HttpResponse],
    done: str,
    then: str,
) -> HttpResponse:
    """Validate ``form`` and hand its data to ``save`` (a service); on a refusal the page again
    (``refused`` with the reasons, status 400), else a message and a redirect to ``then``."""
    try:
        if not form.is_valid():
            raise InvalidInput(_("Correct the marked fields."))
        save(form.cleaned_data)
    except InvalidInput as exc:
        return refused([str(exc)])
    messages.success(request, done)
    return redirect(then, region=access.region.slug)


def _values(form, data: dict) -> dict:
    return {name: data[name] for name in form.Meta.fields}


@login_required
def bank_list(request: HttpRequest, region: str) -> HttpResponse:
    """The region's issuing banks; the administrator registers a new one here."""
    access = kkpd_access(request.user, region)
    form = BankForm(request.POST or None)
    banks = Bank.objects.filter(region=access.region)

    def page(errors: list[str] | None = None) -> HttpResponse:
        context = _context(access, form=form, banks=banks, errors=errors)
        return render(request, "kkpd/banks.html", context, status=400 if errors else 200)

    if request.method != "POST":
        return page()
    access.require_admin()
    return _submit(
        request, access, form, lambda data: bank_save(region=access.region, name=data["name"]),
        refused=page, done=_("Bank registered."), then="kkpd:banks",
    )  # fmt: skip


@login_required
def bank_edit(request: HttpRequest, region: str, bank: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    the_bank = get_object_or_404(Bank, region=access.region, public_id=bank)
    access.require_admin()
    original = Bank.objects.get(pk=the_bank.pk)  # the form's validation writes into the_bank
    form = BankForm(request.POST or None, instance=the_bank)
    title = _("Issuing bank") + f" · {original.name}"
    if request.method != "POST":
        return _form_page(request, access, form, title)
    return _submit(
        request, access, form, lambda data: bank_save(region=access.region, name=data["name"], bank=original),
        refused=lambda errors: _form_page(request, access, form, title, status=400, errors=errors),
        done=_("Bank saved."), then="kkpd:banks",
    )  # fmt: skip


@login_required
def card_new(request: HttpRequest, region: str) -> HttpResponse:
    """The administrator registers a card by its last four digits."""
    access = kkpd_access(request.user, region)
    access.require_admin()
    form = CardForm(request.POST or None, region=access.region, new=True)
    title = _("Register a card")
    if request.method != "POST":
        return _form_page(request, access, form, title)
    return _submit(
        request, access, form,
        lambda data: card_create(
            region=access.region, last_four=data["last_four"], values=_values(form, data),
            user=acting_user(request),
        ),
        refused=lambda errors: _form_page(request, access, form, title, status=400, errors=errors),
        done=_("Card registered."), then="kkpd:cards",
    )  # fmt: skip


@login_required
def card_edit(request: HttpRequest, region: str, card: str) -> HttpResponse:
    """The administrator changes a card's master data (not its digits); the changes are kept."""
    access = kkpd_access(request.user, region)
    the_card = get_object_or_404(Card, region=access.region, public_id=card)
    access.require_opd(the_card.opd_id)
    access.require_admin()
    original = Card.objects.get(pk=the_card.pk)  # the form's validation writes into the_card
    form = CardForm(request.POST or None, instance=the_card, region=access.region, new=False)
    title = _("Card") + f" {original}"
    history = original.changes.select_related("changed_by")

    def refused(errors: list[str]) -> HttpResponse:
        return _form_page(request, access, form, title, status=400, errors=errors, history=history)

    if request.method != "POST":
        return _form_page(request, access, form, title, history=history)
    return _submit(
        request, access, form,
        lambda data: card_update(card=original, values=_values(form, data), user=acting_user(request)),
        refused=refused, done=_("Card saved."), then="kkpd:cards",
    )  # fmt: skip


@login_required
def merchant_list(request: HttpRequest, region: str) -> HttpResponse:
    """The merchant register; the administrator adds a merchant or imports the register."""
    access = kkpd_access(request.user, region)
    form = MerchantForm(request.POST or None)
    merchants = Merchant.objects.filter(region=access.region)[:SHOWN]

    def page(errors: list[str] | None = None) -> HttpResponse:
        context = _context(access, form=form, merchants=merchants, errors=errors)
        return render(request, "kkpd/merchants.html", context, status=400 if errors else 200)

    if request.method != "POST":
        return page()
    access.require_admin()
    return _submit(
        request, access, form, lambda data: merchant_save(region=access.region, values=data),
        refused=page, done=_("Merchant added to the register."), then="kkpd:merchants",
    )  # fmt: skip


@login_required
def merchant_edit(request: HttpRequest, region: str, merchant: int) -> HttpResponse:
    access = kkpd_access(request.user, region)
    the_merchant = get_object_or_404(Merchant, region=access.region, pk=merchant)
    access.require_admin()
    original = Merchant.objects.get(pk=the_merchant.pk)  # the form's validation writes into the_merchant
    form = MerchantForm(request.POST or None, instance=the_merchant)
    title = _("Merchant") + f" · {original.name}"
    if request.method != "POST":
        return _form_page(request, access, form, title)
    return _submit(
        request, access, form,
        lambda data: merchant_save(region=access.region, values=data, merchant=original),
        refused=lambda errors: _form_page(request, access, form, title, status=400, errors=errors),
        done=_("Merchant saved."), then="kkpd:merchants",
    )  # fmt: skip


@login_required
def merchant_upload(request: HttpRequest, region: str) -> HttpResponse:
    access = kkpd_access(request.user, region)
    access.require_admin()
    if request.method != "POST":
        return redirect("kkpd:merchants", region=access.region.slug)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ImportRejected([_("Choose a file.")])
        outcome = merchant_import(region=access.region, upload=upload)
    except ImportRejected as exc:
        merchants = Merchant.objects.filter(region=access.region)[:SHOWN]
        context = _context(access, form=MerchantForm(), merchants=merchants, import_errors=exc.errors)
        return render(request, "kkpd/merchants.html", context, status=REFUSED_STATUS)
    messages.success(
        request,
        _("%(added)d merchants added, %(changed)d updated.")
        % {"added": outcome.added, "changed": outcome.changed},
    )
    return redirect("kkpd:merchants", region=access.region.slug)


@login_required
def spending_entry(request: HttpRequest, region: str) -> HttpResponse:
    """The administrator enters one OPD's realised spending for a month (a new row; latest counts)."""
    access = kkpd_access(request.user, region)
    access.require_admin()
    form = SpendingForm(request.POST or None, region=access.region)
    title = _("Enter realised spending")
    recent = Spending.objects.filter(region=access.region).select_related("opd", "created_by")[:50]

    def refused(errors: list[str]) -> HttpResponse:
        return _form_page(request, access, form, title, status=400, errors=errors, spending=recent)

    if request.method != "POST":
        return _form_page(request, access, form, title, spending=recent)
    amounts = ("month", "goods_services", "capital", "other_non_cash")
    return _submit(
        request, access, form,
        lambda data: spending_add(
            region=access.region, opd=data["opd"], values={k: data[k] for k in amounts},
            user=acting_user(request),
        ),
        refused=refused, done=_("Realised spending recorded."), then="kkpd:spending_entry",
    )  # fmt: skip


@login_required
def settlement_upload(request: HttpRequest, region: str) -> HttpResponse:
    """The monthly bills: readers see them, the administrator imports them (the checks re-run)."""
    access = kkpd_access(request.user, region)
    bills = Settlement.objects.filter(region=access.region).select_related("card", "card__opd")
    if access.opd_ids is not None:
        bills = bills.filter(card__opd_id__in=access.opd_ids)
    context = _context(access, bills=bills[:SHOWN])
    if request.method != "POST":
        return render(request, "kkpd/settlements.html", context)
    access.require_admin()
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ImportRejected([_("Choose a file.")])
        outcome = settlement_import(region=access.region, upload=upload, user=acting_user(request))
    except (ImportRejected, InvalidInput) as exc:
        errors = exc.errors if isinstance(exc, ImportRejected) else [str(exc)]
        return render(request, "kkpd/settlements.html", {**context, "errors": errors}, status=REFUSED_STATUS)
    messages.success(
        request,
        _("%(added)d of %(rows)d bills recorded; %(flags)d new flags.")
        % {"added": outcome.added, "rows": outcome.rows, "flags": outcome.flags_added},
    )
    return redirect("kkpd:settlements", region=access.region.slug)
