"""Load the synthetic KKPD demo (Deli Serdang with Bank Sumut) into a region.

The data come from ``cityeval.kkpd_demo`` and are passed in by the site's demo
(``cityeval.web.demo``), so this app does not import the engine's demo module. The demo's card
identifiers (``DS-DINKES-G1``) become synthetic last-four digits (``4101``…); everything stays
labelled synthetic. The monthly bills are not loaded (the web app has no settlement records
yet), so ``late_settlement`` raises no flag here.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.contrib.auth.models import User

from cityeval.engine.kkpd import parse_merchants, parse_spending, parse_transactions
from cityeval.engine.tables import ROW
from cityeval.web.kkpd.models import Bank, Card, ImportBatch, KkpdRegion, Merchant, Spending, Transaction
from cityeval.web.kkpd.services import flags_refresh, monthly_totals_refresh
from cityeval.web.regions.models import Opd, Region

# Computers and building materials are bought as capital (kode rekening 5.2); the rest is
# goods and services (5.1.02).
CAPITAL_MCC = {"5045": "5.2.02.10.01", "5251": "5.2.03.01.01"}
GOODS_ACCOUNT = "5.1.02.01.01"


def _numbered(table: pl.DataFrame) -> pl.DataFrame:
    return table.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))


def load_kkpd_demo(
    *, region: Region, bank_name: str, data, opds: dict[str, Opd], user: User, note: str
) -> dict[str, int]:
    """Cards, merchant register, transactions, realised spending and flags for ``region`` from a
    ``KkpdDemo``; ``opds`` gives the region's OPD for each OPD name of the demo's files.
    Returns counts by kind."""
    KkpdRegion.objects.create(region=region, started_on=dt.date(2024, 1, 1))
    bank = Bank.objects.create(region=region, name=bank_name)
    cards = _cards(region, bank, opds, data.cards, note)
    for row in parse_merchants(_numbered(data.merchants)).iter_rows(named=True):
        Merchant.objects.create(
            region=region, merchant_id=row["merchant_id"], name=row["name"], micro_small=row["micro_small"],
            domestic=row["domestic"],
        )  # fmt: skip
    renamed = data.transactions.with_columns(
        pl.col("card").replace_strict({k: c.last_four for k, c in cards.items()}, default=pl.col("card"))
    )
    parsed = parse_transactions(_numbered(renamed))
    batch = ImportBatch.objects.create(
        region=region, bank=bank, file_name="kkpd-demo (synthetic)", rows=parsed.height, added=parsed.height,
        created_by=user,
    )  # fmt: skip
    by_four = {c.last_four: c for c in cards.values()}
    Transaction.objects.bulk_create(
        [
            Transaction(
                region=region, card=by_four[r["card"]], reference=r["reference"], date=r["date"],
                posting_date=r["date"] + dt.timedelta(days=1), merchant=r["merchant"],
                merchant_id=r["merchant_id"] or "", mcc=r["mcc"], amount=r["amount"], kind=r["kind"],
                receipt_date=r["receipt_date"], account_code=CAPITAL_MCC.get(r["mcc"], GOODS_ACCOUNT),
                account_kind="capital" if r["mcc"] in CAPITAL_MCC else "goods_services", batch=batch,
                created_by=user,
            )
            for r in parsed.iter_rows(named=True)
        ],
        batch_size=1000,
    )  # fmt: skip
    spending = parse_spending(_numbered(data.spending))
    Spending.objects.bulk_create(
        [
            Spending(
                region=region, opd=opds[r["opd"]], month=r["month"], goods_services=r["goods_services"],
                capital=r["capital"], other_non_cash=r["other_non_cash"], created_by=user,
            )
            for r in spending.iter_rows(named=True)
        ]
    )  # fmt: skip
    monthly_totals_refresh(region=region)
    flags = flags_refresh(region=region, as_of=data.as_of)
    return {"cards": len(cards), "transactions": parsed.height, "flags": flags}


def _cards(
    region: Region, bank: Bank, opds: dict[str, Opd], table: pl.DataFrame, note: str
) -> dict[str, Card]:
    out = {}
    for i, row in enumerate(table.iter_rows(named=True)):
        out[row["card"]] = Card.objects.create(
            region=region, opd=opds[row["opd"]], bank=bank, last_four=f"{4101 + i}",
            card_type=row["card_type"], holder_name=row["holder"],
            administrator=f"Administrator BPKAD ({note})",
            authorised_users="Pengguna 1 (fiktif)\nPengguna 2 (fiktif)", limit=int(row["limit"]),
            limit_period=row["limit_period"], valid_from=dt.date(2024, 1, 1),
            valid_until=dt.date(2026, 12, 31),
        )  # fmt: skip
    return out
