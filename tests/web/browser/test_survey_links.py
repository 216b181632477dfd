"""A survey link for a poster (issue 11, item 8): the QR code the regional admin sees on the
survey overview, as Chromium draws it, decodes to the form's public link; the copy button puts
the link on the clipboard; a citizen who scans it lands on the form naming its service.

The QR code is read from a screenshot of the page with zxing-cpp, a decoder independent of
segno, which drew it.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from tests.helpers.web import PASSWORD


def test_the_qr_code_on_the_overview_decodes_to_the_link_and_the_copy_button_copies_it(
    world, admin_a, page, phone_page, live_server, login, screenshot
):
    e_padi = Programme.objects.create(
        region=world.region_a, name="E-Padi", dimension="governance", subdimension="service",
        owner=world.opd_health, status="running", start_year=2023,
    )  # fmt: skip
    plan = plan_save(
        participation=world.participation_a,
        data=PlanInput(
            target=50, demographics=True, modes={}, entries={"service": EntryInput(programme=e_padi)}
        ),
    )
    forms_generate(plan=plan)
    link = f"{live_server.url}/s/{plan.forms.get(code='service').token}/"

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, live_server, "admin_a", PASSWORD)
    page.goto(f"/r/{world.region_a.slug}/{world.cycle.slug}/survey/")
    row = page.locator("#form-service")
    assert row.locator("input.link-box").input_value() == link
    image = row.locator(".qr img")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    shot = Image.open(io.BytesIO(image.screenshot(scale="device")))
    # Drawn at 96 px (2.6 px per module) the code is small: scaled up, as a phone camera sees it.
    shot = shot.resize((shot.width * 4, shot.height * 4), Image.Resampling.NEAREST)
    assert [code.text for code in zxingcpp.read_barcodes(shot)] == [link]
    screenshot(page, "survey-overview-links")

    # Clipboard access is a permission (a browser asks the person); the copy is asynchronous, so
    # the status is waited for rather than read at once.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    row.locator("button.copy-link").click()
    status = row.locator(".copy-status")
    page.wait_for_function("el => el.textContent === 'Link copied'", arg=status.element_handle())
    assert status.inner_text() == "Link copied"
    assert page.evaluate("navigator.clipboard.readText()") == link

    phone_page.goto(link)
    assert "About: E-Padi (Dinkes)" in phone_page.inner_text("#services")
