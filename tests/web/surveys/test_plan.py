"""The survey plan: a programme per sub-dimension, a mode per dimension, the target; the
forms it generates; and what can no longer change once a form has responses."""

from __future__ import annotations

import uuid

import pytest

from cityeval.web.surveys.models import DimensionMode, PlanEntry, Response, SurveyForm, SurveyPlan
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from cityeval.web.surveys.services import InvalidInput
from tests.helpers.web_surveys import plan_post, url


def test_the_admin_saves_a_plan_and_generates_18_split_forms(as_user, admin_a, world, e_padi):
    client = as_user(admin_a)
    response = client.post(
        url("plan"), plan_post(programme_service=str(e_padi.public_id), users_service="900")
    )
    assert response.status_code == 302
    plan = SurveyPlan.objects.get(participation=world.participation_a)
    entry = PlanEntry.objects.get(plan=plan, subdimension="service")
    assert (entry.programme, entry.known_users, entry.users) == (e_padi, 900, 900)
    assert client.post(url("generate")).status_code == 302
    forms = list(plan.forms.order_by("id"))
    assert len(forms) == 18
    assert forms[0].code == "service" and forms[0].statements == ["service.1", "service.2", "service.3"]
    assert {f.mode for f in forms} == {"split"} and {f.target for f in forms} == {50}
    assert len({f.token for f in forms}) == 18 and all(len(f.token) >= 32 for f in forms)


@pytest.mark.parametrize("users", ["99999999999999999999", "2147483648"])
def test_known_users_over_the_column_range_are_a_form_error_not_a_500(as_user, admin_a, world, e_padi, users):
    """2**31 - 1 is PostgreSQL's largest ``integer``; above it the database used to fail (500)."""
    response = as_user(admin_a).post(
        url("plan"), plan_post(programme_service=str(e_padi.public_id), users_service=users)
    )
    assert response.status_code == 200
    assert "less than or equal to 2147483647" in response.text
    assert not PlanEntry.objects.exists()


def test_plan_save_refuses_known_users_over_the_column_range(world, e_padi):
    entries = {"service": EntryInput(programme=e_padi, known_users=2**31)}
    data = PlanInput(target=50, demographics=True, modes={}, entries=entries)
    with pytest.raises(InvalidInput) as refused:
        plan_save(participation=world.participation_a, data=data)
    assert refused.value.errors == {"users_service": ["The number of users cannot exceed 2147483647."]}


def test_known_users_default_to_the_programmes_beneficiaries(as_user, admin_a, world, e_padi):
    as_user(admin_a).post(url("plan"), plan_post(programme_service=str(e_padi.public_id)))
    assert PlanEntry.objects.get(subdimension="service").users == 1500


def test_combined_mode_makes_one_form_of_9_statements_for_the_dimension(as_user, admin_a, world):
    client = as_user(admin_a)
    client.post(url("plan"), plan_post(mode_governance="combined", target="60"))
    client.post(url("generate"))
    plan = SurveyPlan.objects.get()
    governance = plan.forms.get(code="governance")
    assert governance.mode == "combined" and len(governance.statements) == 9 and governance.subdimension == ""
    assert governance.target == 60
    assert plan.forms.count() == 16  # 1 combined + 5 × 3 split


def test_the_plan_page_lists_only_the_regions_programmes_with_their_owner(as_user, admin_a, e_padi, world):
    from cityeval.web.programmes.models import Programme

    Programme.objects.create(
        region=world.region_b, name="Medan Sehat", dimension="living", owner=world.opd_b, start_year=2022
    )
    html = as_user(admin_a).get(url("plan")).text
    assert "E-Padi (Dinkes)" in html
    assert "Medan Sehat" not in html


def test_a_programme_of_another_region_is_refused(world, e_padi):
    from cityeval.web.programmes.models import Programme
    from cityeval.web.surveys.plans import EntryInput

    other = Programme.objects.create(
        region=world.region_b, name="Medan Sehat", dimension="living", owner=world.opd_b, start_year=2022
    )
    with pytest.raises(InvalidInput) as refused:
        plan_save(
            participation=world.participation_a,
            data=PlanInput(
                target=50, demographics=True, modes={}, entries={"health": EntryInput(programme=other)}
            ),
        )
    assert "programme_health" in refused.value.errors


def test_a_target_below_1_is_refused_on_the_page_and_the_saved_target_stays(as_user, admin_a, plan):
    """The ``plan`` fixture saved target 50. Posting 0 shows the form's own error and saves
    nothing; posting 60 then saves, so the page does act on a valid target."""
    client = as_user(admin_a)
    response = client.post(url("plan"), plan_post(target="0"))
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 1." in response.text
    plan.refresh_from_db()
    assert plan.target == 50
    assert client.post(url("plan"), plan_post(target="60")).status_code == 302
    plan.refresh_from_db()
    assert plan.target == 60


def test_a_form_with_responses_keeps_its_statements_and_its_dimension_mode_is_locked(
    as_user, admin_a, plan, service_form
):
    Response.objects.create(form=service_form, response_id=str(uuid.uuid4()), source="web", used_service=True)
    client = as_user(admin_a)
    page = client.get(url("plan")).text
    assert 'id="locked"' in page and "cannot change" in page
    response = client.post(url("plan"), plan_post(mode_governance="combined"))
    # The disabled field keeps its saved value, whatever was posted.
    assert response.status_code == 302
    assert DimensionMode.objects.get(plan=plan, dimension="governance").mode == "split"
    with pytest.raises(InvalidInput):
        plan_save(
            participation=plan.participation,
            data=PlanInput(target=50, demographics=True, modes={"governance": "combined"}),
        )


def test_regenerating_updates_targets_and_keeps_tokens(plan, service_form):
    token = service_form.token
    plan.target = 80
    plan.save()
    result = forms_generate(plan=plan)
    assert result.created == [] and "service" in result.updated
    again = SurveyForm.objects.get(pk=service_form.pk)
    assert (again.token, again.target) == (token, 80)


def test_switching_a_dimension_to_combined_removes_its_empty_split_forms(plan):
    DimensionMode.objects.update_or_create(plan=plan, dimension="branding", defaults={"mode": "combined"})
    result = forms_generate(plan=plan)
    assert sorted(result.removed) == ["appearance", "business", "tourism"]
    assert result.created == ["branding"]
