"""Property-based fuzzing of the JSON API with schemathesis, as every persona.

Each operation of ``/api/openapi.json`` gets generated requests (path, query and body drawn
from its schema: valid ones and, in schemathesis' negative mode, invalid ones) sent through the
WSGI application as each persona of the suite, with a bearer token (anonymous: none). Every
response must be no server error (5xx), have a status the operation declares, and match the
declared schema and content type; invalid input must be refused (4xx).

Randomly drawn path parameters almost always name nothing (404), so half the strategies fix
them to the world's real ones (region A, the 2024 cycle, Stage II, a programme, an item, the
open survey form) to reach the handlers with fuzzed bodies and queries. Examples per operation
are few and derandomised, so the run is repeatable and short.

Found on the code before this test: three apps each named a schema ``RegionOut``,
``ComponentOut`` or ``ErrorOut`` and the OpenAPI document kept one of each, so ``/api/regions``
was documented as returning results; refusals (401/403/404/422) were undeclared.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from cityeval.web.accounts.models import Role
from cityeval.web.accounts.services import token_create
from cityeval.web.panels.models import Panel, PanelMember, PanelRegion
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from cityeval.web.wsgi import application
from tests.helpers.web import make_user

EXAMPLES_PER_OPERATION = 15
PERSONAS = ["coordinator", "admin_a", "opd_a", "assessor_on_panel", "assessor", "admin_b", "anonymous"]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]

SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def assessor_on_panel(world):
    """The chair of the Stage II panel that scores region A."""
    chair = make_user("chair", Role.ASSESSOR)
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel 1")
    PanelMember.objects.create(
        panel=panel, user=chair, affiliation="university", organisation="USU", is_chair=True
    )
    PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_2")
    return chair


@pytest.fixture
def known(world) -> dict[str, str]:
    """Real values for every path parameter name the API uses."""
    programme = Programme.objects.create(
        region=world.region_a, name="E-Padi", dimension="governance", subdimension="service",
        owner=world.opd_health, start_year=2023, status="running", beneficiaries=1500,
    )  # fmt: skip
    plan = plan_save(
        participation=world.participation_a,
        data=PlanInput(
            target=50, demographics=True, modes={}, entries={"service": EntryInput(programme=programme)}
        ),
    )
    forms_generate(plan=plan)
    return {
        "slug": world.region_a.slug,
        "region": world.region_a.slug,
        "cycle": world.cycle.slug,
        "stage": "stage_2",
        "item": "baseline.legal_basis",
        "public_id": str(programme.public_id),
        "token": plan.forms.get(code="service").token,
    }


def _headers(request, persona: str) -> dict[str, str]:
    if persona == "anonymous":
        return {}
    user = request.getfixturevalue(persona)
    return {"Authorization": f"Bearer {token_create(user=user, name='fuzz')}"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_operation_errors_or_leaves_its_schema_for_any_persona(request, persona, known, settings_fast):
    headers = _headers(request, persona)
    failures: list[str] = []
    for operation in OPERATIONS:
        names = {p.name for p in operation.path_parameters}
        real = {name: value for name, value in known.items() if name in names}
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        if real:
            strategies += [operation.as_strategy(mode, path_parameters=real) for mode in GenerationMode]

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is enough
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # every operation's failure is collected, then the test fails once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:3000]}")
    assert failures == [], "\n\n".join(failures)


@pytest.fixture
def settings_fast(settings):
    """Survey rate limits off: the fuzzer posts far more than a respondent could. And, as
    Django's test client does, requests through the WSGI handler keep the test's database
    connection open (its transaction is the test's isolation)."""
    settings.SURVEY_LIMIT_PER_IP_HOUR = 1_000_000
    settings.SURVEY_LIMIT_PER_FORM_DAY = 1_000_000
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)
