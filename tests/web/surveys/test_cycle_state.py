"""The survey freezes with its cycle: once the cycle is closed or published, public links take
no new response (the closed page, 409 in the API) and the regional admin's writes answer 403
with the reason, changing nothing; the pages, downloads and recaps stay readable."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.surveys.models import (
    DimensionMode,
    ImportBatch,
    PlanEntry,
    Response,
    SurveyForm,
    SurveyPlan,
)
from cityeval.web.surveys.plans import (
    EntryInput,
    PlanInput,
    form_set_open,
    forms_generate,
    margins_save,
    plan_save,
)
from cityeval.web.surveys.responses import responses_import
from tests.helpers.web_surveys import answers_post, kobo_csv, plan_post, public_url, url


def reason(form: SurveyForm) -> str:
    """The pages name the cycle's status: a published cycle is not called closed (it was, by
    a copy of the rule that said "closed" whatever the status)."""
    status = Cycle.objects.get(pk=form.plan.participation.cycle_id).get_status_display().lower()
    return f"The cycle is {status}: the survey can no longer change."


NOT_OPEN = [Cycle.Status.CLOSED, Cycle.Status.PUBLISHED]


@pytest.fixture(params=NOT_OPEN)
def frozen(request, world, service_form) -> SurveyForm:
    """The service form of region A, with one response, in a cycle that is no longer open."""
    Response.objects.create(
        form=service_form, response_id="before-closing", source="web", used_service=True,
        answers={"service.1": 3, "service.2": 4, "service.3": 2},
    )  # fmt: skip
    world.cycle.status = request.param
    world.cycle.save(update_fields=["status"])
    return service_form


def snapshot(form: SurveyForm) -> dict:
    plan = SurveyPlan.objects.get(pk=form.plan_id)
    return {
        "plan": (plan.target, plan.demographics, plan.margins, plan.updated_at),
        "modes": sorted(DimensionMode.objects.values_list("dimension", "mode")),
        "entries": sorted(PlanEntry.objects.values_list("subdimension", "programme_id", "known_users")),
        "forms": sorted(SurveyForm.objects.values_list("code", "is_open", "target", "demographics")),
        "responses": Response.objects.count(),
        "batches": ImportBatch.objects.count(),
    }


# --- public submissions ----------------------------------------------------------------------


def test_the_public_page_shows_the_closed_page(client, frozen):
    page = client.get(public_url(frozen))
    assert page.status_code == 200 and 'id="closed"' in page.text
    assert 'name="response_id"' not in page.text


def test_a_web_submission_is_refused_as_closed(client, frozen):
    posted = client.post(public_url(frozen), answers_post(frozen, response_id=str(uuid.uuid4())))
    assert 'id="closed"' in posted.text
    assert Response.objects.count() == 1


def test_a_retry_of_a_stored_response_still_gets_the_thank_you(client, frozen):
    again = client.post(public_url(frozen), answers_post(frozen, response_id="before-closing"))
    assert again.status_code == 302 and again["Location"].endswith("/thanks/")
    assert Response.objects.count() == 1


def test_an_api_submission_answers_409(frozen):
    data = {
        "response_id": str(uuid.uuid4()), "used_service": True,
        "answers": {"service.1": 4, "service.2": 3, "service.3": 2},
    }  # fmt: skip
    response = Client().post(
        f"/api/survey/{frozen.token}/responses", json.dumps(data), content_type="application/json"
    )
    assert response.status_code == 409
    assert Response.objects.count() == 1


def test_no_api_start_token_once_the_cycle_is_not_open(frozen):
    response = Client().get(f"/api/survey/{frozen.token}/start")
    assert response.status_code == 409
    assert "started" not in response.json() and "response_id" not in response.json()


# --- the regional admin's writes --------------------------------------------------------------


def _plan(client, form):
    return client.post(url("plan"), plan_post(target="80", mode_governance="combined"))


def _generate(client, form):
    return client.post(url("generate"))


def _close_link(client, form):
    return client.post(url("toggle", form=form.code), {"open": "0"})


def _import(client, form):
    return client.post(
        url("import"), {"form": form.code, "kind": "kobo", "file": SimpleUploadedFile("kobo.csv", kobo_csv())}
    )


def _margins(client, form):
    return client.post(url("margins"), {"cell_25-34_f": "50", "cell_25-34_m": "50"})


def _clear_margins(client, form):
    return client.post(url("margins"), {"clear": "1"})


@pytest.mark.parametrize("write", [_plan, _generate, _close_link, _import, _margins, _clear_margins])
def test_admin_writes_answer_403_with_the_reason_and_change_nothing(as_user, admin_a, frozen, write):
    before = snapshot(frozen)
    response = write(as_user(admin_a), frozen)
    assert response.status_code == 403
    assert reason(frozen) in response.text
    assert snapshot(frozen) == before


def test_the_admin_cannot_reopen_a_link_either(as_user, admin_a, frozen):
    frozen.is_open = False
    frozen.save(update_fields=["is_open"])
    assert as_user(admin_a).post(url("toggle", form=frozen.code), {"open": "1"}).status_code == 403
    assert SurveyForm.objects.get(pk=frozen.pk).is_open is False


def test_the_services_refuse_too(admin_a, world, frozen, e_padi):
    before = snapshot(frozen)
    plan = SurveyPlan.objects.get(pk=frozen.plan_id)
    data = PlanInput(
        target=80, demographics=False, modes={}, entries={"service": EntryInput(programme=e_padi)}
    )
    calls = [
        lambda: plan_save(participation=world.participation_a, data=data),
        lambda: forms_generate(plan=plan),
        lambda: form_set_open(form=frozen, is_open=False),
        lambda: responses_import(form=frozen, data=kobo_csv(), file_name="k.csv", kind="kobo", user=admin_a),
        lambda: margins_save(plan=plan, shares={("25-34", "f"): 1.0}),
        lambda: margins_save(plan=plan, shares=None),
    ]
    for call in calls:
        with pytest.raises(CycleClosed):
            call()
    assert snapshot(frozen) == before


def test_non_admins_still_get_403(as_user, opd_a, frozen):
    assert as_user(opd_a).post(url("generate")).status_code == 403


# --- reads keep working ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    ["overview", "plan", "import", "quality", "statistics", "margins", "recap_pdf", "recap_xlsx"],
)
def test_pages_and_recaps_stay_readable(as_user, admin_a, frozen, page):
    response = as_user(admin_a).get(url(page))
    assert response.status_code == 200
    if page not in ("recap_pdf", "recap_xlsx"):
        assert reason(frozen) in response.text  # the pages say why nothing can change
        assert 'action="' + url("generate") + '"' not in response.text


@pytest.mark.parametrize("download", ["xlsform", "template"])
def test_form_downloads_stay_available(as_user, admin_a, frozen, download):
    assert as_user(admin_a).get(url(download, form=frozen.code)).status_code == 200


def test_the_api_reads_stay_available(as_user, admin_a, frozen):
    client = as_user(admin_a)
    base = "/api/regions/kab-deli-serdang/cycles/gmsc-2024/survey"
    assert client.get(base + "/forms").status_code == 200
    assert client.get(base + "/stats").status_code == 200


def test_an_open_cycle_still_takes_writes(as_user, admin_a, world, service_form):
    """The control: the same writes work while the cycle is open."""
    client = as_user(admin_a)
    assert _close_link(client, service_form).status_code == 302
    assert _margins(client, service_form).status_code == 302
    assert SurveyPlan.objects.get().margins is not None
