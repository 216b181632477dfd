"""Fixtures for the survey tests: a plan for region A with its forms, and URL builders.

Region A (Deli Serdang) surveys E-Padi (Bapenda-like, owned here by the health office, 1500
users) for the "service" sub-dimension and a complaints channel (owned by the education office)
for "policy"; every dimension is split, so the plan has 18 forms, of which only those two name
their service and are open (the other 16 stay closed until the plan names theirs).
"""

from __future__ import annotations

import pytest

from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import SurveyForm, SurveyPlan
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save


@pytest.fixture
def e_padi(world) -> Programme:
    return Programme.objects.create(
        region=world.region_a, name="E-Padi", dimension="governance", subdimension="service",
        owner=world.opd_health, status="running", start_year=2023, beneficiaries=1500,
    )  # fmt: skip


@pytest.fixture
def lapor(world) -> Programme:
    return Programme.objects.create(
        region=world.region_a, name="Lapor Bupati", dimension="governance", subdimension="policy",
        owner=world.opd_education, status="running", start_year=2022,
    )  # fmt: skip


@pytest.fixture
def plan(world, e_padi, lapor) -> SurveyPlan:
    plan = plan_save(
        participation=world.participation_a,
        data=PlanInput(
            target=50, demographics=True, modes={"governance": "split"},
            entries={"service": EntryInput(programme=e_padi), "policy": EntryInput(programme=lapor)},
        ),
    )  # fmt: skip
    forms_generate(plan=plan)
    return plan


@pytest.fixture
def service_form(plan) -> SurveyForm:
    return plan.forms.get(code="service")
