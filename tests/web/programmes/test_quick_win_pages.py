"""Quick-win pages: the Quick Win criteria self-assessment and the risk register."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.programmes.models import QuickWinCriterionAnswer, Risk
from tests.web.programmes.helpers import programme_url

READERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
STAKEHOLDERS = "quick_win.stakeholder_design"
BENEFITS = "quick_win.benefits"


def persona(request, name: str):
    return None if name == "anonymous" else request.getfixturevalue(name)


def criteria_url(programme, cycle: str = "gmsc-2024") -> str:
    return programme_url("quick_win_criteria", programme, cycle=cycle)


def levels(**by_code) -> dict:
    """A criteria form submission: ``levels(**{code: level})``."""
    return {f"{code}__level": str(level) for code, level in by_code.items()}


@pytest.fixture
def risk(patogen) -> Risk:
    return Risk.objects.create(
        programme=patogen, risk="X-ray van breaks down", likelihood="medium", impact="high",
        mitigation="Service contract with the supplier", owner="Head of the health office",
    )  # fmt: skip


def risk_data(**changes) -> dict:
    data = {
        "risk": "Too few radiographers", "likelihood": "high", "impact": "medium",
        "mitigation": "Train puskesmas staff", "owner": "Dinkes HR section",
    }  # fmt: skip
    data.update(changes)
    return data


# --- Quick Win criteria ----------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_every_member_of_the_region_reads_the_quick_win_criteria(request, as_user, name, patogen):
    response = as_user(persona(request, name)).get(criteria_url(patogen))
    assert response.status_code == 200
    assert response.text.count("<tr>") == 13  # the header and the 12 criteria
    assert "Benefits actually felt by citizens" in response.text


def test_only_the_owning_opd_gets_level_inputs(as_user, opd_a, opd_a2, patogen):
    assert f'name="{BENEFITS}__level"' in as_user(opd_a).get(criteria_url(patogen)).text
    assert f'name="{BENEFITS}__level"' not in as_user(opd_a2).get(criteria_url(patogen)).text


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "nobody"])
def test_outsiders_get_404_on_the_quick_win_criteria(request, as_user, name, patogen):
    client = as_user(persona(request, name))
    assert client.get(criteria_url(patogen)).status_code == 404
    assert client.post(criteria_url(patogen), levels(**{BENEFITS: 3})).status_code == 404
    assert not QuickWinCriterionAnswer.objects.exists()


def test_anonymous_visitor_is_sent_to_login_from_the_quick_win_criteria(as_user, patogen):
    response = as_user(None).post(criteria_url(patogen), levels(**{BENEFITS: 3}))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not QuickWinCriterionAnswer.objects.exists()


def test_opd_contributor_records_their_quick_wins_criteria(as_user, opd_a, patogen, world):
    data = {**levels(**{STAKEHOLDERS: 4, BENEFITS: 3}), f"{BENEFITS}__note": "Survey of 300 patients"}
    response = as_user(opd_a).post(criteria_url(patogen), data)
    assert response.status_code == 302
    answers = {a.criterion: a for a in QuickWinCriterionAnswer.objects.all()}
    assert set(answers) == {STAKEHOLDERS, BENEFITS}  # criteria left blank are not answered
    assert (answers[BENEFITS].level, answers[BENEFITS].note) == (3.0, "Survey of 300 patients")
    assert answers[BENEFITS].cycle == world.cycle and answers[BENEFITS].author == opd_a


def test_criteria_answers_are_appended_and_the_latest_counts(as_user, admin_a, patogen):
    client = as_user(admin_a)
    client.post(criteria_url(patogen), levels(**{BENEFITS: 2}))
    client.post(criteria_url(patogen), levels(**{BENEFITS: 3.5}))
    unchanged = client.post(criteria_url(patogen), levels(**{BENEFITS: 3.5}), follow=True)  # not repeated
    assert "Nothing changed" in unchanged.text
    rows = QuickWinCriterionAnswer.objects.filter(criterion=BENEFITS).order_by("id")
    assert [a.level for a in rows] == [2.0, 3.5]
    page = client.get(criteria_url(patogen)).text
    assert 'value="3.5"' in page  # the form starts from the answer that counts
    assert '<td class="num">2</td>' in page  # two answers in the history


def test_a_level_outside_the_scale_says_why_and_saves_nothing(as_user, opd_a, patogen):
    response = as_user(opd_a).post(criteria_url(patogen), levels(**{STAKEHOLDERS: 4, BENEFITS: 5}))
    assert response.status_code == 200
    assert "less than or equal to 4.0" in response.text
    assert QuickWinCriterionAnswer.objects.count() == 0


def test_a_level_that_is_not_a_number_says_why_and_saves_nothing(as_user, opd_a, patogen):
    response = as_user(opd_a).post(criteria_url(patogen), levels(**{STAKEHOLDERS: 4, BENEFITS: "high"}))
    assert response.status_code == 200
    assert "Enter a number" in response.text
    assert QuickWinCriterionAnswer.objects.count() == 0


def test_opd_contributor_cannot_assess_another_opds_quick_win(as_user, opd_a2, patogen):
    assert as_user(opd_a2).post(criteria_url(patogen), levels(**{BENEFITS: 3})).status_code == 403
    assert not QuickWinCriterionAnswer.objects.exists()


def test_coordinator_cannot_assess_a_quick_win(as_user, coordinator, patogen):
    assert as_user(coordinator).post(criteria_url(patogen), levels(**{BENEFITS: 3})).status_code == 403
    assert not QuickWinCriterionAnswer.objects.exists()


def test_a_programme_that_is_not_a_quick_win_has_no_criteria_page(as_user, admin_a, plain_programme):
    assert as_user(admin_a).get(criteria_url(plain_programme)).status_code == 404


def test_the_criteria_page_is_not_found_for_a_cycle_the_region_does_not_take_part_in(
    as_user, admin_a, patogen, world
):
    other = Cycle.objects.create(
        slug="gmsc-2023", name="GMSC 2023", year=2023, framework=world.cycle.framework,
        self_assessment_deadline=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    Participation.objects.create(cycle=other, region=world.region_b, group="REGULER")
    client = as_user(admin_a)
    assert client.get(criteria_url(patogen, "gmsc-2023")).status_code == 404
    assert client.post(criteria_url(patogen, "gmsc-2023"), levels(**{BENEFITS: 3})).status_code == 404
    assert client.get(criteria_url(patogen, "no-such-cycle")).status_code == 404
    assert not QuickWinCriterionAnswer.objects.exists()


def test_a_quick_win_of_another_region_is_not_found_under_this_region(as_user, admin_a, medan_programme):
    assert as_user(admin_a).get(criteria_url(medan_programme)).status_code == 404


def test_the_detail_page_shows_how_many_criteria_are_answered(as_user, opd_a, patogen):
    client = as_user(opd_a)
    client.post(criteria_url(patogen), levels(**{STAKEHOLDERS: 4, BENEFITS: 3}))
    page = client.get(programme_url("programme_detail", patogen)).text
    assert "2 / 12" in page
    assert criteria_url(patogen) in page


# --- a closed self-assessment -----------------------------------------------------------------


def _submit(world):
    Participation.objects.filter(pk=world.participation_a.pk).update(submitted_at=timezone.now())


def _pass_deadline(world):
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(minutes=1)
    )


def _close_cycle(world):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)


@pytest.mark.parametrize(
    ("close", "reason"),
    [
        (_submit, "Submitted on"),
        (_pass_deadline, "The self-assessment deadline passed"),
        (_close_cycle, "The cycle is not open for self-assessment"),
    ],
    ids=["submitted", "past-deadline", "cycle-closed"],
)
@pytest.mark.parametrize("name", ["admin_a", "opd_a"])
def test_criteria_are_read_only_once_the_self_assessment_is_closed(
    request, as_user, name, patogen, world, close, reason
):
    client = as_user(persona(request, name))
    client.post(criteria_url(patogen), levels(**{BENEFITS: 2}))
    close(world)
    response = client.post(criteria_url(patogen), levels(**{BENEFITS: 4, STAKEHOLDERS: 3}))
    assert response.status_code == 403
    assert reason in response.text
    assert [(a.criterion, a.level) for a in QuickWinCriterionAnswer.objects.all()] == [(BENEFITS, 2.0)]
    page = client.get(criteria_url(patogen)).text
    assert 'id="read-only"' in page and reason in page
    assert f'name="{BENEFITS}__level"' not in page  # no inputs on a closed self-assessment


def test_a_closed_self_assessment_still_refuses_other_opds_with_403(as_user, opd_a2, patogen, world):
    _submit(world)
    assert as_user(opd_a2).post(criteria_url(patogen), levels(**{BENEFITS: 3})).status_code == 403
    assert not QuickWinCriterionAnswer.objects.exists()


# --- risk register ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["admin_a", "opd_a"])
def test_the_owning_opd_and_the_regional_admin_add_a_risk(request, as_user, name, patogen):
    response = as_user(persona(request, name)).post(programme_url("risk_add", patogen), risk_data())
    assert response.status_code == 302
    added = Risk.objects.get()
    assert (added.programme, added.likelihood, added.impact, added.owner) == (
        patogen, "high", "medium", "Dinkes HR section"
    )  # fmt: skip


def test_every_member_reads_the_risk_register(as_user, opd_a2, coordinator, risk, patogen):
    for user in (opd_a2, coordinator):
        page = as_user(user).get(programme_url("programme_detail", patogen)).text
        assert "X-ray van breaks down" in page
        assert programme_url("risk_delete", patogen, risk=risk.public_id) not in page


def test_opd_contributor_cannot_add_a_risk_to_another_opds_quick_win(as_user, opd_a2, patogen):
    assert as_user(opd_a2).post(programme_url("risk_add", patogen), risk_data()).status_code == 403
    assert not Risk.objects.exists()


def test_coordinator_cannot_add_a_risk(as_user, coordinator, patogen):
    assert as_user(coordinator).post(programme_url("risk_add", patogen), risk_data()).status_code == 403
    assert not Risk.objects.exists()


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "nobody"])
def test_outsiders_get_404_when_adding_a_risk(request, as_user, name, patogen):
    assert (
        as_user(persona(request, name)).post(programme_url("risk_add", patogen), risk_data()).status_code
        == 404
    )
    assert not Risk.objects.exists()


def test_anonymous_visitor_cannot_add_a_risk(as_user, patogen):
    response = as_user(None).post(programme_url("risk_add", patogen), risk_data())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Risk.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"risk": ""}, "This field is required"),
        ({"mitigation": "   "}, "This field is required"),
        ({"likelihood": "extreme"}, "Select a valid choice"),
        ({"owner": "x" * 201}, "at most 200 characters"),
    ],
)
def test_adding_a_risk_with_bad_input_says_why_and_saves_nothing(as_user, opd_a, patogen, changes, message):
    response = as_user(opd_a).post(programme_url("risk_add", patogen), risk_data(**changes))
    assert response.status_code == 200
    assert message in response.text
    assert Risk.objects.count() == 0


def test_a_programme_that_is_not_a_quick_win_has_no_risk_register(as_user, admin_a, plain_programme):
    assert as_user(admin_a).post(programme_url("risk_add", plain_programme), risk_data()).status_code == 404
    assert not Risk.objects.exists()


def test_risks_are_added_by_post_only(as_user, admin_a, patogen):
    response = as_user(admin_a).get(programme_url("risk_add", patogen))
    assert response.status_code == 302 and "risk" not in response["Location"]  # back to a page
    assert not Risk.objects.exists()


@pytest.mark.parametrize("name", ["admin_a", "opd_a"])
def test_the_owning_opd_and_the_regional_admin_remove_a_risk(request, as_user, name, risk, patogen):
    response = as_user(persona(request, name)).post(
        programme_url("risk_delete", patogen, risk=risk.public_id)
    )
    assert response.status_code == 302
    assert not Risk.objects.exists()


@pytest.mark.parametrize(
    ("name", "status"), [("opd_a2", 403), ("coordinator", 403), ("admin_b", 404), ("opd_b", 404)]
)
def test_others_cannot_remove_a_risk(request, as_user, name, status, risk, patogen):
    response = as_user(persona(request, name)).post(
        programme_url("risk_delete", patogen, risk=risk.public_id)
    )
    assert response.status_code == status
    assert Risk.objects.count() == 1


def test_anonymous_visitor_cannot_remove_a_risk(as_user, risk, patogen):
    response = as_user(None).post(programme_url("risk_delete", patogen, risk=risk.public_id))
    assert response.status_code == 302
    assert Risk.objects.count() == 1


def test_a_risk_is_removed_only_through_its_own_programme(as_user, admin_a, risk, kas_anak_kasir):
    assert (
        as_user(admin_a).post(programme_url("risk_delete", kas_anak_kasir, risk=risk.public_id)).status_code
        == 404
    )
    assert (
        as_user(admin_a).post(programme_url("risk_delete", kas_anak_kasir, risk=uuid.uuid4())).status_code
        == 404
    )
    assert Risk.objects.count() == 1
