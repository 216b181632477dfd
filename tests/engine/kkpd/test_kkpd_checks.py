"""The nine KKPD rules, each on a hand-made case that triggers it and a near miss that does not.

Expected flags are worked out by hand from the rule's wording in issue 14 and the defaults of
the rule file (split: 3 days, Rp 50,000,000; payee cap Rp 200,000,000 per calendar year;
receipt due 7 days; duplicate window 1 day). Dates are checked against a calendar: 2024-03-04
is a Monday, 2024-03-08 a Friday, 2024-03-09 a Saturday.
"""

from __future__ import annotations

import datetime as dt
import json

from tests.engine.kkpd.helpers import BIG, flags, purchase, run

from cityeval.engine.kkpd import RULES, parse_rules


def test_every_rule_name_is_exactly_the_issues():
    assert RULES == (
        "over_card_limit",
        "over_payee_cap",
        "split_purchase",
        "card_type_mismatch",
        "blocked_merchant_category",
        "outside_working_days",
        "missing_receipt",
        "late_settlement",
        "duplicate_charge",
    )


# --- over_card_limit ---------------------------------------------------------------------------

MONTHLY = [("G1", "Dinas Kesehatan", "goods", "Ani", "10000000", "month")]
YEARLY = [("G1", "Dinas Kesehatan", "goods", "Ani", "10000000", "year")]


def test_card_limit_is_flagged_on_the_transaction_that_crosses_it_within_the_month():
    """6 + 4 = 10 million reaches the limit without passing it; the next 1 million passes it."""
    rows = [
        purchase("A", "2024-03-04", 6_000_000, merchant="Toko A"),
        purchase("B", "2024-03-05", 4_000_000, merchant="Toko B"),
        purchase("C", "2024-03-06", 1_000_000, merchant="Toko C"),
        purchase("D", "2024-03-07", 1_000_000, merchant="Toko D"),
    ]
    assert flags(rows, card_rows=MONTHLY, rule="over_card_limit") == [("C", "over_card_limit")]
    assert flags(rows[:2], card_rows=MONTHLY, rule="over_card_limit") == []


def test_card_limit_per_month_restarts_each_month_but_per_year_does_not():
    """6 million in March and 5 million in April: 11 million in the year, at most 6 in a month."""
    rows = [
        purchase("A", "2024-03-04", 6_000_000, merchant="X"),
        purchase("B", "2024-04-01", 5_000_000, merchant="Y"),
    ]
    assert flags(rows, card_rows=MONTHLY, rule="over_card_limit") == []
    assert flags(rows, card_rows=YEARLY, rule="over_card_limit") == [("B", "over_card_limit")]


def test_a_refund_lowers_the_card_total():
    """6 − 2 + 5 = 9 million: under the 10 million limit; without the refund 11 million."""
    rows = [
        purchase("A", "2024-03-04", 6_000_000, merchant="X"),
        purchase("R", "2024-03-05", 2_000_000, merchant="X", kind="refund"),
        purchase("B", "2024-03-06", 5_000_000, merchant="Y"),
    ]
    assert flags(rows, card_rows=MONTHLY, rule="over_card_limit") == []
    assert flags([rows[0], rows[2]], card_rows=MONTHLY, rule="over_card_limit") == [("B", "over_card_limit")]


# --- over_payee_cap ----------------------------------------------------------------------------


def test_payee_cap_is_flagged_at_the_exact_transaction_that_passes_200_million_in_the_year():
    """150 + 50 = 200 million equals the cap (not above); the next Rp 1,000 passes it."""
    rows = [
        purchase("A", "2024-03-04", 150_000_000),
        purchase("B", "2024-05-06", 50_000_000),
        purchase("C", "2024-06-03", 1_000),
        purchase("D", "2024-06-04", 1_000),
    ]
    assert flags(rows, rule="over_payee_cap") == [("C", "over_payee_cap")]
    assert flags(rows[:2], rule="over_payee_cap") == []


def test_payee_cap_counts_per_calendar_year_and_per_opd_by_default():
    """150 million in 2024 and 100 in 2025 stay under the cap; so do 150 by one OPD and 100 by
    another, unless the rule file sums the whole region."""
    years = [purchase("A", "2024-03-04", 150_000_000), purchase("B", "2025-01-06", 100_000_000)]
    assert flags(years, rule="over_payee_cap") == []
    opds = [purchase("A", "2024-03-04", 150_000_000), purchase("B", "2024-03-05", 100_000_000, card="G2")]
    assert flags(opds, rule="over_payee_cap") == []
    region = parse_rules("over_payee_cap: {scope: region}")
    assert flags(opds, rules=region, rule="over_payee_cap") == [("B", "over_payee_cap")]


# --- split_purchase ----------------------------------------------------------------------------


def test_split_just_reaching_the_threshold_flags_every_purchase_of_the_split():
    """25 + 25 = 50 million within 3 days (Monday and Thursday), each under 50 million."""
    rows = [purchase("A", "2024-03-04", 25_000_000), purchase("B", "2024-03-07", 25_000_000)]
    assert flags(rows, rule="split_purchase") == [("A", "split_purchase"), ("B", "split_purchase")]
    detail = run(rows).flags.filter(rule="split_purchase").get_column("detail")[0]
    assert "2 purchases" in detail and "Rp 50,000,000" in detail


def test_split_just_under_the_threshold_outside_the_window_or_at_two_merchants_is_not_flagged():
    under = [purchase("A", "2024-03-04", 25_000_000), purchase("B", "2024-03-07", 24_999_999)]
    assert flags(under, rule="split_purchase") == []
    four_days = [purchase("A", "2024-03-04", 25_000_000), purchase("B", "2024-03-08", 25_000_000)]
    assert flags(four_days, rule="split_purchase") == []
    two_shops = [
        purchase("A", "2024-03-04", 25_000_000),
        purchase("B", "2024-03-05", 25_000_000, merchant="Toko B"),
    ]
    assert flags(two_shops, rule="split_purchase") == []
    one_not_under = [purchase("A", "2024-03-04", 50_000_000), purchase("B", "2024-03-05", 10_000_000)]
    assert flags(one_not_under, rule="split_purchase") == []


def test_split_flags_only_the_purchases_inside_the_completing_window():
    """B + C + D (03-06 to 03-08) make 60 million; A (03-01) lies 7 days before D, outside the window."""
    rows = [
        purchase("A", "2024-03-01", 10_000_000),
        purchase("B", "2024-03-06", 20_000_000),
        purchase("C", "2024-03-07", 20_000_000),
        purchase("D", "2024-03-08", 20_000_000),
    ]
    assert [r for r, _ in flags(rows, rule="split_purchase")] == ["B", "C", "D"]


# --- card_type_mismatch and blocked_merchant_category ------------------------------------------


def test_travel_category_on_a_goods_card_and_goods_on_a_travel_card_are_mismatches():
    rows = [
        purchase("hotel-on-goods", "2024-03-04", 900_000, mcc="7011"),
        purchase("shop-on-goods", "2024-03-04", 900_000, mcc="5111", merchant="B"),
        purchase("airline-on-travel", "2024-03-04", 900_000, mcc="4511", card="T1"),
        purchase("grocery-on-travel", "2024-03-04", 900_000, mcc="5411", card="T1", merchant="C"),
        purchase("3299-on-goods", "2024-03-05", 900_000, mcc="3299", merchant="D"),
        purchase("3300-on-goods", "2024-03-05", 900_000, mcc="3300", merchant="E"),
    ]
    found = flags(rows, rule="card_type_mismatch")
    assert [r for r, _ in found] == ["hotel-on-goods", "grocery-on-travel", "3299-on-goods"]


def test_blocked_categories_flag_purchases_but_not_refunds_or_neighbouring_codes():
    rows = [
        purchase("atm", "2024-03-04", 500_000, mcc="6011"),
        purchase("next-code", "2024-03-04", 500_000, mcc="6012", merchant="B"),
        purchase("refund", "2024-03-05", 500_000, mcc="6011", kind="refund"),
    ]
    assert flags(rows, rule="blocked_merchant_category") == [("atm", "blocked_merchant_category")]


# --- outside_working_days ----------------------------------------------------------------------


def test_a_saturday_is_flagged_and_a_friday_is_not():
    rows = [purchase("fri", "2024-03-08", 100_000), purchase("sat", "2024-03-09", 100_000, merchant="B")]
    assert flags(rows, rule="outside_working_days") == [("sat", "outside_working_days")]


def test_listed_holidays_and_collective_leave_are_flagged_and_the_file_overrides_them():
    """2024-04-10 (Wednesday) is Idul Fitri and 2024-04-08 (Monday) a cuti bersama day in the
    2024 joint decree of three ministers (SKB) on national holidays and collective leave."""
    rows = [
        purchase("idul-fitri", "2024-04-10", 100_000),
        purchase("cuti-bersama", "2024-04-08", 100_000, merchant="B"),
        purchase("ordinary", "2024-04-17", 100_000, merchant="C"),
    ]
    assert [r for r, _ in flags(rows, rule="outside_working_days")] == ["cuti-bersama", "idul-fitri"]
    override = parse_rules("outside_working_days: {holidays: {add: [2024-04-17], remove: [2024-04-08]}}")
    assert [r for r, _ in flags(rows, rules=override, rule="outside_working_days")] == [
        "idul-fitri",
        "ordinary",
    ]
    bare = parse_rules("outside_working_days: {holidays: {calendar: none}}")
    assert flags(rows, rules=bare, rule="outside_working_days") == []


# --- missing_receipt ---------------------------------------------------------------------------


def test_a_receipt_on_day_7_is_in_time_and_on_day_8_is_late():
    rows = [
        purchase("day7", "2024-03-04", 100_000, receipt="2024-03-11"),
        purchase("day8", "2024-03-04", 100_000, receipt="2024-03-12", merchant="B"),
    ]
    assert flags(rows, as_of=dt.date(2024, 3, 31), rule="missing_receipt") == [("day8", "missing_receipt")]


def test_a_missing_receipt_counts_to_the_as_of_date_and_fees_need_none():
    """As of 2024-03-20: a purchase of 03-13 is 7 days old (in time), one of 03-12 is 8 days."""
    rows = [
        purchase("7-days", "2024-03-13", 100_000, receipt=""),
        purchase("8-days", "2024-03-12", 100_000, receipt="", merchant="B"),
        purchase("fee", "2024-03-01", 25_000, receipt="", kind="fee", merchant="Bank"),
    ]
    found = run(rows, as_of=dt.date(2024, 3, 20)).flags.filter(rule="missing_receipt")
    assert found.get_column("reference").to_list() == ["8-days"]
    assert found.get_column("code").to_list() == ["missing_receipt.none"]
    assert json.loads(found.get_column("params")[0]) == {"days": 8, "due_days": 7, "as_of": "2024-03-20"}


# --- late_settlement ---------------------------------------------------------------------------


def test_late_and_unpaid_bills_are_flagged_and_the_rule_is_skipped_without_settlements():
    rows = [purchase("A", "2024-03-04", 1_000_000), purchase("B", "2024-04-01", 2_000_000)]
    bills = [
        ("G1", "2024-03", "2024-04-15", "2024-04-15"),  # on the due date: in time
        ("G1", "2024-04", "2024-05-15", "2024-05-16"),  # a day late
        ("G1", "2024-05", "2024-06-15", ""),  # unpaid: late only after the due date
    ]
    on_due = run(rows, as_of=dt.date(2024, 6, 15), settlements=bills).flags.filter(rule="late_settlement")
    assert on_due.select("reference", "amount", "code").rows() == [
        ("bill 2024-04", 2_000_000, "late_settlement.late")
    ]
    after = run(rows, as_of=dt.date(2024, 6, 16), settlements=bills).flags.filter(rule="late_settlement")
    assert after.get_column("code").to_list() == ["late_settlement.late", "late_settlement.unpaid"]
    without = run(rows)
    assert "late_settlement" in without.skipped and without.counts()["late_settlement"] == 0


# --- duplicate_charge --------------------------------------------------------------------------


def test_the_second_identical_charge_within_a_day_is_a_duplicate():
    same_day = [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-04", 750_000)]
    assert flags(same_day, rule="duplicate_charge") == [("B", "duplicate_charge")]
    next_day = [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-05", 750_000)]
    assert flags(next_day, rule="duplicate_charge") == [("B", "duplicate_charge")]


def test_two_days_apart_another_amount_or_another_card_is_not_a_duplicate():
    assert (
        flags(
            [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-06", 750_000)],
            rule="duplicate_charge",
        )
        == []
    )
    assert (
        flags(
            [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-04", 750_001)],
            rule="duplicate_charge",
        )
        == []
    )
    other_card = [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-04", 750_000, card="G2")]
    assert flags(other_card, rule="duplicate_charge") == []


def test_a_refund_of_the_same_amount_reverses_a_duplicate_and_another_amount_does_not():
    pair = [purchase("A", "2024-03-04", 750_000), purchase("B", "2024-03-04", 750_000)]
    refunded = [*pair, purchase("R", "2024-03-06", 750_000, kind="refund")]
    assert flags(refunded, rule="duplicate_charge") == []
    partial = [*pair, purchase("R", "2024-03-06", 500_000, kind="refund")]
    assert flags(partial, rule="duplicate_charge") == [("B", "duplicate_charge")]
    before = [purchase("R", "2024-03-01", 750_000, kind="refund"), *pair]
    assert flags(before, rule="duplicate_charge") == [("B", "duplicate_charge")]


def test_a_refund_before_the_pair_does_not_take_the_pair_s_own_refund():
    """All at TOKO A, Rp 1,000,000: Jan 5 purchase, Jan 6 its refund, Mar 2 purchase, Mar 3 the
    duplicate, Mar 4 its refund. Refunds were numbered over all dates, so the Jan 6 refund took
    number 0, the pair's (Mar 2/3) check saw it as before the earlier charge, and the Mar 4
    refund was never matched: wrongly flagged. By hand, Mar 4 ≥ Mar 2 reverses the pair."""
    rows = [
        purchase("A", "2024-01-05", 1_000_000, merchant="TOKO A"),
        purchase("R1", "2024-01-06", 1_000_000, merchant="TOKO A", kind="refund"),
        purchase("B", "2024-03-02", 1_000_000, merchant="TOKO A"),
        purchase("C", "2024-03-03", 1_000_000, merchant="TOKO A"),
        purchase("R2", "2024-03-04", 1_000_000, merchant="TOKO A", kind="refund"),
    ]
    assert flags(rows, rule="duplicate_charge") == []
    assert flags(rows[:4], rule="duplicate_charge") == [("C", "duplicate_charge")]


def test_duplicates_and_refunds_match_a_row_by_row_reading():
    """Independent implementation, row by row: duplicates as above; then each refund, in date
    order, reverses the earliest unreversed duplicate of its card, payee and amount whose
    earlier charge is dated on or before it. Dense random rows (40 days, few amounts) so that
    many refunds meet duplicates, some before and some after them."""
    import random

    rng = random.Random(5)
    rows = []
    for i in range(400):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(40))
        kind = rng.choices(["purchase", "refund"], [0.75, 0.25])[0]
        rows.append(
            purchase(
                f"P{i:03d}",
                day.isoformat(),
                rng.choice([1, 2]) * 10_000_000,
                card=rng.choice(["G1", "G2"]),
                merchant=rng.choice("XY"),
                kind=kind,
            )
        )
    ordered = sorted(enumerate(rows), key=lambda item: (item[1][2], item[0]))
    last: dict[tuple, dt.date] = {}
    duplicates: list[tuple[tuple, dt.date, str]] = []  # (group, earlier charge, ref), in date order
    refunds: list[tuple[tuple, dt.date]] = []
    for _, (ref, card, date, _, payee, _, amount, kind, _) in ordered:
        day, key = dt.date.fromisoformat(date), (card, payee, amount)
        if kind == "refund":
            refunds.append((key, day))
            continue
        if key in last and (day - last[key]).days <= 1:
            duplicates.append((key, last[key], ref))
        last[key] = day
    open_refs = [ref for _, _, ref in duplicates]
    for key, day in refunds:
        match = next((r for k, at, r in duplicates if k == key and at <= day and r in open_refs), None)
        if match is not None:
            open_refs.remove(match)
    expected = set(open_refs)
    assert len(duplicates) - len(expected) > 5 and len(expected) > 5
    assert {r for r, _ in flags(rows, rule="duplicate_charge")} == expected


def test_flags_carry_a_code_params_and_an_english_detail_with_rupiah_amounts():
    result = run([purchase("A", "2024-03-04", 150_000_000), purchase("B", "2024-03-06", 60_000_000)])
    flag = result.flags.filter(rule="over_payee_cap").row(0, named=True)
    assert flag["reference"] == "B" and flag["amount"] == 60_000_000 and flag["opd"] == "Dinas Kesehatan"
    assert json.loads(flag["params"]) == {
        "cap": 200_000_000,
        "period": "year",
        "scope": "opd",
        "from": "2024-01-01",
        "total": 210_000_000,
    }
    assert "Rp 210,000,000" in flag["detail"] and "Rp 200,000,000" in flag["detail"]
    assert BIG not in flag["detail"]


def test_split_flags_match_a_brute_force_reading_of_the_rule_on_random_purchases():
    """Independent implementation: for each day c with an under-threshold purchase, sum the
    under-threshold purchases of the same card and payee dated c − 3 … c; if that reaches
    50 million with at least two purchases, every purchase in the window is part of a split."""
    import random

    rng = random.Random(14)
    rows = []
    for i in range(300):
        day = dt.date(2024, 3, 1) + dt.timedelta(days=rng.randrange(40))
        amount = rng.choice([5, 10, 20, 30, 49, 50, 60]) * 1_000_000
        rows.append(
            purchase(
                f"P{i}", day.isoformat(), amount, card=rng.choice(["G1", "G2"]), merchant=rng.choice("XYZ")
            )
        )
    expected = set()
    small = [
        (r[0], r[1], r[4], dt.date.fromisoformat(r[2]), int(r[6])) for r in rows if int(r[6]) < 50_000_000
    ]
    for _, card, payee, end, _ in small:
        window = [s for s in small if s[1:3] == (card, payee) and 0 <= (end - s[3]).days <= 3]
        if len(window) >= 2 and sum(s[4] for s in window) >= 50_000_000:
            expected |= {s[0] for s in window}
    found = {ref for ref, _ in flags(rows, rule="split_purchase")}
    assert found == expected and len(expected) > 20


def _random_rows(seed: int, count: int) -> list[tuple]:
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(count):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(120))
        kind = rng.choices(["purchase", "refund", "fee"], [0.8, 0.1, 0.1])[0]
        amount = rng.choice([1, 2, 3, 5, 8]) * 10_000_000
        rows.append(
            purchase(
                f"P{i:03d}",
                day.isoformat(),
                amount,
                card=rng.choice(["G1", "G2"]),
                merchant=rng.choice("XY"),
                kind=kind,
            )
        )
    return rows


def test_running_total_rules_match_a_row_by_row_reading_on_random_transactions():
    """Independent implementation in plain Python, row by row in date then file order: a
    card's purchases + fees − refunds per calendar month (limit 100 million), and an OPD's
    purchases − refunds per payee and calendar year (cap 200 million); a flag where a
    non-refund takes the total from at most the limit to above it."""
    rows = _random_rows(15, 250)
    card_rows = [
        ("G1", "A", "goods", "Ani", "100000000", "month"),
        ("G2", "B", "goods", "Budi", "100000000", "month"),
    ]
    ordered = sorted(enumerate(rows), key=lambda item: (item[1][2], item[0]))
    card_total: dict[tuple, int] = {}
    payee_total: dict[tuple, int] = {}
    expected_limit, expected_cap = set(), set()
    for _, (ref, card, date, _, payee, _, amount, kind, _) in ordered:
        signed = -int(amount) if kind == "refund" else int(amount)
        key = (card, date[:7])
        before = card_total.get(key, 0)
        card_total[key] = before + signed
        if kind != "refund" and before <= 100_000_000 < card_total[key]:
            expected_limit.add(ref)
        if kind != "fee":
            key = (card, payee, date[:4])  # one OPD per card here
            before = payee_total.get(key, 0)
            payee_total[key] = before + signed
            if kind == "purchase" and before <= 200_000_000 < payee_total[key]:
                expected_cap.add(ref)
    found = flags(rows, card_rows=card_rows)
    assert {r for r, rule in found if rule == "over_card_limit"} == expected_limit and len(expected_limit) > 5
    assert {r for r, rule in found if rule == "over_payee_cap"} == expected_cap and len(expected_cap) > 2


def test_duplicates_match_a_row_by_row_reading_on_random_purchases_without_refunds():
    """Independent implementation: a purchase whose previous purchase with the same card,
    payee and amount (in date then file order) is at most 1 day earlier."""
    rows = [r for r in _random_rows(16, 300) if r[7] == "purchase"]
    ordered = sorted(enumerate(rows), key=lambda item: (item[1][2], item[0]))
    last: dict[tuple, dt.date] = {}
    expected = set()
    for _, (ref, card, date, _, payee, _, amount, _, _) in ordered:
        day = dt.date.fromisoformat(date)
        key = (card, payee, amount)
        if key in last and (day - last[key]).days <= 1:
            expected.add(ref)
        last[key] = day
    assert {r for r, _ in flags(rows, rule="duplicate_charge")} == expected and len(expected) > 5
