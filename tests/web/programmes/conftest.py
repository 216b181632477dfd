"""Programmes of the shared world: quick wins of region A's two OPDs and one programme of B."""

from __future__ import annotations

import pytest

from cityeval.web.programmes.models import Programme


@pytest.fixture
def patogen(world) -> Programme:
    """A quick win owned by A's health office (opd_a's OPD)."""
    return Programme.objects.create(
        region=world.region_a, name="Patogen", dimension="living", subdimension="health",
        owner=world.opd_health, status=Programme.Status.RUNNING, start_year=2023, beneficiaries=4200,
        is_quick_win=True, description="Tuberculosis screening by X-ray",
    )  # fmt: skip


@pytest.fixture
def kas_anak_kasir(world) -> Programme:
    """A quick win owned by A's education office (opd_a2's OPD)."""
    return Programme.objects.create(
        region=world.region_a, name="Kas Anak Kasir", dimension="society", subdimension="learning",
        owner=world.opd_education, status=Programme.Status.RUNNING, start_year=2024, is_quick_win=True,
    )  # fmt: skip


@pytest.fixture
def plain_programme(world) -> Programme:
    """A programme of A's health office that is not a quick win."""
    return Programme.objects.create(
        region=world.region_a, name="Posyandu Digital", dimension="living", subdimension="health",
        owner=world.opd_health, start_year=2022,
    )  # fmt: skip


@pytest.fixture
def medan_programme(world) -> Programme:
    return Programme.objects.create(
        region=world.region_b, name="Medan Sehat", dimension="living", subdimension="health",
        owner=world.opd_b, start_year=2021, is_quick_win=True,
    )  # fmt: skip
