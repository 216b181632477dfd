"""Bank statement layouts: a small declarative mapping onto cityeval's generic template.

A mapping says which bank column holds each template column, how dates are written, how
amounts are written and which sign convention the bank uses. It is plain data (YAML or a dict)
so that a region adds a bank without code::

    name: contoh-bank
    columns:                    # bank column → template column (headers compared normalised)
      No Referensi: reference
      Nomor Kartu: card
      Tanggal Transaksi: date
      ...
      Debet: amount
    credit_column: Kredit       # with sign: debit_credit
    date_format: "%d/%m/%Y"     # strftime codes
    amount_style: id            # plain | id (1.500.000,00) | en (1,500,000.00)
    sign: debit_credit          # kind | signed | debit_credit
    kinds: {pembelian: purchase, biaya: fee, pengembalian: refund}

Sign conventions:

- ``kind``: every amount is positive; the ``kind`` column says purchase, refund or fee.
- ``signed``: one amount column; a negative amount (``-1500`` or ``(1500)``) is a refund, a
  positive one a purchase unless the ``kind`` column (if mapped) says fee.
- ``debit_credit``: the ``amount`` column holds debits, ``credit_column`` credits; each row
  fills exactly one; a credit is a refund, a debit a purchase unless ``kind`` says fee.

Amount styles (decimals are refused in every style; a zero fraction such as ``,00`` is
accepted in ``id`` and ``en`` because bank statements print it):

- ``plain`` (the template): digits, optionally grouped in threes by dots (``1.500.000``, as
  Indonesian files write it) or by commas (``1,500,000``) — never mixed. Since rupiah amounts
  are whole, ``1.500`` is read as one thousand five hundred.
- ``id``: ``1.500.000`` or ``1.500.000,00`` (dot thousands, comma decimals).
- ``en``: ``1,500,000`` or ``1,500,000.00`` (comma thousands, dot decimals).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from cityeval.engine.errors import InputError
from cityeval.engine.framework import _describe_pydantic_error
from cityeval.engine.kkpd.rules import RulesError
from cityeval.engine.tables import normalise_header

__all__ = [
    "EXAMPLE_MAPPING",
    "GENERIC_MAPPING",
    "KINDS",
    "TEMPLATE_COLUMNS",
    "BankMapping",
    "apply_mapping",
    "parse_mapping",
]

TEMPLATE_COLUMNS = (
    "reference", "card", "date", "merchant", "merchant_id", "mcc", "amount", "kind", "receipt_date",
)  # fmt: skip
OPTIONAL_COLUMNS = ("merchant_id", "receipt_date")
KINDS = ("purchase", "refund", "fee")
NEGATIVE = "__negative__"
BOTH = "__debit_and_credit__"  # a kind the template's checks report as a row filling both columns

TemplateColumn = Literal[
    "reference", "card", "date", "merchant", "merchant_id", "mcc", "amount", "kind", "receipt_date"
]
Kind = Literal["purchase", "refund", "fee"]


class BankMapping(BaseModel):
    """How one bank's statement layout maps onto the template (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    columns: dict[str, TemplateColumn]
    date_format: str = "%Y-%m-%d"
    amount_style: Literal["plain", "id", "en"] = "plain"
    sign: Literal["kind", "signed", "debit_credit"] = "kind"
    credit_column: str | None = None
    kinds: dict[str, Kind] = {"purchase": "purchase", "refund": "refund", "fee": "fee"}

    @field_validator("columns")
    @classmethod
    def _normalise_columns(cls, value: dict[str, str]) -> dict[str, str]:
        targets = list(value.values())
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ValueError(f"template column {repeated[0]!r} is mapped twice")
        return {normalise_header(k): v for k, v in value.items()}

    @field_validator("kinds")
    @classmethod
    def _normalise_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v for k, v in value.items()}

    @model_validator(mode="after")
    def _complete(self) -> BankMapping:
        mapped = set(self.columns.values())
        needed = set(TEMPLATE_COLUMNS) - set(OPTIONAL_COLUMNS) - ({"kind"} if self.sign != "kind" else set())
        missing = sorted(needed - mapped)
        if missing:
            raise ValueError(f"no bank column is mapped to {missing[0]!r}")
        if (self.sign == "debit_credit") != (self.credit_column is not None):
            raise ValueError("credit_column is required with sign: debit_credit, and only then")
        return self

    @property
    def credit(self) -> str | None:
        return normalise_header(self.credit_column) if self.credit_column else None


GENERIC_MAPPING = BankMapping(name="generic", columns={c: c for c in TEMPLATE_COLUMNS})

EXAMPLE_MAPPING_YAML = """\
# A fictional Indonesian bank statement layout (not any real bank's), to show a mapping.
name: contoh-bank
columns:
  No Referensi: reference
  Nomor Kartu: card
  Tanggal Transaksi: date
  Nama Merchant: merchant
  MID: merchant_id
  MCC: mcc
  Debet: amount
  Jenis: kind
  Tanggal SPJ: receipt_date
credit_column: Kredit
date_format: "%d/%m/%Y"
amount_style: id
sign: debit_credit
kinds: {pembelian: purchase, biaya: fee, pengembalian: refund}
"""


def parse_mapping(text: str, *, source: str | None = None) -> BankMapping:
    """Validate a mapping file's YAML text."""
    try:
        data = yaml.safe_load(text)
        return BankMapping.model_validate(data)
    except yaml.YAMLError as exc:
        raise RulesError([f"not valid YAML ({exc})"], source=source) from None
    except ValidationError as exc:
        raise RulesError([_describe_pydantic_error(e) for e in exc.errors()], source=source) from None


EXAMPLE_MAPPING = parse_mapping(EXAMPLE_MAPPING_YAML)


def apply_mapping(table: pl.DataFrame, mapping: BankMapping, *, row: str) -> pl.DataFrame:
    """Rename a bank table's columns to the template and resolve the sign convention.

    Returns text columns ``reference … receipt_date`` plus ``row``; ``amount`` is left as
    unsigned text for the template's checks, and ``kind`` as the bank's lower-cased word
    translated through ``mapping.kinds`` (left as it is when unknown, which the checks report;
    :data:`BOTH` for a row that fills both the debit and the credit column).
    """
    bank_columns = [*mapping.columns, *([mapping.credit] if mapping.credit else [])]
    missing = [c for c in bank_columns if c not in table.columns]
    if missing:
        have = ", ".join(c for c in table.columns if c != row)
        raise InputError(f"the file has no column {missing[0]!r} (columns found: {have})", column=missing[0])
    out = table.select(row, *(pl.col(bank).alias(t) for bank, t in mapping.columns.items()))
    for column in OPTIONAL_COLUMNS:
        if column not in out.columns:
            out = out.with_columns(pl.lit(None, pl.String).alias(column))
    words = (
        pl.col("kind").str.to_lowercase().str.strip_chars()
        if "kind" in out.columns
        else pl.lit(None, pl.String)
    )
    kind = words.replace_strict(mapping.kinds, default=words, return_dtype=pl.String)
    if mapping.sign == "kind":
        return out.with_columns(kind.alias("kind"))
    if mapping.sign == "signed":
        text = pl.col("amount").str.strip_chars()
        negative = text.str.starts_with("-") | (text.str.starts_with("(") & text.str.ends_with(")"))
        unsigned = text.str.strip_chars("-()").str.strip_chars()
        resolved = pl.when(negative).then(pl.lit("refund")).otherwise(kind.fill_null("purchase"))
        return out.with_columns(unsigned.alias("amount"), resolved.alias("kind"))
    credit = table.get_column(mapping.credit or "")
    debit_blank = pl.col("amount").is_null() | (pl.col("amount") == "")
    credit_blank = pl.col(NEGATIVE).is_null() | (pl.col(NEGATIVE) == "")
    out = out.with_columns(credit.alias(NEGATIVE))
    resolved = (
        pl.when(~debit_blank & ~credit_blank)
        .then(pl.lit(BOTH))
        .when(debit_blank & ~credit_blank)
        .then(pl.lit("refund"))
        .otherwise(kind.fill_null("purchase"))
    )
    amount = pl.when(debit_blank).then(pl.col(NEGATIVE)).otherwise(pl.col("amount"))
    return out.with_columns(amount.alias("amount"), resolved.alias("kind")).drop(NEGATIVE)
