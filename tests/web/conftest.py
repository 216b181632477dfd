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
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.regions.models import Opd, Province, Region

PASSWORD = "a-test-password-1234"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"  # assertions read English; Indonesian is tested on its own


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


def _user(username: str, role: str | None = None, *, region=None, opd=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role:
        Membership.objects.create(user=user, role=role, region=region, opd=opd)
    return user


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
    return _user("coordinator", Role.COORDINATOR)


@pytest.fixture
def admin_a(world):
    return _user("admin_a", Role.REGIONAL_ADMIN, region=world.region_a)


@pytest.fixture
def opd_a(world):
    return _user("opd_a", Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_health)


@pytest.fixture
def opd_a2(world):
    return _user("opd_a2", Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_education)


@pytest.fixture
def admin_b(world):
    return _user("admin_b", Role.REGIONAL_ADMIN, region=world.region_b)


@pytest.fixture
def opd_b(world):
    return _user("opd_b", Role.OPD_CONTRIBUTOR, region=world.region_b, opd=world.opd_b)


@pytest.fixture
def assessor(world):
    return _user("assessor", Role.ASSESSOR)


@pytest.fixture
def nobody(world):
    return _user("nobody")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    """``as_user(persona)`` → a test client logged in as that persona (None: anonymous)."""
    return client_for
