"""Fixtures for the survey tests: a plan for region A with its forms, and URL builders.

Region A (Deli Serdang) surveys E-Padi (Bapenda-like, owned here by the health office, 1500
users) for the "service" sub-dimension and a complaints channel (owned by the education office)
for "policy"; every dimension is split, so the plan has 18 forms, of which only those two name
their service and are open (the other 16 stay closed until the plan names theirs).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import SurveyForm, SurveyPlan
from cityeval.web.surveys.services import EntryInput, PlanInput, forms_generate, plan_save

REGION_A = "kab-deli-serdang"
REGION_B = "kota-medan"
CYCLE = "gmsc-2024"
READERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
NOT_ADMINS = ["opd_a", "opd_a2", "coordinator"]
OUTSIDERS = ["admin_b", "opd_b", "nobody"]


def persona(request, name: str):
    return None if name == "anonymous" else request.getfixturevalue(name)


def url(name: str, region: str = REGION_A, **kwargs) -> str:
    return reverse(f"surveys:{name}", kwargs={"region": region, "cycle": CYCLE, **kwargs})


def public_url(form: SurveyForm) -> str:
    return reverse("surveys:public", kwargs={"token": form.token})


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


def started_ago(seconds: float = 300, *, form: SurveyForm, response_id: str) -> str:
    """A signed start stamp for ``response_id`` on ``form`` as the page puts it, ``seconds`` ago
    (signed then, too)."""
    import time
    from unittest import mock

    from cityeval.web.surveys.forms import started_token

    then = time.time() - seconds
    with (
        mock.patch("django.core.signing.time.time", return_value=then),
        mock.patch(
            "cityeval.web.surveys.forms.timezone.now", return_value=dt.datetime.fromtimestamp(then, dt.UTC)
        ),
    ):
        return started_token(form, response_id)


def answers_post(form: SurveyForm, *, response_id: str, used: str = "yes", value: int = 3, **extra) -> dict:
    """The POST data of the public questionnaire, answering every statement (the page was
    rendered five minutes before)."""
    from cityeval.engine.survey import question_name

    data = {
        "response_id": response_id,
        "started": started_ago(form=form, response_id=response_id),
        "used_service": used,
        "age_band": "25-34",
        "sex": "f",
        "district": "Lubuk Pakam",
    }
    if used == "yes":
        for n, code in enumerate(form.statements):
            data[question_name(code)] = str((value + n) % 5)
    data.update(extra)
    return data


def respond(form: SurveyForm, answers: dict, *, used: bool = True, source: str = "web", **fields):
    """A stored response written directly, for read tests."""
    import uuid

    from cityeval.web.surveys.models import Response

    return Response.objects.create(
        form=form, response_id=str(uuid.uuid4()), source=source, used_service=used, answers=answers, **fields
    )
