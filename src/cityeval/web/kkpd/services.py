"""Writes of the KKPD app: statement imports, flag refreshes, flag status changes.

Imports land whole or not at all, are idempotent on the bank's reference, and then re-run the
engine's rule checks over the region's transactions (new flags added; existing flags keep
their status).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass

import filetype
import polars as pl
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import InputError
from cityeval.engine.kkpd import (
    GENERIC_MAPPING,
    BankMapping,
    RowProblems,
    RulesError,
    check_transactions,
    default_rules,
    parse_mapping,
    parse_rules,
    parse_spending,
    parse_transactions,
)
from cityeval.engine.kkpd.rules import RuleSet
from cityeval.engine.tables import normalise_header
from cityeval.web.engine_errors import message_text
from cityeval.web.imports import ImportRejected, RowErrors, read_upload
from cityeval.web.kkpd.models import (
    Bank,
    Card,
    Flag,
    FlagStatusChange,
    ImportBatch,
    KkpdRegion,
    MonthlyTotal,
    Receipt,
    Spending,
    Transaction,
)
from cityeval.web.kkpd.selectors import cards_frame, latest_settlements, monthly_sums, transactions_frame
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region

# Kode rekening of the regional budget (Permendagri 90/2019): 5.1.02 is goods and services
# spending, 5.2 capital spending. An uploaded account code starting with 5.2 is capital.
CAPITAL_PREFIX = "5.2"
EXTRA_COLUMNS = ("posting_date", "account_code")


class InvalidInput(Refused):
    """Nothing was saved; the message says why."""

    status = 400


@dataclass(frozen=True)
class ImportOutcome:
    rows: int
    added: int
    already: int
    flags_added: int


GENERIC_MAPPING_YAML = yaml.safe_dump(GENERIC_MAPPING.model_dump(), sort_keys=False, allow_unicode=True)


def bank_mapping(bank: Bank) -> BankMapping:
    """The bank's saved mapping, or the generic template's."""
    if not bank.mapping_yaml.strip():
        return GENERIC_MAPPING
    return parse_mapping(bank.mapping_yaml, source=bank.name)


def bank_set_mapping(*, bank: Bank, mapping_yaml: str) -> Bank:
    """Save a bank's statement mapping after validating it (InvalidInput names the problem);
    an empty text means the generic template."""
    try:
        if mapping_yaml.strip():
            parse_mapping(mapping_yaml, source=bank.name)
    except RulesError as exc:
        raise InvalidInput(str(exc)) from None
    bank.mapping_yaml = mapping_yaml
    bank.save(update_fields=["mapping_yaml"])
    return bank


def region_rules(region: Region) -> RuleSet:
    settings_row = KkpdRegion.objects.filter(region=region).first()
    if settings_row is None or not settings_row.rules_yaml.strip():
        return default_rules()
    return parse_rules(settings_row.rules_yaml, source=region.name)


def _problems(exc: InputError) -> list[str]:
    errors = RowErrors()
    if isinstance(exc, RowProblems):
        for p in exc.problems:
            errors.add(p.row, p.column, p.message)
        if exc.total > len(exc.problems):
            errors.add(None, None, _("%(n)d bad values in all") % {"n": exc.total})
    else:  # in the page's language when the error has a code (a missing column, say)
        errors.add(exc.row, exc.column, message_text(exc))
    return errors.errors


def _extras(table: pl.DataFrame) -> dict[str, pl.Series]:
    """Posting date and budget account, when the statement carries them (by normalised header)."""
    found: dict[str, pl.Series] = {}
    by_name = {normalise_header(c): c for c in table.columns}
    for column in EXTRA_COLUMNS:
        if column in by_name:
            found[column] = table.get_column(by_name[column])
    return found


def statement_import(
    *, region: Region, bank: Bank, upload: UploadedFile, user: User, as_of: dt.date | None = None
) -> ImportOutcome:
    """Import a bank statement: every row valid or nothing saved (ImportRejected lists the rows);
    rows whose reference the region already has are counted as ``already`` and not added."""
    table = read_upload(upload)
    cards = {c.last_four: c for c in Card.objects.filter(region=region, bank=bank)}
    try:
        parsed = parse_transactions(table, mapping=bank_mapping(bank), cards=cards_frame(cards.values()))
    except (InputError, RulesError) as exc:
        raise ImportRejected(_problems(exc) if isinstance(exc, InputError) else [str(exc)]) from None
    extras = _extras(table)
    posting = _posting_dates(extras.get("posting_date"), parsed, bank_mapping(bank).date_format)
    existing = set(
        Transaction.objects.filter(
            region=region, reference__in=parsed.get_column("reference").to_list()
        ).values_list("reference", flat=True)
    )
    accounts = extras.get("account_code")
    with db_transaction.atomic():
        batch = ImportBatch.objects.create(
            region=region, bank=bank, file_name=(upload.name or "")[:200], rows=parsed.height, added=0,
            created_by=user,
        )  # fmt: skip
        new = []
        for i, row in enumerate(parsed.iter_rows(named=True)):
            if row["reference"] in existing:
                continue
            code = (accounts[i] or "").strip() if accounts is not None else ""
            new.append(
                Transaction(
                    region=region, card=cards[row["card"]], reference=row["reference"], date=row["date"],
                    posting_date=posting[i], merchant=row["merchant"], merchant_id=row["merchant_id"] or "",
                    mcc=row["mcc"], amount=row["amount"], kind=row["kind"], receipt_date=row["receipt_date"],
                    account_code=code[:40], account_kind=_account_kind(code), batch=batch, created_by=user,
                )
            )  # fmt: skip
        Transaction.objects.bulk_create(new, batch_size=1000)
        batch.added = len(new)
        batch.save(update_fields=["added"])
        monthly_totals_refresh(region=region)
        flags_added = flags_refresh(region=region, as_of=as_of or timezone.localdate())
    return ImportOutcome(
        rows=parsed.height, added=len(new), already=parsed.height - len(new), flags_added=flags_added
    )


def _account_kind(code: str) -> str:
    capital = code.startswith(CAPITAL_PREFIX)
    return Transaction.Account.CAPITAL if capital else Transaction.Account.GOODS_SERVICES


def _posting_dates(column: pl.Series | None, parsed: pl.DataFrame, fmt: str) -> list[dt.date | None]:
    if column is None:
        return [None] * parsed.height
    dates = column.str.strip_chars().str.strptime(pl.Date, fmt, strict=False)
    bad = [i for i, (text, d) in enumerate(zip(column, dates, strict=True)) if text and d is None]
    if bad:
        rows = parsed.get_column("__row__").to_list()
        errors = RowErrors()
        for i in bad:
            errors.add(
                rows[i], "posting_date", _("'%(v)s' is not a date (%(f)s)") % {"v": column[i], "f": fmt}
            )
        raise ImportRejected(errors.errors)
    return dates.to_list()


def monthly_totals_refresh(*, region: Region) -> None:
    """Rebuild the region's derived monthly sums (after an import or a correction)."""
    with db_transaction.atomic():
        MonthlyTotal.objects.filter(region=region).delete()
        MonthlyTotal.objects.bulk_create(
            [
                MonthlyTotal(
                    region=region,
                    card_id=card,
                    month=month,
                    kind=kind,
                    merchant_id=merchant,
                    account_kind=account,
                    amount=total,
                )
                for card, month, kind, merchant, account, total in monthly_sums(region=region)
            ],
            batch_size=2000,
        )


def flags_refresh(*, region: Region, as_of: dt.date) -> int:
    """Run the engine's checks over the region's transactions and add the flags not yet stored.
    Stored flags keep their status. Returns the number of new flags."""
    cards = {c.last_four: c for c in Card.objects.filter(region=region).select_related("opd")}
    tx = transactions_frame(region=region, with_receipts=True)
    if tx.height == 0:
        return 0
    try:
        rules = region_rules(region)
    except RulesError as exc:
        raise InvalidInput(str(exc)) from None
    result = check_transactions(
        tx,
        cards_frame(cards.values()),
        rules=rules,
        as_of=as_of,
        settlements=latest_settlements(region=region),
    )
    ids = dict(Transaction.objects.filter(region=region).values_list("reference", "id"))
    known = set(Flag.objects.filter(region=region).values_list("key", flat=True))
    new = []
    for row in result.flags.iter_rows(named=True):
        key = _flag_key(row)
        if key in known:
            continue
        known.add(key)
        new.append(
            Flag(
                region=region, key=key, rule=row["rule"], code=row["code"], params=json.loads(row["params"]),
                detail=row["detail"], transaction_id=ids.get(row["reference"]), card=cards[row["card"]],
                date=row["date"], amount=row["amount"],
            )
        )  # fmt: skip
    Flag.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _flag_key(row: dict) -> str:
    """A flag's identity in the region. A transaction's reference is unique in the region; a
    bill's (``bill 2024-06``) only per card, so a bill's key names its card as well."""
    if row["rule"] == "late_settlement":
        return f"{row['rule']}:{row['card']}:{row['reference']}"
    return f"{row['rule']}:{row['reference']}"


def flag_set_status(*, flag: Flag, status: str, reason: str, user: User) -> FlagStatusChange:
    """Change a flag's status with a reason; the change is kept in the flag's history."""
    reason = reason.strip()
    if status not in Flag.Status.values:
        raise InvalidInput(_("Unknown status."))
    if not reason:
        raise InvalidInput(_("Give a reason for the change."))
    with db_transaction.atomic():
        change = FlagStatusChange.objects.create(flag=flag, status=status, reason=reason, changed_by=user)
        Flag.objects.filter(pk=flag.pk).update(status=status)
    flag.status = status
    return change


# --- receipts, corrections, realised spending -------------------------------------------------

# Receipts are PDFs or photos. The type is decided by the file's first bytes, never by its name
# or the browser's word. (The assessments app's fuller evidence check sits above this app in the
# layering; this is the minimal check for the types a receipt comes in.)
RECEIPT_TYPES = {"application/pdf", "image/png", "image/jpeg"}
RECEIPT_HEAD_BYTES = 8192


def _inspect_receipt(upload: UploadedFile) -> tuple[str, str]:
    """(sha256, content type) of an acceptable receipt, or InvalidInput saying why not."""
    limit = settings.EVIDENCE_MAX_MB * 1024 * 1024
    if upload.size is not None and upload.size > limit:
        raise InvalidInput(
            _("The file is larger than the limit of %(mb)d MB.") % {"mb": settings.EVIDENCE_MAX_MB}
        )
    upload.seek(0)
    kind = filetype.guess(upload.read(RECEIPT_HEAD_BYTES))
    if kind is None or kind.mime not in RECEIPT_TYPES:
        raise InvalidInput(_("A receipt must be a PDF, PNG or JPEG file."))
    upload.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            raise InvalidInput(
                _("The file is larger than the limit of %(mb)d MB.") % {"mb": settings.EVIDENCE_MAX_MB}
            )
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest(), kind.mime


def receipt_attach(*, transaction: Transaction, upload: UploadedFile, user: User) -> Receipt:
    """Attach a receipt (SPJ file) to a transaction, stored under its SHA-256."""
    sha256, content_type = _inspect_receipt(upload)
    name = os.path.basename((upload.name or "receipt").replace("\\", "/"))[:200] or "receipt"
    with db_transaction.atomic():
        receipt = Receipt(
            transaction=transaction,
            sha256=sha256,
            content_type=content_type,
            original_name=name,
            uploaded_by=user,
        )
        same = Receipt.objects.filter(sha256=sha256).first()
        if same is not None:
            receipt.file = same.file.name  # the bytes are stored once
        else:
            receipt.file.save(f"{sha256[:2]}/{sha256}", upload, save=False)
        receipt.save()
    return receipt


def transaction_correct(*, original: Transaction, fields: dict, reason: str, user: User) -> Transaction:
    """Correct a transaction by a new record that names the original; the original stays as it
    was and no longer counts. ``fields`` holds the corrected values (others are copied)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the correction."))
    if Transaction.objects.filter(corrects=original).exists():
        raise InvalidInput(_("This transaction was already corrected: correct the correction instead."))
    allowed = {"date", "posting_date", "merchant", "merchant_id", "mcc", "amount", "kind", "receipt_date",
               "account_code", "account_kind"}  # fmt: skip
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(_("These values cannot be corrected: %(f)s") % {"f": ", ".join(sorted(unknown))})
    values = {name: getattr(original, name) for name in allowed} | fields
    if not isinstance(values["amount"], int) or values["amount"] <= 0:
        raise InvalidInput(_("The amount must be a positive whole number of rupiah."))
    count = Transaction.objects.filter(
        region=original.region, reference__startswith=original.reference + "#"
    ).count()
    with db_transaction.atomic():
        corrected = Transaction.objects.create(
            region=original.region, card=original.card, reference=f"{original.reference}#{count + 1}",
            corrects=original, reason=reason, created_by=user, **values,
        )  # fmt: skip
        monthly_totals_refresh(region=original.region)
        flags_refresh(region=original.region, as_of=timezone.localdate())
    return corrected


def spending_import(*, region: Region, upload: UploadedFile, user: User) -> int:
    """Import realised spending per OPD and month (the engine's spending file; ``opd`` is the
    OPD's slug or short name). All rows or none; each row is a new record, the latest counts."""
    table = read_upload(upload)
    try:
        parsed = parse_spending(table)
    except InputError as exc:
        raise ImportRejected(_problems(exc)) from None
    opds = {}
    for opd in region.opds.all():
        opds[opd.slug.lower()] = opd
        if opd.short_name:
            opds.setdefault(opd.short_name.lower(), opd)
    errors = RowErrors()
    for row in parsed.iter_rows(named=True):
        if row["opd"].strip().lower() not in opds:
            errors.add(row["__row__"], "opd", _("'%(v)s' is not an OPD of the region") % {"v": row["opd"]})
    if errors:
        raise ImportRejected(errors.errors)
    rows = [
        Spending(
            region=region, opd=opds[row["opd"].strip().lower()], month=row["month"],
            goods_services=row["goods_services"], capital=row["capital"],
            other_non_cash=row["other_non_cash"], created_by=user,
        )
        for row in parsed.iter_rows(named=True)
    ]  # fmt: skip
    with db_transaction.atomic():
        Spending.objects.bulk_create(rows)
    return len(rows)


def rules_set(*, region: Region, rules_yaml: str) -> int:
    """Save the region's rule file after validating it (empty means the defaults) and re-run the
    checks as of today; returns the number of new flags. Existing flags keep their status."""
    if rules_yaml.strip():
        try:
            parse_rules(rules_yaml, source=region.name)
        except RulesError as exc:
            raise InvalidInput(str(exc)) from None
    with db_transaction.atomic():
        row, _created = KkpdRegion.objects.get_or_create(region=region)
        row.rules_yaml = rules_yaml
        row.save(update_fields=["rules_yaml"])
        return flags_refresh(region=region, as_of=timezone.localdate())
