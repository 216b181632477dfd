"""Survey links citizens can make sense of (issue 11, item 8): a form that does not name the
service it asks about is never opened; a combined form names each service it covers; every
link has a copy button and a QR code (PNG, SVG) that decodes to the link; the status badge says
what the public page does (a closed cycle's forms are not shown as open).

The QR codes are read back with zxing-cpp, a decoder independent of segno, which made them.
"""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from cityeval.web.evaluations.models import Cycle
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.forms import submission_from_post
from cityeval.web.surveys.models import Response, SurveyForm
from cityeval.web.surveys.plans import EntryInput, PlanInput, form_set_open, forms_generate, plan_save
from cityeval.web.surveys.readiness import FormNotReady
from cityeval.web.surveys.responses import response_submit
from cityeval.web.surveys.services import SurveyClosed
from tests.helpers.web_surveys import answers_post, public_url, url


def _badge(html: str, code: str) -> str:
    row = re.search(rf'<tr id="form-{code}">.*?</tr>', html, re.S).group(0)
    return re.search(r'class="badge [a-z]+ link-status" data-status="([a-z_]+)"', row).group(1)


def test_generating_leaves_a_form_without_its_programme_closed(plan):
    """The fixture's plan names services for "service" and "policy" only: those two forms are
    open, the other 16 closed (before the fix all 18 were opened)."""
    open_codes = set(plan.forms.filter(is_open=True).values_list("code", flat=True))
    assert open_codes == {"service", "policy"}
    assert plan.forms.filter(is_open=False).count() == 16


def test_the_public_page_of_a_form_without_its_programme_is_closed_and_takes_nothing(client, plan):
    bureaucracy = plan.forms.get(code="bureaucracy")
    bureaucracy.is_open = True  # opened behind the checks' back (an old database, say)
    bureaucracy.save()
    page = client.get(public_url(bureaucracy))
    assert 'id="closed"' in page.text and 'id="survey-form"' not in page.text
    data = answers_post(bureaucracy, response_id="a1b2c3d4-0000-4000-8000-000000000001")
    submission = submission_from_post(bureaucracy, data, may_assist=False)
    with pytest.raises(SurveyClosed):
        response_submit(form=bureaucracy, submission=submission, ip="10.0.0.1")
    assert Response.objects.count() == 0


def test_opening_a_form_without_its_programme_is_refused_saying_what_to_set(as_user, admin_a, plan):
    response = as_user(admin_a).post(url("toggle", form="bureaucracy"), {"open": "1"}, follow=True)
    assert not SurveyForm.objects.get(code="bureaucracy").is_open
    text = response.content.decode()
    assert "was not opened" in text
    assert "Choose the programme or service surveyed for Bureaucratic governance in the survey plan" in text
    with pytest.raises(FormNotReady) as caught:
        form_set_open(form=plan.forms.get(code="bureaucracy"), is_open=True)
    assert caught.value.subdimensions == ["bureaucracy"]


def test_a_combined_form_opens_once_each_service_is_named_and_names_them_all(client, world, e_padi, lapor):
    """Governance combined covers service, policy and bureaucracy: with two named it stays
    closed; with the third named it opens, and its page heads each group of statements with
    its service."""
    spkd = Programme.objects.create(
        region=world.region_a, name="Satu Data Deli", dimension="governance", subdimension="bureaucracy",
        owner=world.opd_health, status="running", start_year=2021,
    )  # fmt: skip
    entries = {"service": EntryInput(programme=e_padi), "policy": EntryInput(programme=lapor)}
    data = PlanInput(target=50, demographics=False, modes={"governance": "combined"}, entries=entries)
    plan = plan_save(participation=world.participation_a, data=data)
    assert forms_generate(plan=plan).unnamed.count("governance") == 1
    assert not plan.forms.get(code="governance").is_open
    entries["bureaucracy"] = EntryInput(programme=spkd)
    plan_save(participation=world.participation_a, data=PlanInput(**{**data.__dict__, "entries": entries}))
    form_set_open(form=plan.forms.get(code="governance"), is_open=True)
    text = client.get(public_url(plan.forms.get(code="governance"))).content.decode()
    headings = re.findall(r'<h2 class="service-heading">About: (.*?)</h2>', text)
    assert headings == [
        "E-Padi (Dinkes)",
        "Lapor Bupati (Disdik)",
        "Satu Data Deli (Dinkes)",
    ]


def test_the_badges_say_what_the_public_page_does(as_user, admin_a, plan, world):
    overview = as_user(admin_a).get(url("overview")).content.decode()
    assert _badge(overview, "service") == "open"
    assert _badge(overview, "bureaucracy") == "unnamed"
    form_set_open(form=plan.forms.get(code="policy"), is_open=False)
    assert _badge(as_user(admin_a).get(url("overview")).content.decode(), "policy") == "closed"
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    overview = as_user(admin_a).get(url("overview")).content.decode()
    # The link's own switch still says open, but the public page is closed: so is the badge.
    assert plan.forms.get(code="service").is_open
    assert _badge(overview, "service") == "cycle_closed"
    assert ">open<" not in overview


def test_each_link_has_a_copy_button_hidden_without_script_and_a_selectable_box(as_user, admin_a, plan):
    html = as_user(admin_a).get(url("overview")).content.decode()
    link = "http://testserver" + public_url(plan.forms.get(code="service"))
    assert f'id="link-service" class="link-box select-on-focus" type="text" readonly value="{link}"' in html
    assert re.search(
        r'<button type="button" class="secondary copy-link" data-copy="link-service"[^>]* hidden>', html
    )


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_the_qr_code_is_a_download_of_its_kind(as_user, admin_a, plan, kind):
    response = as_user(admin_a).get(url("qr", form="service", kind=kind))
    assert response.status_code == 200
    assert response["Content-Type"] == {"png": "image/png", "svg": "image/svg+xml"}[kind]
    assert (
        response["Content-Disposition"] == f'attachment; filename="survey-kab-deli-serdang-service-qr.{kind}"'
    )
    assert response.content.startswith(b"\x89PNG" if kind == "png" else b"<svg")
    # Opened on its own (an SVG is a document), it runs nothing: the stored-upload sandbox.
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_qr_png_decodes_to_the_forms_public_link(as_user, opd_a, plan):
    response = as_user(opd_a).get(url("qr", form="service", kind="png"))
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [d.text for d in decoded] == ["http://testserver" + public_url(plan.forms.get(code="service"))]


def test_an_unknown_qr_kind_is_404(as_user, admin_a, plan):
    assert as_user(admin_a).get(url("qr", form="service", kind="gif")).status_code == 404


def test_the_api_reports_the_status_the_public_page_has(as_user, admin_a, plan, world):
    """Before the fix the API said ``is_open: true`` for every generated form, and for forms of a
    closed cycle."""
    api = f"/api/regions/kab-deli-serdang/cycles/{world.cycle.slug}/survey/forms"
    forms = {f["code"]: f for f in as_user(admin_a).get(api).json()}
    assert (forms["service"]["is_open"], forms["service"]["status"]) == (True, "open")
    assert (forms["bureaucracy"]["is_open"], forms["bureaucracy"]["status"]) == (False, "unnamed")
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    forms = {f["code"]: f for f in as_user(admin_a).get(api).json()}
    assert (forms["service"]["is_open"], forms["service"]["status"]) == (False, "cycle_closed")


def test_the_page_names_the_service_as_it_is_now_and_the_opd_by_its_full_name_without_a_short_one(
    client, plan, e_padi
):
    """The service line is read on each request (the page keeps nothing): a renamed programme
    and an OPD without a short name show at once, the OPD as ``str(Opd)`` writes it."""
    form = plan.forms.get(code="service")
    page = client.get(public_url(form)).content.decode()
    assert re.search(r'<p id="services">About: E-Padi \(Dinkes\)</p>', page)
    Programme.objects.filter(pk=e_padi.pk).update(name="E-Padi 2")
    e_padi.owner.short_name = ""
    e_padi.owner.save()
    page = client.get(public_url(form)).content.decode()
    assert f'<p id="services">About: E-Padi 2 ({e_padi.owner.name})</p>' in page
