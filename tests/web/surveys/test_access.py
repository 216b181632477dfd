"""Who may see and change the survey pages: members read, the regional admin writes, others
get 404 (outsiders), 403 (members without the right role) or the login page (anonymous)."""

from __future__ import annotations

import io

import pytest

from cityeval.web.surveys.models import SurveyPlan
from tests.helpers.web_surveys import NOT_ADMINS, OUTSIDERS, READERS, persona, url

READ_PAGES = [
    ("overview", {}),
    ("plan", {}),
    ("import", {}),
    ("quality", {}),
    ("statistics", {}),
    ("margins", {}),
    ("recap_xlsx", {}),
    ("xlsform", {"form": "service"}),
    ("template", {"form": "service"}),
    ("qr", {"form": "service", "kind": "png"}),
    ("qr", {"form": "service", "kind": "svg"}),
]
WRITES = [
    ("plan", {}, {"target": "40"}),
    ("generate", {}, {}),
    ("toggle", {"form": "service"}, {"open": "0"}),
    ("import", {}, {"form": "service", "kind": "template"}),
    ("margins", {}, {"cell_25-34_f": "50", "cell_25-34_m": "50"}),
]


@pytest.mark.parametrize("name", READERS)
@pytest.mark.parametrize(("page", "kwargs"), READ_PAGES)
def test_members_and_the_coordinator_read_every_survey_page(request, as_user, plan, name, page, kwargs):
    response = as_user(persona(request, name)).get(url(page, **kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize("name", READERS)
def test_members_read_the_recap_pdf(request, as_user, plan, name):
    response = as_user(persona(request, name)).get(url("recap_pdf"))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("name", OUTSIDERS)
@pytest.mark.parametrize(("page", "kwargs"), [*READ_PAGES, ("recap_pdf", {})])
def test_outsiders_get_404_on_every_survey_page(request, as_user, plan, name, page, kwargs):
    assert as_user(persona(request, name)).get(url(page, **kwargs)).status_code == 404


@pytest.mark.parametrize(("page", "kwargs"), [*READ_PAGES, ("recap_pdf", {})])
def test_anonymous_visitors_are_sent_to_login(as_user, plan, page, kwargs):
    response = as_user(None).get(url(page, **kwargs))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", NOT_ADMINS)
@pytest.mark.parametrize(("page", "kwargs", "data"), WRITES)
def test_only_the_regional_admin_writes(request, as_user, plan, name, page, kwargs, data):
    before = (SurveyPlan.objects.get().target, plan.forms.filter(is_open=True).count(), plan.imports.count())
    if page == "import":
        data = {**data, "file": io.BytesIO(b"response_id,used_service\n")}
    response = as_user(persona(request, name)).post(url(page, **kwargs), data)
    assert response.status_code == 403
    after = (SurveyPlan.objects.get().target, plan.forms.filter(is_open=True).count(), plan.imports.count())
    assert after == before
    assert SurveyPlan.objects.get().margins is None


@pytest.mark.parametrize("name", OUTSIDERS)
@pytest.mark.parametrize(("page", "kwargs", "data"), WRITES)
def test_outsiders_get_404_on_writes(request, as_user, plan, name, page, kwargs, data):
    assert as_user(persona(request, name)).post(url(page, **kwargs), data).status_code == 404


@pytest.mark.parametrize(("page", "kwargs", "data"), WRITES)
def test_anonymous_writes_are_sent_to_login(as_user, plan, page, kwargs, data):
    response = as_user(None).post(url(page, **kwargs), data)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_form_code_is_404(as_user, admin_a, plan):
    assert as_user(admin_a).get(url("xlsform", form="nope")).status_code == 404
    assert as_user(admin_a).post(url("toggle", form="nope"), {"open": "0"}).status_code == 404


def test_another_regions_form_is_404_through_this_region(as_user, admin_b, plan):
    """Region B's admin cannot reach region A's forms by swapping the region in the URL."""
    assert as_user(admin_b).get(url("xlsform", region="kota-medan", form="service")).status_code == 404


def test_pages_without_a_plan_say_so(as_user, admin_a, world):
    for page in ("overview", "quality", "statistics", "import"):
        response = as_user(admin_a).get(url(page))
        assert response.status_code == 200
    assert "No survey forms yet." in as_user(admin_a).get(url("overview")).text
