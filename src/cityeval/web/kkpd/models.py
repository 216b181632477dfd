"""KKPD records of a region: banks, cards, merchant register, transactions, receipts, realised
spending and rule flags.

Card numbers are never stored: a card is known by its last four digits (unique in the region,
as the engine's card files key on them). Transactions are append-only: a correction is a new
transaction that names the one it corrects, and only uncorrected transactions count. Flag
status changes are kept as a history; the flag's ``status`` is the latest of them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityeval.web.regions.models import Opd, Region

last_four_digits = RegexValidator(r"^\d{4}$", _("Only the last four digits of the card number."))


class Bank(models.Model):
    """An issuing bank of the region, with the column mapping of its statements (YAML, see
    ``cityeval.engine.kkpd.mapping``); empty means the generic template."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_banks")
    name = models.CharField(_("name"), max_length=120)
    mapping_yaml = models.TextField(_("statement column mapping (YAML)"), blank=True)

    class Meta:
        ordering = ["region", "name"]
        verbose_name = _("issuing bank")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="kkpd_bank_unique_in_region")]

    def __str__(self) -> str:
        return self.name


class Card(models.Model):
    class Type(models.TextChoices):
        GOODS = "goods", _("Goods, services and capital")
        TRAVEL = "travel", _("Official travel")

    class Period(models.TextChoices):
        MONTH = "month", _("per month")
        YEAR = "year", _("per year")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_cards")
    opd = models.ForeignKey(Opd, on_delete=models.PROTECT, related_name="kkpd_cards")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="cards")
    last_four = models.CharField(_("last four digits"), max_length=4, validators=[last_four_digits])
    card_type = models.CharField(_("card type"), max_length=10, choices=Type.choices)
    holder_name = models.CharField(_("card holder"), max_length=120)
    administrator = models.CharField(_("administrator"), max_length=120, blank=True)
    authorised_users = models.TextField(_("authorised users (one per line)"), blank=True)
    limit = models.PositiveBigIntegerField(_("limit (Rp)"))
    limit_period = models.CharField(_("limit period"), max_length=10, choices=Period.choices)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))

    class Meta:
        ordering = ["region", "opd", "last_four"]
        verbose_name = _("KKPD card")
        constraints = [
            models.UniqueConstraint(fields=["region", "last_four"], name="kkpd_card_unique_in_region"),
            models.CheckConstraint(
                name="kkpd_card_last_four_only", condition=models.Q(last_four__regex=r"^[0-9]{4}$")
            ),
        ]

    def __str__(self) -> str:
        return f"•••• {self.last_four}"


class Merchant(models.Model):
    """The region's merchant register."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_merchants")
    merchant_id = models.CharField(_("merchant id"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    mcc = models.CharField(_("category code (MCC)"), max_length=4, blank=True)
    micro_small = models.BooleanField(_("micro or small enterprise"), default=False)
    domestic = models.BooleanField(_("domestic products"), default=False)

    class Meta:
        ordering = ["region", "name"]
        verbose_name = _("merchant")
        constraints = [
            models.UniqueConstraint(fields=["region", "merchant_id"], name="kkpd_merchant_unique_in_region")
        ]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One accepted statement import."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_imports")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=200)
    rows = models.PositiveIntegerField()
    added = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Transaction(models.Model):
    """A card transaction in the engine's template plus posting date and budget account.
    Never edited: ``corrects`` points from a correcting entry to the transaction it replaces."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        REFUND = "refund", _("Refund")
        FEE = "fee", _("Fee")

    class Account(models.TextChoices):
        GOODS_SERVICES = "goods_services", _("Goods and services spending")
        CAPITAL = "capital", _("Capital spending")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_transactions")
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="transactions")
    reference = models.CharField(_("bank reference"), max_length=80)
    date = models.DateField(_("transaction date"))
    posting_date = models.DateField(_("posting date"), null=True, blank=True)
    merchant = models.CharField(_("merchant"), max_length=200)
    merchant_id = models.CharField(_("merchant id"), max_length=60, blank=True)
    mcc = models.CharField(_("category code (MCC)"), max_length=4)
    amount = models.PositiveBigIntegerField(_("amount (Rp)"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    receipt_date = models.DateField(_("receipt date"), null=True, blank=True)
    account_code = models.CharField(_("budget account (kode rekening)"), max_length=40, blank=True)
    account_kind = models.CharField(
        _("spending kind"), max_length=20, choices=Account.choices, default=Account.GOODS_SERVICES
    )
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="correction"
    )
    reason = models.TextField(_("reason for the correction"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("KKPD transaction")
        constraints = [
            models.UniqueConstraint(fields=["region", "reference"], name="kkpd_reference_unique_in_region")
        ]
        indexes = [models.Index(fields=["region", "date"])]


class Receipt(models.Model):
    """A receipt (SPJ file) of a transaction, stored by its SHA-256."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="receipts")
    file = models.FileField(upload_to="kkpd/")
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=120)
    original_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)


class Spending(models.Model):
    """Realised spending of an OPD in a month (from the finance system or entered). Append-only:
    the latest row per OPD and month counts."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_spending")
    opd = models.ForeignKey(Opd, on_delete=models.PROTECT, related_name="kkpd_spending")
    month = models.DateField(_("month"))  # first day of the month
    goods_services = models.PositiveBigIntegerField(_("goods and services (Rp)"))
    capital = models.PositiveBigIntegerField(_("capital (Rp)"))
    other_non_cash = models.PositiveBigIntegerField(_("other non-cash (Rp)"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["opd", "month", "-created_at"]


class Flag(models.Model):
    """A rule check's finding on a transaction (or, for late settlement, on a card's bill).
    ``key`` makes re-running the checks idempotent."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        EXPLAINED = "explained", _("Explained")
        RESOLVED = "resolved", _("Resolved")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_flags")
    key = models.CharField(max_length=200)
    rule = models.CharField(_("rule"), max_length=40)
    code = models.CharField(max_length=60)
    params = models.JSONField(default=dict)
    detail = models.TextField(_("detail"))
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="flags")
    date = models.DateField(null=True, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "rule"]
        verbose_name = _("flag")
        constraints = [models.UniqueConstraint(fields=["region", "key"], name="kkpd_flag_key_unique")]


class FlagStatusChange(models.Model):
    """One status change of a flag, with who, when and why. Never edited."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(_("status"), max_length=10, choices=Flag.Status.choices)
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]


class KkpdRegion(models.Model):
    """A region running KKPD, with its rule file (YAML, see ``cityeval.engine.kkpd.rules``;
    empty means the defaults)."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="kkpd")
    rules_yaml = models.TextField(_("rule file (YAML)"), blank=True)
    started_on = models.DateField(_("KKPD in use since"), null=True, blank=True)

    class Meta:
        verbose_name = _("KKPD region")


class MonthlyTotal(models.Model):
    """Derived, not a record: the region's effective transactions summed per card, month, kind,
    merchant id and budget category, rebuilt after every import or correction so that the
    dashboards read a few thousand sums instead of every transaction."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    kind = models.CharField(max_length=10)
    merchant_id = models.CharField(max_length=60, blank=True)
    account_kind = models.CharField(max_length=20)
    amount = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["region", "month"])]


class Settlement(models.Model):
    """A card's monthly bill: the month of the transactions billed, the due date and the day the
    OPD paid it (empty while unpaid). Append-only: a later import adds a row, the latest row per
    card and month counts (so a bill paid after an earlier import is recorded without editing)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="kkpd_settlements")
    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="settlements")
    month = models.DateField(_("month"))  # first day of the month billed
    due_date = models.DateField(_("due date"))
    settlement_date = models.DateField(_("settlement date"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card", "month", "-created_at"]


class CardChange(models.Model):
    """Who changed which master data of a card, from what to what. Never edited."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="changes")
    changes = models.JSONField()  # {field: [old, new]} as text
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
