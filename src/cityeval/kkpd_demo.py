"""Synthetic KKPD data for Deli Serdang with Bank Sumut: cards, a year of transactions, a
merchant register, monthly bills and realised spending, with planted cases of every rule.

SYNTHETIC: every card, holder, merchant, amount and date here is invented by a seeded random
generator; none comes from Deli Serdang's or Bank Sumut's records. OPD names follow the
regency's agencies so that the demo reads naturally. Planted cases have references starting
``PLANT-<rule>`` so a reader (and the tests) can tell them from the random background, which
is drawn to stay mostly clean: working days only, receipts within 3 days, amounts far below
the split threshold and the limits (a chance coincidence, such as two identical charges on one
day, is flagged like any other).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["BANK", "REGION", "SYNTHETIC_NOTE", "KkpdDemo", "kkpd_demo", "many_cards", "random_transactions"]

REGION = "Kabupaten Deli Serdang"
BANK = "Bank Sumut"
SYNTHETIC_NOTE = "SYNTHETIC demo data (cityeval): invented cards, holders, merchants and amounts"
YEAR = 2024
OPDS = (
    ("DINKES", "Dinas Kesehatan"),
    ("DISDIK", "Dinas Pendidikan"),
    ("DISTAN", "Dinas Pertanian"),
    ("PUPR", "Dinas Pekerjaan Umum dan Penataan Ruang"),
    ("BAPENDA", "Badan Pendapatan Daerah"),
    ("BPKAD", "Badan Pengelolaan Keuangan dan Aset Daerah"),
    ("KOMINFO", "Dinas Komunikasi dan Informatika"),
    ("DISBUDPORAPAR", "Dinas Kebudayaan, Pemuda, Olahraga dan Pariwisata"),
    ("SETDA", "Sekretariat Daerah"),
    ("DISHUB", "Dinas Perhubungan"),
)
# (category code, kind of shop, typical purchase in rupiah); the first block is goods.
GOODS = (
    (5111, "Toko Alat Tulis", 750_000),
    (5943, "Toko Perlengkapan Kantor", 1_200_000),
    (5541, "SPBU", 400_000),
    (5251, "Toko Bangunan", 2_500_000),
    (5045, "Toko Komputer", 4_000_000),
    (5812, "Rumah Makan", 900_000),
    (5411, "Swalayan", 600_000),
    (7399, "Jasa Percetakan", 1_500_000),
)
TRAVEL = (
    (3001, "Maskapai Nusantara (fiktif)", 1_800_000),
    (7011, "Hotel", 850_000),
    (4121, "Taksi", 150_000),
    (7512, "Rental Mobil", 700_000),
)
TEMPLATE = ("reference", "card", "date", "merchant", "merchant_id", "mcc", "amount", "kind", "receipt_date")


@dataclass(frozen=True)
class KkpdDemo:
    """The demo's input files as text tables in the documented layouts, and the check date."""

    cards: pl.DataFrame
    transactions: pl.DataFrame
    merchants: pl.DataFrame
    settlements: pl.DataFrame
    spending: pl.DataFrame
    as_of: dt.date

    def write(self, folder: Path) -> dict[str, Path]:
        """Write the five CSV files into ``folder``; returns their paths by name."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("cards", "transactions", "merchants", "settlements", "spending"):
            path = folder / f"kkpd-{name}.csv"
            getattr(self, name).write_csv(path)
            paths[name] = path
        return paths


def _merchants() -> pl.DataFrame:
    rows = []
    for i, (mcc, shop, _) in enumerate(GOODS + TRAVEL):
        for j in range(5):
            rows.append(
                (f"DS-M{i:02d}{j}", f"{shop} {j + 1} Lubuk Pakam", mcc, (i + j) % 3 != 0, (i * j) % 4 != 1)
            )
    return pl.DataFrame(rows, schema=["merchant_id", "name", "mcc", "micro_small", "domestic"], orient="row")


def many_cards(count: int) -> pl.DataFrame:
    """``count`` synthetic cards, ten per OPD, seven goods cards and three travel cards in ten."""
    rows = [
        (
            f"C{i:05d}",
            f"OPD {i // 10:04d}",
            "goods" if i % 10 < 7 else "travel",
            f"Pemegang {i} (fiktif)",
            400_000_000 if i % 10 < 7 else 600_000_000,
            "month" if i % 10 < 7 else "year",
        )
        for i in range(count)
    ]
    return pl.DataFrame(
        rows, schema=["card", "opd", "card_type", "holder", "limit", "limit_period"], orient="row"
    )


def _cards() -> pl.DataFrame:
    rows = []
    for k, (code, name) in enumerate(OPDS):
        rows.append((f"DS-{code}-G1", name, "goods", f"Pemegang {code} 1 (fiktif)", 400_000_000, "month"))
        rows.append(
            (
                f"DS-{code}-T1",
                name,
                "travel",
                f"Pemegang {code} 2 (fiktif)",
                600_000_000 + 10_000_000 * k,
                "year",
            )
        )
    return pl.DataFrame(
        rows, schema=["card", "opd", "card_type", "holder", "limit", "limit_period"], orient="row"
    )


def _working_days(year: int) -> np.ndarray:
    from cityeval.engine.kkpd.rules import Holidays

    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    holidays = np.array(sorted(Holidays().dates([year])), dtype="datetime64[D]")
    return days[(weekday < 5) & ~np.isin(days, holidays)]


def random_transactions(
    rows: int, *, seed: int = 2024, year: int = YEAR, cards: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``rows`` background transactions (text columns, template layout) on ``cards`` (a card
    file's table; the demo's cards by default)."""
    rng = np.random.default_rng(seed)
    cards = _cards() if cards is None else cards
    merchants = _merchants()
    card = rng.integers(0, cards.height, rows)
    travel_card = cards.get_column("card_type").to_numpy()[card] == "travel"
    n_goods, n_travel = len(GOODS) * 5, len(TRAVEL) * 5
    merchant = np.where(
        travel_card, n_goods + rng.integers(0, n_travel, rows), rng.integers(0, n_goods, rows)
    )
    typical = np.array([t for _, _, t in GOODS + TRAVEL for _ in range(5)])[merchant]
    amount = np.maximum(10_000, (typical * rng.lognormal(0, 0.4, rows)).round(-3)).astype(np.int64)
    days = _working_days(year)
    date = np.sort(rng.choice(days, rows))
    receipt = date + rng.integers(0, 4, rows).astype("timedelta64[D]")
    kind = np.where(rng.random(rows) < 0.01, "fee", "purchase")
    return pl.DataFrame(
        {
            "reference": [f"BS{year}{i:08d}" for i in range(rows)],
            "card": cards.get_column("card").to_numpy()[card],
            "date": date.astype(str),
            "merchant": merchants.get_column("name").to_numpy()[merchant],
            "merchant_id": merchants.get_column("merchant_id").to_numpy()[merchant],
            "mcc": merchants.get_column("mcc").cast(pl.String).to_numpy()[merchant],
            "amount": amount.astype(str),
            "kind": kind,
            "receipt_date": np.where(kind == "fee", "", receipt.astype(str)),
        }
    )


def _computer(j: int) -> tuple[str, str, str]:
    return f"Toko Komputer {j + 1} Lubuk Pakam", f"DS-M04{j}", "5045"


def _planted() -> pl.DataFrame:
    """One or more cases of every rule; each reference says which rule it plants."""
    g, t = "DS-DINKES-G1", "DS-DINKES-T1"
    shop, hotel, bar = (
        ("Toko Alat Tulis 1 Lubuk Pakam", "DS-M000", "5111"),
        ("Hotel 1 Lubuk Pakam", "DS-M090", "7011"),
        ("Kafe Malam (fiktif)", "DS-X001", "5813"),
    )
    big = _computer(0)
    rows = [
        # 3 × 150 million at three shops on a goods card with a monthly limit of 400 million.
        (
            "PLANT-over_card_limit-1",
            "DS-BPKAD-G1",
            "2024-07-01",
            *_computer(1),
            "150000000",
            "purchase",
            "2024-07-02",
        ),
        (
            "PLANT-over_card_limit-2",
            "DS-BPKAD-G1",
            "2024-07-02",
            *_computer(2),
            "150000000",
            "purchase",
            "2024-07-03",
        ),
        (
            "PLANT-over_card_limit-3",
            "DS-BPKAD-G1",
            "2024-07-15",
            *_computer(3),
            "150000000",
            "purchase",
            "2024-07-16",
        ),
        # 120 + 100 million to one payee by one OPD in a year: the second crosses Rp 200 million.
        ("PLANT-over_payee_cap-1", "DS-PUPR-G1", "2024-03-05", *big, "120000000", "purchase", "2024-03-06"),
        ("PLANT-over_payee_cap-2", "DS-PUPR-G1", "2024-09-10", *big, "100000000", "purchase", "2024-09-11"),
        # 17 + 18 + 19 million at one shop within 3 days: each under 50 million, together 54.
        ("PLANT-split_purchase-1", g, "2024-05-06", *shop, "17000000", "purchase", "2024-05-07"),
        ("PLANT-split_purchase-2", g, "2024-05-07", *shop, "18000000", "purchase", "2024-05-08"),
        ("PLANT-split_purchase-3", g, "2024-05-08", *shop, "19000000", "purchase", "2024-05-09"),
        ("PLANT-card_type_mismatch-1", g, "2024-06-04", *hotel, "1500000", "purchase", "2024-06-05"),
        ("PLANT-card_type_mismatch-2", t, "2024-06-05", *shop, "500000", "purchase", "2024-06-05"),
        ("PLANT-blocked_merchant_category-1", g, "2024-08-06", *bar, "750000", "purchase", "2024-08-06"),
        ("PLANT-outside_working_days-1", g, "2024-08-17", *shop, "300000", "purchase", "2024-08-19"),
        ("PLANT-outside_working_days-2", g, "2024-04-10", *shop, "300000", "purchase", "2024-04-16"),
        ("PLANT-missing_receipt-1", g, "2024-10-01", *shop, "450000", "purchase", ""),
        ("PLANT-missing_receipt-2", g, "2024-10-02", *shop, "460000", "purchase", "2024-10-12"),
        ("PLANT-duplicate_charge-1", g, "2024-11-05", *shop, "2750000", "purchase", "2024-11-05"),
        ("PLANT-duplicate_charge-2", g, "2024-11-05", *shop, "2750000", "purchase", "2024-11-05"),
    ]
    return pl.DataFrame(rows, schema=list(TEMPLATE), orient="row")


def _settlements(cards: pl.DataFrame, year: int) -> pl.DataFrame:
    rows = []
    for card in cards.get_column("card"):
        for month in range(1, 13):
            due = dt.date(year + (month == 12), month % 12 + 1, 15)
            settled = due - dt.timedelta(days=3)
            rows.append([card, f"{year}-{month:02d}", due.isoformat(), settled.isoformat()])
    table = pl.DataFrame(rows, schema=["card", "month", "due_date", "settlement_date"], orient="row")
    late = (pl.col("card") == "DS-DISHUB-G1") & (pl.col("month") == f"{year}-06")
    unpaid = (pl.col("card") == "DS-DISHUB-G1") & (pl.col("month") == f"{year}-11")
    return table.with_columns(
        pl.when(late)
        .then(pl.lit(f"{year}-07-22"))
        .when(unpaid)
        .then(pl.lit(""))
        .otherwise("settlement_date")
        .alias("settlement_date")
    )


def _spending(tx: pl.DataFrame, cards: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Realised spending a few times the card spending, so shares land between 5 % and 40 %."""
    rng = np.random.default_rng(seed + 1)
    monthly = (
        tx.join(cards.select("card", "opd"), on="card")
        .group_by("opd", pl.col("date").str.slice(0, 7).alias("month"))
        .agg(pl.col("amount").cast(pl.Int64).sum().alias("kkpd"))
        .sort("opd", "month")
    )
    factor = rng.uniform(2.5, 12, monthly.height)
    goods = (monthly.get_column("kkpd").to_numpy() * factor).round(-3).astype(np.int64)
    capital = (goods * rng.uniform(0.2, 1.5, monthly.height)).round(-3).astype(np.int64)
    return monthly.select(
        "opd",
        "month",
        pl.Series(goods).cast(pl.String).alias("goods_services"),
        pl.Series(capital).cast(pl.String).alias("capital"),
        pl.Series((goods * 0.4).round(-3).astype(np.int64)).cast(pl.String).alias("other_non_cash"),
    )


def kkpd_demo(*, seed: int = 2024, transactions: int = 4000) -> KkpdDemo:
    """The synthetic Deli Serdang KKPD year (see the module docstring)."""
    cards = _cards()
    tx = pl.concat([random_transactions(transactions, seed=seed), _planted()]).sort("date", "reference")
    merchants = _merchants().select(
        "merchant_id",
        "name",
        pl.when(pl.col("micro_small")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("micro_small"),
        pl.when(pl.col("domestic")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("domestic"),
    )
    return KkpdDemo(
        cards=cards.with_columns(pl.col("limit").cast(pl.String)),
        transactions=tx,
        merchants=merchants,
        settlements=_settlements(cards, YEAR),
        spending=_spending(tx, cards, seed),
        as_of=dt.date(YEAR, 12, 31),
    )
