"""Reading and validating KKPD files: cards, transactions, settlements, merchants, spending.

Every reader takes a path (CSV or XLSX, told apart by content through
:func:`cityeval.engine.tables.read_table`) and returns a typed table, or raises
:class:`RowProblems` — an :class:`InputError` naming the file, row and column of the first bad
value and listing every other bad value in ``problems``. Nothing is returned partially.

Card identifiers: the ``card`` column holds an identifier such as the card's last four digits
or an internal id (``DINKES-01``). A full or masked card number (12–19 characters of digits
and ``*``/``x``/``•``/``#``, spaces and dashes ignored, such as ``5264 81** **** 1234``) is
reduced to its last four digits as it is read, so no more than four digits of a card number
ever leave this module. Any other identifier with 12 or more digits is refused, since it may
hide a card number.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.kkpd.mapping import BOTH, GENERIC_MAPPING, KINDS, BankMapping, apply_mapping
from cityeval.engine.tables import ROW, read_table, require_columns

__all__ = [
    "CARD_COLUMNS",
    "MERCHANT_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "SPENDING_COLUMNS",
    "Problem",
    "RowProblems",
    "card_identifier",
    "parse_amounts",
    "parse_cards",
    "parse_merchants",
    "parse_settlements",
    "parse_spending",
    "parse_transactions",
    "read_cards",
    "read_merchants",
    "read_settlements",
    "read_spending",
    "read_transactions",
]

CARD_COLUMNS = ("card", "opd", "card_type", "holder", "limit", "limit_period")
SETTLEMENT_COLUMNS = ("card", "month", "due_date", "settlement_date")
MERCHANT_COLUMNS = ("merchant_id", "name", "micro_small", "domestic")
SPENDING_COLUMNS = ("opd", "month", "goods_services", "capital", "other_non_cash")
KEPT_PROBLEMS = 1000
_SHOWN = 5
_MAX_DIGITS = 15  # Rp 999 trillion: beyond any card, and safe in Int64
_MASKED = r"^[0-9*xX•#]{12,19}$"
_YES = ("yes", "ya", "y", "true", "1")
_NO = ("no", "tidak", "n", "false", "0")


class Problem(NamedTuple):
    row: int
    column: str
    message: str


class RowProblems(InputError):
    """Every bad value of a file: ``problems`` (the first :data:`KEPT_PROBLEMS`) and ``total``."""

    def __init__(self, problems: list[Problem], *, total: int, source: str | None = None) -> None:
        self.problems = tuple(problems)
        self.total = total
        first = problems[0]
        message = first.message
        if total > 1:
            others = "; ".join(f"row {p.row}, column {p.column!r}" for p in problems[1:_SHOWN])
            more = "; …" if total > _SHOWN else ""
            message += f" ({total - 1} more bad value{'s' if total > 2 else ''}: {others}{more})"
        super().__init__(message, row=first.row, column=first.column, source=source)

    def with_source(self, source: str) -> RowProblems:
        return RowProblems(list(self.problems), total=self.total, source=source)


class _Checks:
    """Collects (mask, column, message) checks over one table and raises them all at once."""

    def __init__(self, table: pl.DataFrame) -> None:
        self.table = table
        self.found: list[tuple[pl.Expr, str, pl.Expr]] = []

    def add(self, mask: pl.Expr, column: str, message: str | pl.Expr) -> None:
        text = pl.lit(message) if isinstance(message, str) else message
        self.found.append((mask, column, text))

    def raise_any(self) -> None:
        if not self.found:
            return
        masks = self.table.select(
            ROW, *(m.fill_null(False).alias(f"m{i}") for i, (m, _, _) in enumerate(self.found))
        )
        total = int(masks.select(pl.sum_horizontal(pl.exclude(ROW).sum())).item())
        if not total:
            return
        order = {column: i for i, column in enumerate(self.table.columns)}
        problems: list[Problem] = []
        for i, (_, column, message) in enumerate(self.found):
            hits = self.table.filter(masks.get_column(f"m{i}")).head(KEPT_PROBLEMS)
            rows = hits.select(ROW, message.alias("message")).iter_rows()
            problems += [Problem(row, column, text) for row, text in rows]
        problems.sort(key=lambda p: (p.row, order.get(p.column, len(order))))
        raise RowProblems(problems[:KEPT_PROBLEMS], total=total)


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column) == "")


def _repeated(*columns: str) -> pl.Expr:
    """Rows whose key appeared on an earlier row (tables keep the file's order)."""
    key = pl.col(columns[0]) if len(columns) == 1 else pl.struct(*columns)
    return ~key.is_first_distinct()


def _quoted(column: str) -> pl.Expr:
    return pl.concat_str(pl.lit("'"), pl.col(column).fill_null(""), pl.lit("'"))


def card_identifier(column: str) -> pl.Expr:
    """A card identifier as stored: masked or full card numbers cut to their last four digits."""
    text = pl.col(column).str.strip_chars()
    compact = text.str.replace_all(r"[\s\-]", "")
    last_four = compact.str.extract(r"(\d{4})$")
    return pl.when(compact.str.contains(_MASKED)).then(last_four).otherwise(text)


def _check_card(checks: _Checks, cards: pl.DataFrame | None = None, column: str = "card") -> None:
    raw = pl.col(f"__raw_{column}")
    compact = raw.str.replace_all(r"[\s\-]", "")
    checks.add(
        _blank(column) & ~raw.is_null() & (raw != ""),
        column,
        "a masked card number must end with four digits",
    )
    checks.add(_blank(f"__raw_{column}"), column, "the card is empty")
    many_digits = (raw.str.count_matches(r"\d") >= 12) & ~compact.str.contains(_MASKED)
    checks.add(
        many_digits, column, "may hold a full card number; give the last four digits or an internal id"
    )
    if cards is not None:
        known = ~pl.col(column).is_in(cards.get_column("card").implode()) & ~_blank(column)
        checks.add(known, column, pl.format("card {} is not in the card file", _quoted(column)))


def parse_amounts(column: str, style: str) -> pl.Expr:
    """Whole rupiah from text in ``style`` (see :mod:`cityeval.engine.kkpd.mapping`); null if bad."""
    text = pl.col(column).str.strip_chars().str.replace(r"^[Rr][Pp]\.?\s*", "")
    if style == "plain":
        grouped = r"^(\d+|\d{1,3}(\.\d{3})+|\d{1,3}(,\d{3})+)$"
        digits = text.str.replace_all(r"[.,]", "")
    else:
        thousands, decimal = (r"\.", ",") if style == "id" else (",", r"\.")
        grouped = rf"^(\d+|\d{{1,3}}({thousands}\d{{3}})+)({decimal}0+)?$"
        digits = text.str.replace(rf"{decimal}0+$", "").str.replace_all(r"[.,]", "")
    ok = text.str.contains(grouped) & (digits.str.len_chars() <= _MAX_DIGITS)
    value = pl.when(ok).then(digits).otherwise(None).cast(pl.Int64, strict=False)
    return pl.when(value > 0).then(value).otherwise(None)


def _dates(column: str, fmt: str) -> pl.Expr:
    # Spreadsheet date cells arrive as "2024-01-05 00:00:00": the time of day is dropped.
    text = pl.col(column).str.strip_chars().str.replace(r"[ T]00:00:00(\.0+)?$", "")
    return text.str.strptime(pl.Date, fmt, strict=False)


def _read(path: str | Path, parse: object, **options: object) -> pl.DataFrame:
    table = read_table(path)
    try:
        return parse(table, **options)  # type: ignore[operator]
    except InputError as exc:
        raise exc.with_source(str(path)) from None


# --- cards -----------------------------------------------------------------------------------


def read_cards(path: str | Path) -> pl.DataFrame:
    """Read a card file; see :func:`parse_cards`."""
    return _read(path, parse_cards)


def parse_cards(table: pl.DataFrame) -> pl.DataFrame:
    """Cards: ``card, opd, card_type, holder, limit, limit_period`` (one row per card).

    ``card_type`` is ``goods`` (goods, services and capital spending) or ``travel``; ``limit``
    a positive whole number of rupiah per ``limit_period``, ``month`` or ``year``.
    """
    require_columns(table, CARD_COLUMNS, what="card file")
    work = table.with_columns(
        pl.col("card").alias("__raw_card"),
        card_identifier("card"),
        pl.col("card_type").str.to_lowercase(),
        pl.col("limit_period").str.to_lowercase(),
        parse_amounts("limit", "plain").alias("__limit"),
    )
    checks = _Checks(work)
    _check_card(checks)
    checks.add(
        ~_blank("card") & _repeated("card"),
        "card",
        pl.format("card '{}' repeats an earlier row", pl.col("card")),
    )
    checks.add(_blank("opd"), "opd", "the OPD is empty")
    checks.add(
        ~pl.col("card_type").is_in(["goods", "travel"]),
        "card_type",
        pl.format("{} is not goods or travel", _quoted("card_type")),
    )
    checks.add(
        pl.col("__limit").is_null(),
        "limit",
        pl.format("{} is not a positive whole number of rupiah", _quoted("limit")),
    )
    checks.add(
        ~pl.col("limit_period").is_in(["month", "year"]),
        "limit_period",
        pl.format("{} is not month or year", _quoted("limit_period")),
    )
    checks.raise_any()
    return work.select(
        ROW, "card", "opd", "card_type", "holder", pl.col("__limit").alias("limit"), "limit_period"
    )


# --- transactions ----------------------------------------------------------------------------


def read_transactions(
    path: str | Path, *, mapping: BankMapping = GENERIC_MAPPING, cards: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Read a bank statement through ``mapping``; see :func:`parse_transactions`."""
    return _read(path, parse_transactions, mapping=mapping, cards=cards)


def parse_transactions(
    table: pl.DataFrame, *, mapping: BankMapping = GENERIC_MAPPING, cards: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Transactions in the template: ``reference, card, date, merchant, merchant_id, mcc, amount,
    kind, receipt_date`` (plus ``__row__``), sorted as read.

    ``reference`` is the bank's unique reference; ``amount`` a positive whole number of rupiah
    (Int64); ``kind`` ``purchase``, ``refund`` or ``fee``; ``mcc`` the four-digit merchant
    category code (``742`` → ``0742``); ``receipt_date`` null while no receipt is attached.
    With ``cards`` (from :func:`parse_cards`), every card must be in the card file.
    """
    work = apply_mapping(table, mapping, row=ROW)
    work = work.with_columns(
        pl.col("card").alias("__raw_card"),
        card_identifier("card"),
        _dates("date", mapping.date_format).alias("__date"),
        _dates("receipt_date", mapping.date_format).alias("__receipt"),
        parse_amounts("amount", mapping.amount_style).alias("__amount"),
        pl.col("mcc").str.replace(r"\.0+$", "").str.zfill(4).alias("__mcc"),
    )
    checks = _Checks(work)
    checks.add(_blank("reference"), "reference", "the reference is empty")
    checks.add(
        ~_blank("reference") & _repeated("reference"),
        "reference",
        pl.format("reference {} repeats an earlier row", _quoted("reference")),
    )
    _check_card(checks, cards)
    fmt = mapping.date_format
    checks.add(
        pl.col("__date").is_null(), "date", pl.format("{} is not a date ({})", _quoted("date"), pl.lit(fmt))
    )
    checks.add(_blank("merchant"), "merchant", "the merchant is empty")
    checks.add(
        ~pl.col("__mcc").str.contains(r"^\d{4}$").fill_null(False),
        "mcc",
        pl.format("{} is not a four-digit merchant category code", _quoted("mcc")),
    )
    checks.add(
        pl.col("__amount").is_null(),
        "amount",
        pl.format("{} is not a positive whole number of rupiah", _quoted("amount")),
    )
    if mapping.credit:
        both = pl.col("kind") == BOTH
        checks.add(
            both.fill_null(False), mapping.credit, "the row fills both the debit and the credit column"
        )
    checks.add(
        ~pl.col("kind").is_in([*KINDS, BOTH]).fill_null(False),
        "kind",
        pl.format("{} is not purchase, refund or fee", _quoted("kind")),
    )
    checks.add(
        ~_blank("receipt_date") & pl.col("__receipt").is_null(),
        "receipt_date",
        pl.format("{} is not a date ({})", _quoted("receipt_date"), pl.lit(fmt)),
    )
    checks.raise_any()
    return work.select(
        ROW,
        "reference",
        "card",
        pl.col("__date").alias("date"),
        "merchant",
        pl.when(_blank("merchant_id")).then(None).otherwise(pl.col("merchant_id")).alias("merchant_id"),
        pl.col("__mcc").alias("mcc"),
        pl.col("__amount").alias("amount"),
        "kind",
        pl.col("__receipt").alias("receipt_date"),
    )


# --- settlements, merchants, spending --------------------------------------------------------


def read_settlements(path: str | Path, *, cards: pl.DataFrame | None = None) -> pl.DataFrame:
    return _read(path, parse_settlements, cards=cards)


def parse_settlements(table: pl.DataFrame, *, cards: pl.DataFrame | None = None) -> pl.DataFrame:
    """Monthly bills: ``card, month, due_date, settlement_date`` — one row per card and month.

    ``month`` is ``YYYY-MM`` (the month of the transactions billed), ``due_date`` the bill's due
    date, ``settlement_date`` the day the OPD paid it (empty while unpaid); dates ISO. With
    ``cards``, every card must be in the card file.
    """
    require_columns(table, SETTLEMENT_COLUMNS, what="settlement file")
    work = table.with_columns(
        pl.col("card").alias("__raw_card"),
        card_identifier("card"),
        (pl.col("month") + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("__month"),
        _dates("due_date", "%Y-%m-%d").alias("__due"),
        _dates("settlement_date", "%Y-%m-%d").alias("__settled"),
    )
    checks = _Checks(work)
    _check_card(checks, cards)
    checks.add(
        pl.col("__month").is_null(), "month", pl.format("{} is not a month (YYYY-MM)", _quoted("month"))
    )
    checks.add(
        _repeated("card", "__month"), "month", "this card's bill for this month repeats an earlier row"
    )
    checks.add(
        pl.col("__due").is_null(), "due_date", pl.format("{} is not a date (YYYY-MM-DD)", _quoted("due_date"))
    )
    checks.add(
        ~_blank("settlement_date") & pl.col("__settled").is_null(),
        "settlement_date",
        pl.format("{} is not a date (YYYY-MM-DD)", _quoted("settlement_date")),
    )
    checks.raise_any()
    return work.select(
        ROW,
        "card",
        pl.col("__month").alias("month"),
        pl.col("__due").alias("due_date"),
        pl.col("__settled").alias("settlement_date"),
    )


def read_merchants(path: str | Path) -> pl.DataFrame:
    return _read(path, parse_merchants)


def parse_merchants(table: pl.DataFrame) -> pl.DataFrame:
    """The region's merchant register: ``merchant_id, name, micro_small, domestic``.

    ``micro_small`` (a micro or small enterprise or cooperative) and ``domestic`` (sells
    domestic products) are yes/no (ya/tidak, true/false, 1/0).
    """
    require_columns(table, MERCHANT_COLUMNS, what="merchant register")
    flags = {c: pl.col(c).str.to_lowercase() for c in ("micro_small", "domestic")}
    work = table.with_columns(
        *(
            pl.when(e.is_in(_YES)).then(True).when(e.is_in(_NO)).then(False).alias(f"__{c}")
            for c, e in flags.items()
        )
    )
    checks = _Checks(work)
    checks.add(_blank("merchant_id"), "merchant_id", "the merchant id is empty")
    checks.add(
        ~_blank("merchant_id") & _repeated("merchant_id"),
        "merchant_id",
        pl.format("merchant {} repeats an earlier row", _quoted("merchant_id")),
    )
    for column in flags:
        checks.add(pl.col(f"__{column}").is_null(), column, pl.format("{} is not yes or no", _quoted(column)))
    checks.raise_any()
    return work.select(ROW, "merchant_id", "name", *(pl.col(f"__{c}").alias(c) for c in flags))


def read_spending(path: str | Path) -> pl.DataFrame:
    return _read(path, parse_spending)


def parse_spending(table: pl.DataFrame) -> pl.DataFrame:
    """Realised spending per OPD and month from the regional finance system.

    ``opd, month (YYYY-MM), goods_services, capital`` and optional ``other_non_cash``: whole
    rupiah realised on goods/services and on capital, and the part of it paid non-cash by means
    other than KKPD (bank transfer, CMS, QRIS); 0 is allowed, empty ``other_non_cash`` is null.
    """
    require_columns(table, SPENDING_COLUMNS[:4], what="spending file")
    if "other_non_cash" not in table.columns:
        table = table.with_columns(pl.lit(None, pl.String).alias("other_non_cash"))
    amounts = ("goods_services", "capital", "other_non_cash")
    zero = {c: pl.col(c).str.strip_chars().is_in(["0", "0,00", "0.00"]) for c in amounts}
    work = table.with_columns(
        (pl.col("month") + "-01").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("__month"),
        *(pl.when(zero[c]).then(0).otherwise(parse_amounts(c, "plain")).alias(f"__{c}") for c in amounts),
    )
    checks = _Checks(work)
    checks.add(_blank("opd"), "opd", "the OPD is empty")
    checks.add(
        pl.col("__month").is_null(), "month", pl.format("{} is not a month (YYYY-MM)", _quoted("month"))
    )
    checks.add(_repeated("opd", "__month"), "month", "this OPD's month repeats an earlier row")
    for column in amounts:
        bad = pl.col(f"__{column}").is_null() & (
            ~_blank(column) if column == "other_non_cash" else pl.lit(True)
        )
        checks.add(bad, column, pl.format("{} is not a whole number of rupiah", _quoted(column)))
    checks.raise_any()
    return work.select(
        ROW, "opd", pl.col("__month").alias("month"), *(pl.col(f"__{c}").alias(c) for c in amounts)
    )
