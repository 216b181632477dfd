"""The public questionnaire /s/<token>/: no account, idempotent, closable, rate-limited."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityeval.engine.survey import question_name
from cityeval.web.surveys.models import Response
from cityeval.web.surveys.responses import identity_hash
from tests.helpers.web import PASSWORD
from tests.helpers.web_surveys import answers_post, public_url, started_ago


def rendered_id(html: str) -> str:
    return re.search(r'name="response_id" value="([^"]+)"', html).group(1)


def test_anyone_opens_the_form_without_an_account(client, service_form):
    response = client.get(public_url(service_form))
    assert response.status_code == 200
    assert "Public services can easily be used online" in response.text  # statement service.1
    assert "Strongly agree" in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    uuid.UUID(rendered_id(response.text))  # a fresh uuid4 per render


def test_each_render_carries_a_new_response_id(client, service_form):
    first = rendered_id(client.get(public_url(service_form)).text)
    second = rendered_id(client.get(public_url(service_form)).text)
    assert first != second


def test_the_form_speaks_indonesian_by_default(client, service_form, settings):
    settings.LANGUAGE_CODE = "id"
    html = client.get(public_url(service_form)).text
    assert '<html lang="id">' in html
    assert "Layanan publik dapat diakses secara daring dengan mudah" in html
    assert "Sangat setuju" in html
    assert "Apakah Anda pernah menggunakan layanan" in html


def test_the_form_is_accessible_markup_with_fieldsets_and_labelled_radios(client, service_form):
    html = client.get(public_url(service_form)).text
    for code in service_form.statements:
        name = question_name(code)
        assert f'id="q-{name}"' in html
        assert len(re.findall(rf'<label><input type="radio" name="{name}" value="\d"', html)) == 5
    assert html.count("<legend>") >= 4  # screening + 3 statements
    assert "<img" not in html and "<script" not in html  # light: no images, no script


def test_unknown_token_is_404(client, world):
    assert client.get("/s/not-a-token/").status_code == 404
    assert client.post("/s/not-a-token/", {}).status_code == 404


def test_a_submission_is_stored_and_thanked(client, service_form):
    rid = str(uuid.uuid4())
    response = client.post(public_url(service_form), answers_post(service_form, response_id=rid))
    assert response.status_code == 302
    assert response["Location"] == f"/s/{service_form.token}/thanks/"
    stored = Response.objects.get(form=service_form, response_id=rid)
    assert stored.used_service is True and stored.source == "web"
    assert stored.answers == {"service.1": 3, "service.2": 4, "service.3": 0}
    assert (stored.age_band, stored.sex, stored.district) == ("25-34", "f", "Lubuk Pakam")
    assert stored.ip_hash and stored.ip_hash != "127.0.0.1"
    assert client.get(response["Location"]).status_code == 200


def test_resubmitting_the_same_rendered_form_stores_it_once(client, service_form):
    rid = rendered_id(client.get(public_url(service_form)).text)
    data = answers_post(service_form, response_id=rid)
    first = client.post(public_url(service_form), data)
    again = client.post(public_url(service_form), answers_post(service_form, response_id=rid, value=0))
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Response.objects.filter(form=service_form).count() == 1
    assert Response.objects.get().answers["service.1"] == 3  # the first submission stands


def test_a_non_user_needs_no_statements_and_is_stored_as_such(client, service_form):
    rid = str(uuid.uuid4())
    response = client.post(public_url(service_form), answers_post(service_form, response_id=rid, used="no"))
    assert response.status_code == 302
    stored = Response.objects.get(response_id=rid)
    assert stored.used_service is False
    assert stored.answers == {code: None for code in service_form.statements}


def test_a_user_must_answer_every_statement(client, service_form):
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    del data[question_name("service.2")]
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400
    assert "Choose an answer for this statement." in response.text
    assert rendered_id(response.text) == data["response_id"]  # the retry keeps its id
    assert Response.objects.count() == 0


@pytest.mark.parametrize("bad", ["5", "-1", "x"])
def test_an_answer_outside_0_to_4_is_refused(client, service_form, bad):
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    data[question_name("service.1")] = bad
    assert client.post(public_url(service_form), data).status_code == 400
    assert Response.objects.count() == 0


def test_the_screening_question_must_be_answered(client, service_form):
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    del data["used_service"]
    assert client.post(public_url(service_form), data).status_code == 400
    assert Response.objects.count() == 0


def test_a_malformed_response_id_is_refused(client, service_form):
    response = client.post(public_url(service_form), answers_post(service_form, response_id="x"))
    assert response.status_code == 400
    assert Response.objects.count() == 0


def test_the_phone_number_is_kept_only_as_a_salted_hash(client, service_form):
    rid = str(uuid.uuid4())
    client.post(public_url(service_form), answers_post(service_form, response_id=rid, phone="0812-3456-7890"))
    stored = Response.objects.get(response_id=rid)
    assert stored.identity_hash == identity_hash("+62 812 3456 7890")
    assert len(stored.identity_hash) == 64
    stored_text = str(Response.objects.filter(response_id=rid).values().get())
    assert "0812-3456-7890" not in stored_text and "81234567890" not in stored_text


def test_csrf_protection_stays_on_for_the_public_form(service_form):
    strict = Client(enforce_csrf_checks=True)
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    assert strict.post(public_url(service_form), data).status_code == 403
    strict.get(public_url(service_form))  # sets the CSRF cookie: no login needed
    data["csrfmiddlewaretoken"] = strict.cookies["csrftoken"].value
    assert strict.post(public_url(service_form), data).status_code == 302
    assert Response.objects.count() == 1


# --- the signed start stamp ("implausibly fast" cannot be dodged) ----------------------------

EXPIRED = "This form has expired or was changed: please reload the page"


def test_a_post_without_the_start_stamp_is_refused(client, service_form):
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    del data["started"]
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400
    assert EXPIRED in response.text and 'id="expired"' in response.text
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
        lambda token: "1700000000.0:" + token.split(":", 1)[1],  # the stamp changed
        lambda token: "not-a-token",
    ],
)
def test_a_forged_start_stamp_is_refused(client, service_form, forge):
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    data["started"] = forge(data["started"])
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400 and EXPIRED in response.text
    assert Response.objects.count() == 0


def test_a_start_stamp_older_than_a_day_has_expired(client, service_form):
    rid = str(uuid.uuid4())
    data = answers_post(
        service_form, response_id=rid, started=started_ago(25 * 3600, form=service_form, response_id=rid)
    )
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400 and EXPIRED in response.text
    assert Response.objects.count() == 0
    fresh = rendered_started(response.text)  # the page comes back with a new stamp
    data["started"] = fresh
    assert client.post(public_url(service_form), data).status_code == 302
    assert Response.objects.count() == 1


def test_the_expired_message_speaks_indonesian(client, service_form, settings):
    settings.LANGUAGE_CODE = "id"
    data = answers_post(service_form, response_id=str(uuid.uuid4()), started="")
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400
    assert "Formulir ini sudah kedaluwarsa atau telah diubah: silakan muat ulang halaman" in response.text


def rendered_started(html: str) -> str:
    return re.search(r'name="started" value="([^"]+)"', html).group(1)


def test_the_rendered_start_stamp_is_stored_as_started_at(client, service_form):
    page = client.get(public_url(service_form)).text
    rid, started = rendered_id(page), rendered_started(page)
    data = answers_post(service_form, response_id=rid, started=started)
    assert client.post(public_url(service_form), data).status_code == 302
    stored = Response.objects.get(response_id=rid)
    assert stored.started_at is not None and stored.started_at <= stored.ended_at


def test_a_rendered_stamp_times_only_its_own_response_on_its_own_form(client, service_form, plan):
    """The review's attack on the web form: the page's stamp sent with other response ids, or
    to another form, is refused as expired (400, nothing stored); with the id it was rendered
    beside, on its form, it is accepted once."""
    page = client.get(public_url(service_form)).text
    rid, started = rendered_id(page), rendered_started(page)
    other = plan.forms.exclude(pk=service_form.pk).first()
    for form, response_id in ((service_form, str(uuid.uuid4())), (other, rid), (other, str(uuid.uuid4()))):
        data = answers_post(form, response_id=response_id, started=started)
        response = client.post(public_url(form), data)
        assert response.status_code == 400 and EXPIRED in response.text
    assert Response.objects.count() == 0
    data = answers_post(service_form, response_id=rid, started=started)
    assert client.post(public_url(service_form), data).status_code == 302
    assert Response.objects.count() == 1


def test_a_malformed_response_id_comes_back_with_a_new_id_and_its_own_stamp(client, service_form):
    data = answers_post(service_form, response_id="not an id")
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400
    rid, started = rendered_id(response.text), rendered_started(response.text)
    assert uuid.UUID(rid).version == 4
    again = answers_post(service_form, response_id=rid, started=started)
    assert client.post(public_url(service_form), again).status_code == 302


def test_a_valid_stamp_is_kept_when_the_page_comes_back_with_errors(client, service_form):
    """The time to answer counts from the first render, not from the correction."""
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    del data[question_name("service.2")]
    response = client.post(public_url(service_form), data)
    assert response.status_code == 400 and EXPIRED not in response.text
    assert rendered_started(response.text) == data["started"]


def test_a_retry_of_a_stored_response_needs_no_stamp(client, service_form):
    rid = str(uuid.uuid4())
    assert (
        client.post(public_url(service_form), answers_post(service_form, response_id=rid)).status_code == 302
    )
    again = answers_post(service_form, response_id=rid)
    del again["started"]
    assert client.post(public_url(service_form), again).status_code == 302
    assert Response.objects.count() == 1


# --- closing the link ------------------------------------------------------------------------


def test_a_closed_link_shows_a_friendly_page_and_stores_nothing(client, service_form):
    service_form.is_open = False
    service_form.save()
    page = client.get(public_url(service_form))
    assert page.status_code == 200 and 'id="closed"' in page.text
    posted = client.post(public_url(service_form), answers_post(service_form, response_id=str(uuid.uuid4())))
    assert 'id="closed"' in posted.text
    assert Response.objects.count() == 0


def test_a_retry_after_closing_still_gets_the_thank_you(client, service_form):
    rid = str(uuid.uuid4())
    client.post(public_url(service_form), answers_post(service_form, response_id=rid))
    service_form.is_open = False
    service_form.save()
    again = client.post(public_url(service_form), answers_post(service_form, response_id=rid))
    assert again.status_code == 302 and again["Location"].endswith("/thanks/")
    assert Response.objects.count() == 1


# --- abuse limits ----------------------------------------------------------------------------


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=2)
def test_the_per_address_limit_answers_429(client, service_form):
    for _ in range(2):
        ok = client.post(public_url(service_form), answers_post(service_form, response_id=str(uuid.uuid4())))
        assert ok.status_code == 302
    refused = client.post(public_url(service_form), answers_post(service_form, response_id=str(uuid.uuid4())))
    assert refused.status_code == 429
    assert 'id="limited"' in refused.text
    assert Response.objects.count() == 2
    other = Client(REMOTE_ADDR="10.0.0.9")  # another address is not affected
    data = answers_post(service_form, response_id=str(uuid.uuid4()))
    assert other.post(public_url(service_form), data).status_code == 302


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=1)
def test_a_resubmission_does_not_count_against_the_limit(client, service_form):
    rid = str(uuid.uuid4())
    for _ in range(3):
        assert (
            client.post(public_url(service_form), answers_post(service_form, response_id=rid)).status_code
            == 302
        )
    assert Response.objects.count() == 1


# --- assisted responses ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["admin_a", "opd_a"])
def test_region_staff_see_and_set_the_assisted_flag(request, as_user, service_form, name):
    staff = request.getfixturevalue(name)
    client = as_user(staff)
    assert 'name="assisted"' in client.get(public_url(service_form)).text
    rid = str(uuid.uuid4())
    client.post(public_url(service_form), answers_post(service_form, response_id=rid, assisted="on"))
    stored = Response.objects.get(response_id=rid)
    assert stored.assisted is True and stored.assisted_by == staff


@pytest.mark.parametrize("name", ["anonymous", "coordinator", "admin_b", "opd_b", "nobody"])
def test_others_cannot_mark_a_response_assisted(request, as_user, service_form, name):
    user = None if name == "anonymous" else request.getfixturevalue(name)
    client = as_user(user)
    assert 'name="assisted"' not in client.get(public_url(service_form)).text
    rid = str(uuid.uuid4())
    client.post(public_url(service_form), answers_post(service_form, response_id=rid, assisted="on"))
    stored = Response.objects.get(response_id=rid)
    assert stored.assisted is False and stored.assisted_by is None


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=1)
def test_assisting_staff_are_not_held_to_the_per_address_limit(as_user, admin_a, service_form):
    client = as_user(admin_a)
    for _ in range(3):
        data = answers_post(service_form, response_id=str(uuid.uuid4()), assisted="on")
        assert client.post(public_url(service_form), data).status_code == 302
    assert Response.objects.filter(assisted=True).count() == 3


def test_the_page_is_light_enough_for_a_slow_connection(client, service_form):
    """The form page (HTML) and the one stylesheet it loads stay small: no images, fonts or
    scripts beyond the site CSS."""
    from pathlib import Path

    import cityeval.web

    html = client.get(public_url(service_form)).content
    css = Path(cityeval.web.__file__).parent / "static" / "cityeval" / "site.css"
    assert len(html) < 20_000
    assert len(html) + css.stat().st_size < 30_000
    assert html.count(b'rel="stylesheet"') == 1


# --- a session whose two-factor sign-in is unfinished ------------------------------------------


def _password_only(user) -> Client:
    """A session after the password and before the two-factor code."""
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_session_waiting_for_its_code_answers_the_public_form_as_anyone(admin_a, service_form):
    """Review: a person who gave the password but not yet the code was sent to the code page
    from the public survey link. The questionnaire and its thank-you page are open to anyone;
    such a session answers as an anonymous citizen (no staff "assisted" box, no assisting
    staff recorded), while every other page still waits for the code."""
    TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=True)
    client = _password_only(admin_a)
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:twofactor_verify"))

    page = client.get(public_url(service_form))
    assert page.status_code == 200 and 'name="response_id"' in page.text
    assert 'name="assisted"' not in page.text
    rid = rendered_id(page.text)
    sent = client.post(public_url(service_form), answers_post(service_form, response_id=rid, assisted="on"))
    assert sent.status_code == 302 and sent["Location"] == f"/s/{service_form.token}/thanks/"
    stored = Response.objects.get(response_id=rid)
    assert (stored.assisted, stored.assisted_by) == (False, None)
    thanks = client.get(sent["Location"])
    assert thanks.status_code == 200 and "Fill in another response" not in thanks.text
    # The session is kept: after the code, the person is still signed in.
    assert client.get(reverse("regions:dashboard", kwargs={"region": "kab-deli-serdang"})).status_code == 302
    assert "_auth_user_id" in client.session


def test_a_session_sent_to_enrolment_opens_the_public_form(coordinator, service_form, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator"]
    client = _password_only(coordinator)
    assert client.get(reverse("home"))["Location"] == reverse("accounts:twofactor")
    assert client.get(public_url(service_form)).status_code == 200


def test_staff_who_finished_signing_in_still_see_the_assisted_box(admin_a, as_user, service_form):
    assert 'name="assisted"' in as_user(admin_a).get(public_url(service_form)).text


def test_the_identity_hash_is_sha256_of_the_salt_and_the_numbers_digits():
    """By hand: 0812-3456-7890 → digits 081234567890 → country code 6281234567890; the hash is
    SHA-256 of the salt followed by those digits. No number, no hash (and no engine call)."""
    import hashlib

    from cityeval.web.surveys.responses import identity_salt

    expected = hashlib.sha256((identity_salt() + "6281234567890").encode()).hexdigest()
    assert identity_hash("0812-3456-7890") == expected
    assert identity_hash("") == ""


def test_the_statements_html_escapes_every_text_and_heads_each_change_of_service():
    """``statement_fieldsets`` (the statements written in Python): a service heading where the
    service changes, none for an empty one, the answer given checked, errors listed, all escaped."""
    from cityeval.web.surveys.public import statement_fieldsets

    def st(code, service, value=None, errors=()):
        return {"code": code, "name": f"s_{code}", "label": f"<b>{code}</b>", "value": value,
                "errors": list(errors), "service": service}  # fmt: skip

    html = statement_fieldsets(
        [st("a", "E-Padi & co"), st("b", "E-Padi & co", 2, ["<x>"]), st("c", "Lapor"), st("d", "")],
        [(1, "One"), (2, "Two <2>")],
    )
    assert html.count('<h2 class="service-heading">') == 2
    assert '<h2 class="service-heading">About: E-Padi &amp; co</h2>' in html
    assert "<legend>2. &lt;b&gt;b&lt;/b&gt;</legend>" in html
    assert '<input type="radio" name="s_b" value="2" checked>' in html
    assert html.count(" checked") == 1 and "Two &lt;2&gt;" in html
    assert '<fieldset class="q bad" id="q-s_b"' in html
    assert '<p class="errorlist" role="alert">&lt;x&gt;</p>' in html
