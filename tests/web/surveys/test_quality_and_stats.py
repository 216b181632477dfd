"""Quality flags, statistics and proposed levels over the demo's synthetic survey (900
responses, split mode) and over small hand-made samples whose numbers are checked by hand."""

from __future__ import annotations

import uuid
from statistics import mean

import pytest

from cityeval.web.surveys.demo import REPEATED_PHONE, SMALL_SERVICE_USERS, load_survey_demo
from cityeval.web.surveys.models import Response, SurveyPlan
from cityeval.web.surveys.responses import identity_hash
from cityeval.web.surveys.selectors import form_rows, impact_flags, proposed_levels, quality_of
from tests.helpers.web_surveys import respond, url


@pytest.fixture
def demo(world, e_padi) -> SurveyPlan:
    load_survey_demo(participation=world.participation_a, programmes_by_subdimension={"service": e_padi})
    return SurveyPlan.objects.get(participation=world.participation_a)


def test_the_demo_is_18_forms_of_50_synthetic_respondents(demo):
    assert demo.forms.count() == 18
    assert Response.objects.filter(form__plan=demo).count() == 900
    assert set(Response.objects.values_list("district", flat=True)) == {"Contoh (sintetis)"}
    assert demo.entries.get(subdimension="service").programme.name == "E-Padi"


def test_the_demo_is_deterministic(world, demo):
    load_survey_demo(participation=world.participation_b)
    a = list(Response.objects.filter(form__plan=demo).order_by("id").values_list("form__code", "answers"))
    b = list(
        Response.objects.filter(form__plan__participation=world.participation_b)
        .order_by("id")
        .values_list("form__code", "answers")
    )
    assert a == b


def test_quality_flags_each_planted_problem(demo):
    report = quality_of(demo)
    rows = {r.form.code: r for r in form_rows(demo, report)}
    service, policy = rows["service"], rows["policy"]
    assert service.excluded["straight_lining"] == 1 and service.excluded["not_user"] == 1
    assert (service.received, service.valid) == (50, 48)
    assert sum(r.excluded[reason] for r in rows.values() for reason in r.excluded) == 2  # nothing else
    repeated = identity_hash(REPEATED_PHONE)
    assert dict(report.cross_form) == {repeated: ("policy", "service")}
    assert service.cross_form == policy.cross_form == 1
    assert policy.known_users == SMALL_SERVICE_USERS and policy.over_known_users
    assert service.known_users == 1500 and not service.over_known_users


def test_the_quality_page_shows_the_flags(as_user, opd_a, demo):
    html = as_user(opd_a).get(url("quality")).text
    assert html.count('class="reason-straight_lining"') == 1
    assert html.count('class="reason-not_user"') == 1
    assert "policy, service" in html  # the respondent in two forms
    assert identity_hash(REPEATED_PHONE)[:10] in html and REPEATED_PHONE not in html
    assert 'class="badge bad over-known-users"' in html


def test_the_overview_counts_received_and_valid_against_the_target(as_user, admin_a, demo):
    html = as_user(admin_a).get(url("overview")).text
    assert 'id="total-received">900<' in html
    assert 'id="total-valid">898<' in html


def test_proposed_levels_are_the_valid_means_of_the_impact_items(world, demo):
    levels = proposed_levels(world.participation_a)
    framework = world.cycle.framework.framework
    survey_items = {i.code for _c, i in framework.items_for("REGULER") if i.kind == "survey"}
    assert set(levels) == survey_items and len(levels) == 54
    # By hand: the mean of service.1 over the form's responses, leaving out the two planted ones.
    planted = Response.objects.filter(form__code="service").order_by("id")[:2]
    kept = Response.objects.filter(form__code="service").exclude(pk__in=[r.pk for r in planted])
    assert levels["impact.service.1"] == pytest.approx(mean(r.answers["service.1"] for r in kept))


def test_proposed_levels_cover_only_surveyed_statements(world, service_form):
    assert proposed_levels(world.participation_b) == {}  # no plan
    assert proposed_levels(world.participation_a) == {}  # forms, no responses
    for answers in (
        {"service.1": 4, "service.2": 3, "service.3": 2},
        {"service.1": 2, "service.2": 3, "service.3": 4},
    ):
        Response.objects.create(form=service_form, response_id=str(uuid.uuid4()), source="web",
                                used_service=True, answers=answers)  # fmt: skip
    assert proposed_levels(world.participation_a) == {
        "impact.service.1": 3.0, "impact.service.2": 3.0, "impact.service.3": 3.0,
    }  # fmt: skip


def test_statistics_page_is_labelled_non_probability_with_alpha_and_distribution(as_user, coordinator, demo):
    html = as_user(coordinator).get(url("statistics")).text
    assert 'id="non-probability"' in html and "Non-probability" in html
    assert 'id="alpha-service"' in html and "Feldt" in html
    assert 'id="stat-service.1"' in html and 'class="dist"' in html
    assert "Weighted mean" not in html  # no margins yet


def test_statement_means_match_a_hand_calculation(as_user, admin_a, service_form):
    """Answers 4, 4, 3, 2 to service.1 → mean 3.25 (and 3.00 shown on the page)."""
    for value in (4, 4, 3, 2):
        respond(service_form, {"service.1": value, "service.2": (value + 1) % 5, "service.3": 1})
    html = as_user(admin_a).get(url("statistics")).text
    row = html.split('id="stat-service.1"')[1].split("</tr>")[0]
    assert '<td class="num">4</td>' in row and '<td class="num mean">3.25</td>' in row


def test_margins_add_weighted_means_beside_the_unweighted(as_user, admin_a, demo):
    cells = {
        f"cell_{age}_{sex}": "10" for age in ("15-24", "25-34", "35-44", "45-54", "55-64") for sex in "fm"
    }
    response = as_user(admin_a).post(url("margins"), {**cells, "cell_15-24_f": "30"})
    assert response.status_code == 302
    plan = SurveyPlan.objects.get(pk=demo.pk)
    assert sum(c["share"] for c in plan.margins) == pytest.approx(1.0)
    html = as_user(admin_a).get(url("statistics")).text
    assert "Weighted mean" in html and 'class="num weighted">' in html


def test_margins_no_respondent_can_meet_are_reported_not_raised(as_user, admin_a, demo):
    as_user(admin_a).post(url("margins"), {"cell_65+_f": "50", "cell_25-34_m": "50"})
    html = as_user(admin_a).get(url("statistics")).text
    assert "Weighting was not possible" in html
    assert "Weighted mean" not in html


def test_margins_can_be_removed(as_user, admin_a, demo):
    as_user(admin_a).post(url("margins"), {"cell_25-34_f": "50", "cell_25-34_m": "50"})
    as_user(admin_a).post(url("margins"), {"clear": "1"})
    assert SurveyPlan.objects.get(pk=demo.pk).margins is None


def test_negative_or_empty_margins_are_refused(as_user, admin_a, plan):
    assert as_user(admin_a).post(url("margins"), {"cell_25-34_f": "-5"}).status_code == 200
    assert as_user(admin_a).post(url("margins"), {}).status_code == 200
    assert SurveyPlan.objects.get(pk=plan.pk).margins is None


def test_impact_flags_put_each_forms_flags_beside_its_impact_items(world, demo):
    flags = impact_flags(world.participation_a)
    assert len(flags) == 54
    service = " | ".join(flags["impact.service.2"])
    assert "1 excluded: Straight-lining" in service and "1 excluded: Did not use the service" in service
    assert "below target (48 of 50)" in service
    assert "also answered another form" in service
    assert any("known users (30)" in f for f in flags["impact.policy.1"])
    assert flags["impact.energy.3"] == []  # a clean form with 50 valid responses


def test_a_combined_form_counts_the_smallest_known_users_of_its_services(world, e_padi):
    from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
    from cityeval.web.surveys.selectors import forms_of, known_users

    plan = plan_save(
        participation=world.participation_a,
        data=PlanInput(
            target=50, demographics=False, modes={"governance": "combined"},
            entries={"service": EntryInput(programme=e_padi), "policy": EntryInput(known_users=20)},
        ),
    )  # fmt: skip
    forms_generate(plan=plan)
    assert known_users(plan, forms_of(plan))["governance"] == 20
