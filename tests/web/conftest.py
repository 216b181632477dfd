"""Shared personas and data for the web tests (docs/style.md: tests around named personas).

Region A is Kab. Deli Serdang with two OPDs; region B is Kota Medan. The 2024 cycle is open
with both regions taking part (REGULER), pinned to the built-in gmsc-2024 framework.

Personas: coordinator; admin_a (regional admin of A); opd_a (contributor of A's health
office, Dinas Kesehatan); opd_a2 (contributor of A's education office); admin_b (regional
admin of B); opd_b (contributor in B); assessor (national assessor role, no panel yet);
nobody (logged in, no role); and anonymous clients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from cityeval.web.accounts.models import Role
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.kkpd.models import Bank, Card, KkpdRegion
from cityeval.web.regions.models import Opd, Province, Region
from tests.helpers.web import client_for, make_user


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"  # assertions read English; Indonesian is tested on its own
    # The worker queues no periodic job (notices, deleting old jobs) but in the tests of those
    # jobs, which turn them on.
    settings.JOBS_NOTICES_EVERY_SECONDS = 0
    settings.JOBS_KEEP_DAYS = settings.JOBS_SCHEDULED_KEEP_DAYS = 0


@dataclass
class World:
    region_a: Region
    region_b: Region
    opd_health: Opd
    opd_education: Opd
    opd_b: Opd
    cycle: Cycle
    participation_a: Participation
    participation_b: Participation


@pytest.fixture
def world(db) -> World:
    north = Province.objects.create(name="Sumatera Utara")
    region_a = Region.objects.create(
        name="Kab. Deli Serdang", slug="kab-deli-serdang", kind="kabupaten", province=north
    )
    region_b = Region.objects.create(name="Kota Medan", slug="kota-medan", kind="kota", province=north)
    health = Opd.objects.create(region=region_a, name="Dinas Kesehatan", short_name="Dinkes", slug="dinkes")
    education = Opd.objects.create(
        region=region_a, name="Dinas Pendidikan", short_name="Disdik", slug="disdik"
    )
    opd_b = Opd.objects.create(
        region=region_b, name="Dinas Kesehatan Kota Medan", short_name="Dinkes", slug="dinkes"
    )
    cycle = Cycle.objects.create(
        slug="gmsc-2024", name="GMSC 2024", year=2024, framework=framework_version_builtin("gmsc-2024"),
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_I, starts_on=dt.date(2024, 8, 1), ends_on=dt.date(2024, 8, 31)
    )
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_II, starts_on=dt.date(2024, 11, 1), ends_on=dt.date(2024, 11, 30)
    )
    part_a = Participation.objects.create(cycle=cycle, region=region_a, group="REGULER")
    part_b = Participation.objects.create(cycle=cycle, region=region_b, group="REGULER")
    return World(region_a, region_b, health, education, opd_b, cycle, part_a, part_b)


@pytest.fixture
def coordinator(world):
    return make_user("coordinator", Role.COORDINATOR)


@pytest.fixture
def admin_a(world):
    return make_user("admin_a", Role.REGIONAL_ADMIN, region=world.region_a)


@pytest.fixture
def opd_a(world):
    return make_user("opd_a", Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_health)


@pytest.fixture
def opd_a2(world):
    return make_user("opd_a2", Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_education)


@pytest.fixture
def admin_b(world):
    return make_user("admin_b", Role.REGIONAL_ADMIN, region=world.region_b)


@pytest.fixture
def opd_b(world):
    return make_user("opd_b", Role.OPD_CONTRIBUTOR, region=world.region_b, opd=world.opd_b)


@pytest.fixture
def assessor(world):
    return make_user("assessor", Role.ASSESSOR)


@pytest.fixture
def nobody(world):
    return make_user("nobody")


@pytest.fixture
def as_user():
    """``as_user(persona)`` → a test client logged in as that persona (None: anonymous)."""
    return client_for


# --- KKPD (tests/web/kkpd and the browser flow) -----------------------------------------------
# Personas: kkpd_admin (BPKAD of A), inspector (Inspektorat of A), holder (card holder of A's
# health office), holder2 (card holder of A's education office), kkpd_admin_b (BPKAD of B).
# A's cards: 1111 (health, goods, Rp 10,000,000 a month) and 2222 (education, goods, same limit).


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
    return make_user("kkpd_admin", Role.KKPD_ADMIN, region=world.region_a)


@pytest.fixture
def inspector(world):
    return make_user("inspector", Role.KKPD_INSPECTOR, region=world.region_a)


@pytest.fixture
def holder(world):
    return make_user("holder", Role.CARD_HOLDER, region=world.region_a, opd=world.opd_health)


@pytest.fixture
def holder2(world):
    return make_user("holder2", Role.CARD_HOLDER, region=world.region_a, opd=world.opd_education)


@pytest.fixture
def kkpd_admin_b(world):
    return make_user("kkpd_admin_b", Role.KKPD_ADMIN, region=world.region_b)
