"""KKPD personas and data on the shared world (region A = Deli Serdang, B = Medan).

Personas: kkpd_admin (BPKAD of A), inspector (Inspektorat of A), holder (card holder of A's
health office), holder2 (card holder of A's education office), kkpd_admin_b (BPKAD of B), plus
the shared coordinator, admin_a (regional admin, no KKPD role), nobody and anonymous.
A's cards: 1111 (health, goods, Rp 10,000,000 a month) and 2222 (education, goods, same limit).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cityeval.web.accounts.models import Role
from cityeval.web.kkpd.models import Bank, Card, KkpdRegion
from tests.web.conftest import _user

HEADER = "reference,card,date,merchant,merchant_id,mcc,amount,kind,receipt_date\n"
# R2 is on Saturday 1 June 2024 (outside_working_days); R3 is a hotel (MCC 7011, a travel
# category) on a goods card (card_type_mismatch). R1 is clean.
STATEMENT = HEADER + (
    "R1,1111,2024-06-03,Toko ATK Maju,M1,5111,1500000,purchase,2024-06-04\n"
    "R2,1111,2024-06-01,Toko ATK Maju,M1,5111,700000,purchase,2024-06-02\n"
    "R3,2222,2024-06-04,Hotel Sejahtera,M2,7011,900000,purchase,2024-06-05\n"
)


@pytest.fixture
def kkpd(world):
    KkpdRegion.objects.create(region=world.region_a)
    KkpdRegion.objects.create(region=world.region_b)
    bank = Bank.objects.create(region=world.region_a, name="Bank Sumut")
    Bank.objects.create(region=world.region_b, name="Bank Sumut")
    common = {
        "region": world.region_a, "bank": bank, "card_type": "goods", "limit": 10_000_000,
        "limit_period": "month", "valid_from": dt.date(2024, 1, 1), "valid_until": dt.date(2026, 12, 31),
    }  # fmt: skip
    Card.objects.create(opd=world.opd_health, last_four="1111", holder_name="Siti Aminah", **common)
    Card.objects.create(opd=world.opd_education, last_four="2222", holder_name="Budi Santoso", **common)
    return bank


@pytest.fixture
def kkpd_admin(world):
    return _user("kkpd_admin", Role.KKPD_ADMIN, region=world.region_a)


@pytest.fixture
def inspector(world):
    return _user("inspector", Role.KKPD_INSPECTOR, region=world.region_a)


@pytest.fixture
def holder(world):
    return _user("holder", Role.CARD_HOLDER, region=world.region_a, opd=world.opd_health)


@pytest.fixture
def holder2(world):
    return _user("holder2", Role.CARD_HOLDER, region=world.region_a, opd=world.opd_education)


@pytest.fixture
def kkpd_admin_b(world):
    return _user("kkpd_admin_b", Role.KKPD_ADMIN, region=world.region_b)
