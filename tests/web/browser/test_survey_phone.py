"""The impact survey on a phone: a citizen opens the public link, answers and submits; a
double submission of the same rendered form stores one response; the regional admin, on a
desktop, sees the count rise on the survey overview. Screenshots land in
test-artifacts/screenshots/ (survey-*.png).
"""

from __future__ import annotations

from cityeval.engine.survey import question_name
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import Response
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from tests.helpers.web import PASSWORD


def _service_form(world):
    e_padi = Programme.objects.create(
        region=world.region_a, name="E-Padi", dimension="governance", subdimension="service",
        owner=world.opd_health, status="running", start_year=2023, beneficiaries=1500,
    )  # fmt: skip
    plan = plan_save(
        participation=world.participation_a,
        data=PlanInput(
            target=50, demographics=True, modes={}, entries={"service": EntryInput(programme=e_padi)}
        ),
    )
    forms_generate(plan=plan)
    return plan.forms.get(code="service")


def test_phone_respondent_submits_once_and_the_admin_sees_the_count_rise(
    world, admin_a, page, phone_page, live_server, login, screenshot, settings
):
    settings.LANGUAGE_CODE = "id"  # the site's default: what a citizen sees
    form = _service_form(world)
    overview = f"/r/{world.region_a.slug}/{world.cycle.slug}/survey/"

    login(page, live_server, "admin_a", PASSWORD)
    page.goto(overview)
    assert page.inner_text("#form-service .received").strip() == "0"

    # A citizen opens the link on a phone and answers.
    phone_page.goto(f"/s/{form.token}/")
    assert phone_page.locator("html").get_attribute("lang") == "id"
    assert "Layanan publik dapat diakses secara daring dengan mudah" in phone_page.inner_text("main")
    phone_page.check("input[name=used_service][value=yes]")
    for code, value in zip(form.statements, ("3", "4", "2"), strict=True):
        phone_page.check(f"input[name={question_name(code)}][value='{value}']")
    phone_page.check("input[name=age_band][value='25-34']")
    phone_page.check("input[name=sex][value=f]")
    phone_page.fill("#district", "Lubuk Pakam")
    # The answer buttons are large enough to tap (at least 44 px high).
    box = phone_page.locator(
        f"input[name={question_name(form.statements[0])}] >> xpath=.."
    ).first.bounding_box()
    assert box["height"] >= 44
    screenshot(phone_page, "survey-public-form-phone")
    response_id = phone_page.input_value("input[name=response_id]")
    form_data = {
        name: phone_page.locator(f"input[name='{name}']:checked").get_attribute("value")
        for name in ["used_service", "age_band", "sex", *(question_name(c) for c in form.statements)]
    }
    with phone_page.expect_navigation():
        phone_page.click("#survey-form [type=submit]")
    assert phone_page.url.endswith(f"/s/{form.token}/thanks/")
    assert phone_page.locator("#thanks").is_visible()
    screenshot(phone_page, "survey-thank-you-phone")
    assert Response.objects.filter(form=form).count() == 1

    # The same rendered form is sent again (a double tap or a retry on a flaky network).
    csrf = next(c["value"] for c in phone_page.context.cookies() if c["name"] == "csrftoken")
    again = phone_page.request.post(
        f"{live_server.url}/s/{form.token}/",
        form={
            **form_data,
            "response_id": response_id,
            "district": "Lubuk Pakam",
            "csrfmiddlewaretoken": csrf,
        },
        headers={"Referer": f"{live_server.url}/s/{form.token}/"},
    )
    assert again.ok and again.url.endswith("/thanks/")
    assert Response.objects.filter(form=form).count() == 1
    assert Response.objects.get(form=form).response_id == response_id

    # The regional admin sees the count rise.
    page.goto(overview)
    assert page.inner_text("#form-service .received").strip() == "1"
    assert page.inner_text("#total-received").strip() == "1"
    screenshot(page, "survey-overview-admin")
