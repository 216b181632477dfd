"""Writes of the KKPD administrator's registers: issuing banks, cards, the merchant register,
realised spending entered by hand and the cards' monthly bills (settlements).

Cards keep their last four digits for life (a new card is a new record); other master data is
changed in place with a :class:`CardChange` saying who changed what. Spending and settlements
are append-only: a new row, the latest per OPD (card) and month counts. Imports land whole or
not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import InputError
from cityeval.engine.kkpd import parse_merchants, parse_settlements
from cityeval.web.imports import ImportRejected, RowErrors, read_upload
from cityeval.web.kkpd.forms import CARD_FIELDS
from cityeval.web.kkpd.models import Bank, Card, CardChange, Merchant, Settlement, Spending
from cityeval.web.kkpd.selectors import cards_frame, latest_settlements
from cityeval.web.kkpd.services import InvalidInput, _problems, flags_refresh
from cityeval.web.regions.models import Opd, Region


def bank_save(*, region: Region, name: str, bank: Bank | None = None) -> Bank:
    """Register an issuing bank, or rename ``bank``; names are unique in the region."""
    name = name.strip()
    others = Bank.objects.filter(region=region, name__iexact=name)
    if bank is not None:
        others = others.exclude(pk=bank.pk)
    if not name or others.exists():
        raise InvalidInput(_("Give the bank a name not used by another bank of the region."))
    bank = bank or Bank(region=region)
    bank.name = name
    bank.save()
    return bank


def card_create(*, region: Region, last_four: str, values: dict, user: User) -> Card:
    """Register a card by its last four digits (unique in the region) and its master data."""
    if Card.objects.filter(region=region, last_four=last_four).exists():
        raise InvalidInput(_("The region already has a card ending in these four digits."))
    card = Card(region=region, last_four=last_four, **_card_values(region, values))
    _validate(card)
    card.save()
    return card


def card_update(*, card: Card, values: dict, user: User) -> CardChange | None:
    """Change a card's master data in place (never its last four digits), recording who changed
    which field from what to what; None when nothing changed."""
    values = _card_values(card.region, values)
    changes = {
        name: [str(getattr(card, name)), str(new)]
        for name, new in values.items()
        if getattr(card, name) != new
    }
    if not changes:
        return None
    with db_transaction.atomic():
        for name, new in values.items():
            setattr(card, name, new)
        _validate(card)
        card.save()
        return CardChange.objects.create(card=card, changes=changes, changed_by=user)


def _validate(card: Card) -> None:
    try:
        card.full_clean()
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from None


def _card_values(region: Region, values: dict) -> dict:
    unknown = set(values) - set(CARD_FIELDS)
    if unknown:
        raise InvalidInput(_("These values cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))})
    if values["opd"].region_id != region.id or values["bank"].region_id != region.id:
        raise InvalidInput(_("The OPD and the bank must be the region's."))
    return values


def merchant_save(*, region: Region, values: dict, merchant: Merchant | None = None) -> Merchant:
    """Add a merchant to the register, or change ``merchant``; merchant ids are unique in the region."""
    merchant_id = values["merchant_id"].strip()
    others = Merchant.objects.filter(region=region, merchant_id=merchant_id)
    if merchant is not None:
        others = others.exclude(pk=merchant.pk)
    if not merchant_id or others.exists():
        raise InvalidInput(_("The register already has a merchant with this id."))
    merchant = merchant or Merchant(region=region)
    for name, value in (values | {"merchant_id": merchant_id}).items():
        setattr(merchant, name, value)
    merchant.save()
    return merchant


@dataclass(frozen=True)
class MerchantOutcome:
    added: int
    changed: int


def merchant_import(*, region: Region, upload: UploadedFile) -> MerchantOutcome:
    """Import the merchant register (the engine's file, plus an optional ``mcc`` column): every
    row valid or nothing saved. A merchant id already registered takes the file's values."""
    table = read_upload(upload)
    try:
        parsed = parse_merchants(table)
    except InputError as exc:
        raise ImportRejected(_problems(exc)) from None
    mccs = table.get_column("mcc").fill_null("").str.strip_chars() if "mcc" in table.columns else None
    errors = RowErrors()
    for i, row in enumerate(parsed.iter_rows(named=True)):
        mcc = mccs[i] if mccs is not None else ""
        if mcc and not (len(mcc) == 4 and mcc.isdigit()):
            errors.add(row["__row__"], "mcc", _("'%(v)s' is not a four-digit MCC") % {"v": mcc})
        if len(row["merchant_id"]) > 60:
            errors.add(row["__row__"], "merchant_id", _("too long"))
        name = (row["name"] or "").strip()
        if not name or len(name) > 200:
            errors.add(row["__row__"], "name", _("empty") if not name else _("too long"))
    if errors:
        raise ImportRejected(errors.errors)
    existing = {m.merchant_id: m for m in Merchant.objects.filter(region=region)}
    added = changed = 0
    with db_transaction.atomic():
        for i, row in enumerate(parsed.iter_rows(named=True)):
            merchant = existing.get(row["merchant_id"]) or Merchant(
                region=region, merchant_id=row["merchant_id"]
            )
            changed, added = (changed + 1, added) if merchant.pk else (changed, added + 1)
            merchant.name = (row["name"] or "").strip()
            merchant.mcc = mccs[i] if mccs is not None else merchant.mcc
            merchant.micro_small, merchant.domestic = row["micro_small"], row["domestic"]
            merchant.save()
    return MerchantOutcome(added=added, changed=changed)


def spending_add(*, region: Region, opd: Opd, values: dict, user: User) -> Spending:
    """Record realised spending of an OPD in a month by hand: a new row; the latest counts."""
    if opd.region_id != region.id:
        raise InvalidInput(_("The OPD must be the region's."))
    month = values["month"].replace(day=1)
    return Spending.objects.create(region=region, opd=opd, created_by=user, **(values | {"month": month}))


@dataclass(frozen=True)
class SettlementOutcome:
    rows: int
    added: int
    flags_added: int


def settlement_import(*, region: Region, upload: UploadedFile, user: User) -> SettlementOutcome:
    """Import monthly bills (``card, month, due_date, settlement_date``): every row valid or
    nothing saved. A row equal to the latest stored bill of its card and month adds nothing;
    the checks then run again, so a bill settled after its due date raises ``late_settlement``."""
    table = read_upload(upload)
    cards = {c.last_four: c for c in Card.objects.filter(region=region)}
    try:
        parsed = parse_settlements(table, cards=cards_frame(cards.values()))
    except InputError as exc:
        raise ImportRejected(_problems(exc)) from None
    latest = {(r["card"], r["month"]): r for r in latest_settlements(region=region).iter_rows(named=True)}
    new = []
    for row in parsed.iter_rows(named=True):
        known = latest.get((row["card"], row["month"]))
        if known and (known["due_date"], known["settlement_date"]) == (
            row["due_date"],
            row["settlement_date"],
        ):
            continue
        new.append(
            Settlement(
                region=region, card=cards[row["card"]], month=row["month"], due_date=row["due_date"],
                settlement_date=row["settlement_date"], created_by=user,
            )
        )  # fmt: skip
    with db_transaction.atomic():
        Settlement.objects.bulk_create(new)
        flags = flags_refresh(region=region, as_of=timezone.localdate())
    return SettlementOutcome(rows=parsed.height, added=len(new), flags_added=flags)
