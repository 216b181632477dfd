"""Fixtures for the notices tests: the shared personas with e-mail addresses, and the cycle's
self-assessment deadline at a fixed moment so that the scheduler can be run "as at" a time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

# The self-assessment deadline of the 2024 cycle in these tests: 20 days ahead, on the hour.
DEADLINE_DAYS = 20


@pytest.fixture
def deadline(world):
    moment = (timezone.now() + dt.timedelta(days=DEADLINE_DAYS)).replace(minute=0, second=0, microsecond=0)
    world.cycle.self_assessment_deadline = moment
    world.cycle.save(update_fields=["self_assessment_deadline"])
    return moment


@pytest.fixture
def mailed(admin_a, opd_a, opd_a2, admin_b, opd_b, assessor, nobody):
    """Every persona gets an address, name@example.go.id."""
    people = {u.username: u for u in (admin_a, opd_a, opd_a2, admin_b, opd_b, assessor, nobody)}
    for user in people.values():
        user.email = f"{user.username}@example.go.id"
        user.save(update_fields=["email"])
    return people
