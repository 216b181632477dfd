"""Who sees results, when (docs/style.md: every view and API endpoint, allowed persona and
outsiders). Before publication: the coordinator only, 404 to everyone else. After: everyone,
anonymous citizens included; feedback only to the coordinator and the region's own members."""

from __future__ import annotations

import pytest

from cityeval.web.results.models import ResultRun
from tests.helpers.results import CYCLE, REGION_A, REGION_B, STRENGTHS
from tests.web.results.helpers import pdf_text

PAGES = [
    f"/results/{CYCLE}/",
    f"/r/{REGION_A}/{CYCLE}/results/",
    f"/r/{REGION_B}/{CYCLE}/results/",
    f"/results/{CYCLE}/national.csv",
    f"/results/{CYCLE}/national.xlsx",
    f"/results/{CYCLE}/national.json",
    f"/results/{CYCLE}/items.csv",
    f"/results/{CYCLE}/items.json",
    f"/results/{CYCLE}/letter.pdf",
    f"/r/{REGION_A}/{CYCLE}/results/letter.pdf",
    f"/api/cycles/{CYCLE}/results",
    f"/api/cycles/{CYCLE}/results/items",
    f"/api/cycles/{CYCLE}/results/regions/{REGION_A}",
]
EVERYONE_ELSE = ["admin_a", "opd_a", "opd_a2", "admin_b", "opd_b", "assessor", "nobody", None]
NOT_A = ["admin_b", "opd_b", "assessor", "nobody", None]
REGION_A_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
REGION_A_API = f"/api/cycles/{CYCLE}/results/regions/{REGION_A}"


def test_the_coordinator_sees_every_page_before_publication(computed, as_user, coordinator):
    client = as_user(coordinator)
    for url in PAGES:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", [*EVERYONE_ELSE, "panelist1"])
def test_everyone_else_gets_404_before_publication(computed, as_user, persona, name):
    client = as_user(persona(name))
    for url in PAGES:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("name", [*EVERYONE_ELSE, "coordinator", "panelist1"])
def test_everyone_sees_every_page_after_publication(published, as_user, persona, name):
    client = as_user(persona(name))
    for url in PAGES:
        assert client.get(url).status_code == 200, url


def test_the_coordinator_sees_the_page_of_a_closed_cycle_before_computing(scored, as_user, coordinator):
    response = as_user(coordinator).get(f"/results/{CYCLE}/")
    assert response.status_code == 200
    assert b'id="compute-form"' in response.content and b'id="publish-form"' not in response.content
    assert as_user(None).get(f"/results/{CYCLE}/").status_code == 404
    assert as_user(coordinator).get(REGION_A_PAGE).status_code == 404  # nothing computed yet


def test_unknown_cycles_regions_and_formats_are_404(published, as_user, coordinator):
    client = as_user(coordinator)
    assert client.get("/results/gmsc-1999/").status_code == 404
    assert client.get(f"/r/kab-atlantis/{CYCLE}/results/").status_code == 404
    assert client.get(f"/results/{CYCLE}/national.exe").status_code == 404
    assert client.get(f"/api/cycles/{CYCLE}/results/regions/kab-atlantis").status_code == 404


# --- feedback ----------------------------------------------------------------------------------


def test_the_coordinator_sees_feedback_before_publication(computed, as_user, coordinator):
    client = as_user(coordinator)
    assert STRENGTHS.encode() in client.get(REGION_A_PAGE).content
    assert client.get(REGION_A_API).json()["feedback"][0]["strengths"] == STRENGTHS


@pytest.mark.parametrize("name", ["coordinator", "admin_a", "opd_a", "opd_a2"])
def test_the_region_and_the_coordinator_see_its_feedback_after_publication(published, as_user, persona, name):
    client = as_user(persona(name))
    assert STRENGTHS.encode() in client.get(REGION_A_PAGE).content
    assert client.get(REGION_A_API).json()["feedback"][0]["strengths"] == STRENGTHS


@pytest.mark.parametrize("name", [*NOT_A, "panelist2"])
def test_others_see_the_region_page_without_feedback(published, as_user, persona, name):
    """panelist2 wrote the feedback, but reads published results as any other user does."""
    client = as_user(persona(name))
    page = client.get(REGION_A_PAGE)
    assert page.status_code == 200 and STRENGTHS.encode() not in page.content
    assert b'id="feedback"' not in page.content
    assert client.get(REGION_A_API).json()["feedback"] is None


def test_the_cycle_letter_by_link_has_no_feedback_for_anyone(published, as_user, coordinator, admin_a):
    """The letter's text, extracted with pdftotext (poppler-utils). Feedback is asked for: the
    coordinator's copy with feedback is made by a background job now (test_letter_job.py)."""
    with_feedback = f"/results/{CYCLE}/letter.pdf?feedback=1"
    for client in (as_user(coordinator), as_user(admin_a), as_user(None)):
        response = client.get(with_feedback)
        assert response["Content-Disposition"] == f'attachment; filename="results-{CYCLE}.pdf"'
        text = pdf_text(response.content)
        assert "Kab. Deli Serdang" in text and STRENGTHS not in text


def test_the_region_letter_has_feedback_only_for_those_who_may_see_it(published, as_user, admin_a, admin_b):
    url = f"/r/{REGION_A}/{CYCLE}/results/letter.pdf"
    assert STRENGTHS in pdf_text(as_user(admin_a).get(url).content)
    assert STRENGTHS not in pdf_text(as_user(admin_b).get(url).content)
    assert STRENGTHS not in pdf_text(as_user(None).get(url).content)


# --- coordinator actions -----------------------------------------------------------------------

ACTIONS = [f"/results/{CYCLE}/compute/", f"/results/{CYCLE}/publish/"]
API_ACTIONS = [f"/api/cycles/{CYCLE}/results/compute", f"/api/cycles/{CYCLE}/results/publish"]


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "admin_b", "assessor", "panelist1", "nobody"])
def test_others_may_not_compute_publish_or_import(scored, as_user, persona, name):
    client = as_user(persona(name))
    for url in [*ACTIONS, "/results/history/import/"]:
        assert client.post(url).status_code == 403, url
    assert client.get("/results/history/import/").status_code == 403
    for url in API_ACTIONS:
        assert client.post(url).status_code == 403, url
    assert ResultRun.objects.count() == 0


def test_anonymous_users_are_sent_to_log_in_for_actions(scored, as_user):
    client = as_user(None)
    for url in [*ACTIONS, "/results/history/import/"]:
        response = client.post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for url in API_ACTIONS:
        assert client.post(url).status_code == 401, url


def test_actions_only_take_post(scored, as_user, coordinator):
    """Opened directly, compute leads back to its page; publish shows its confirmation."""
    response = as_user(coordinator).get(ACTIONS[0])
    assert response.status_code == 302 and response["Location"] == f"/results/{CYCLE}/"
    response = as_user(coordinator).get(ACTIONS[1])
    assert response.status_code == 200 and b'name="confirm"' in response.content
    assert ResultRun.objects.count() == 0
