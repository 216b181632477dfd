"""KKPD shares on a hand-made month, and the synthetic demo data."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.engine.kkpd.helpers import cards, purchase, text_table

from cityeval.engine.kkpd import (
    RULES,
    TEMPLATE_COLUMNS,
    check_transactions,
    default_rules,
    kkpd_shares,
    parse_merchants,
    parse_spending,
    parse_transactions,
    read_cards,
    read_merchants,
    read_settlements,
    read_spending,
    read_transactions,
)
from cityeval.kkpd_demo import SYNTHETIC_NOTE, kkpd_demo


def test_shares_by_hand():
    """OPD Dinas Kesehatan, March 2024: purchases 600,000 (M1: micro/small, domestic),
    300,000 (M2: domestic only), 200,000 (M9: not registered), refund 100,000 (M1), fee 50,000.
    KKPD = 600 + 300 + 200 − 100 + 50 = 1,050,000; net purchases 1,000,000, of which
    micro/small 500,000 and domestic 800,000; realised 2,000,000 + 1,000,000 = 3,000,000 and
    other non-cash 1,200,000. So: KKPD share 0.35, non-cash share 2,250,000 / 3,000,000 = 0.75,
    micro/small share 0.5, domestic share 0.8. April: Dinas Pendidikan spends 400,000 at M1
    against 800,000 realised (0.5; no other non-cash figure, so no non-cash share); Dinas
    Kesehatan has realised spending but no KKPD (share 0, no register shares)."""
    rows = [
        purchase("1", "2024-03-04", 600_000, merchant="1"),
        purchase("2", "2024-03-05", 300_000, merchant="2"),
        purchase("3", "2024-03-06", 200_000, merchant="9"),
        purchase("4", "2024-03-07", 100_000, merchant="1", kind="refund"),
        ("5", "G1", "2024-03-31", "Bank", "", "6012", "50000", "fee", ""),
        purchase("6", "2024-04-01", 400_000, merchant="1", card="G2"),
    ]
    card_table = cards()
    tx = parse_transactions(text_table(rows, TEMPLATE_COLUMNS), cards=card_table)
    register = parse_merchants(
        text_table(
            [("M-1", "Satu", "ya", "ya"), ("M-2", "Dua", "tidak", "yes")],
            ["merchant_id", "name", "micro_small", "domestic"],
        )
    )
    spending = parse_spending(
        text_table(
            [
                ("Dinas Kesehatan", "2024-03", "2.000.000", "1000000", "1200000"),
                ("Dinas Kesehatan", "2024-04", "500000", "0", "0"),
                ("Dinas Pendidikan", "2024-04", "800000", "0", ""),
            ],
            ["opd", "month", "goods_services", "capital", "other_non_cash"],
        )
    )
    table = kkpd_shares(tx, card_table, spending=spending, merchants=register)
    columns = [
        "opd",
        "month",
        "kkpd",
        "realised",
        "kkpd_share",
        "non_cash_share",
        "micro_small_share",
        "domestic_share",
    ]
    assert table.select(columns).rows() == [
        (
            "Dinas Kesehatan",
            dt.date(2024, 3, 1),
            1_050_000,
            3_000_000,
            pytest.approx(0.35),
            pytest.approx(0.75),
            0.5,
            0.8,
        ),
        ("Dinas Kesehatan", dt.date(2024, 4, 1), 0, 500_000, 0.0, 0.0, None, None),
        ("Dinas Pendidikan", dt.date(2024, 4, 1), 400_000, 800_000, 0.5, None, 1.0, 1.0),
    ]
    assert table.get_column("unregistered").to_list() == [200_000, 0, 0]
    without_register = kkpd_shares(tx, card_table)
    assert without_register.get_column("micro_small_share").null_count() == without_register.height


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    demo = kkpd_demo()
    return demo, demo.write(tmp_path_factory.mktemp("kkpd-demo"))


def test_the_demo_files_read_back_and_trigger_every_rule_on_its_planted_case(demo_files):
    demo, paths = demo_files
    card_table = read_cards(paths["cards"])
    tx = read_transactions(paths["transactions"], cards=card_table)
    assert tx.height > 4000 and card_table.get_column("opd").n_unique() == 10
    result = check_transactions(
        tx,
        card_table,
        rules=default_rules(),
        as_of=demo.as_of,
        settlements=read_settlements(paths["settlements"]),
    )
    assert result.skipped == {}
    assert all(count >= 1 for count in result.counts().values()), result.counts()
    planted = result.flags.filter(pl.col("reference").str.starts_with("PLANT-"))
    for rule in RULES:
        if rule != "late_settlement":
            assert (
                planted.filter(pl.col("reference").str.starts_with(f"PLANT-{rule}-"), rule=rule).height >= 1
            ), rule
    shares = kkpd_shares(
        tx,
        card_table,
        spending=read_spending(paths["spending"]),
        merchants=read_merchants(paths["merchants"]),
    )
    assert shares.get_column("kkpd_share").is_between(0, 1).all()


def test_the_demo_is_seeded_and_labelled_synthetic():
    first, second = kkpd_demo(), kkpd_demo()
    assert first.transactions.equals(second.transactions)
    assert not first.transactions.equals(kkpd_demo(seed=7).transactions)
    assert first.cards.get_column("holder").str.contains("(fiktif)", literal=True).all()
    assert "SYNTHETIC" in SYNTHETIC_NOTE
