"""The people pages on a 390 px phone, in Indonesian (the site's default language, with the
longer labels): the page itself never scrolls sideways (a wide table scrolls inside its
frame), and a regional admin deactivates a contributor through the confirmation page there."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from cityeval.web.accounts.models import Invitation, Membership, Role
from tests.helpers.browser import PHONE
from tests.helpers.web import PASSWORD

WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"


def _long_names(*users) -> None:
    for n, user in enumerate(users):
        user.first_name, user.last_name = "Raden Ayu Kartika", f"Purbaningrum Wijayakusuma {n}"
        user.email = f"kartika.purbaningrum.{n}@dinaskesehatan.kabupatendeliserdang.go.id"
        user.save()


def _fits(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert page.evaluate("document.documentElement.lang") == "id"
    width, window = page.evaluate(WIDTH)
    assert width <= window <= PHONE["width"], (path, width, window)


def test_the_people_pages_fit_a_phone_and_a_contributor_is_deactivated_there(
    world, coordinator, admin_a, opd_a, opd_a2, admin_b, phone_page, live_server, login, screenshot
):
    _long_names(admin_a, opd_a, opd_a2)
    now = timezone.now()
    Invitation.objects.create(
        ref="inv-phone", digest=Invitation.digest_of("inv-phone"), email="dewi.anggraini@dinkes.go.id",
        name="Dewi Anggraini", role=Role.OPD_CONTRIBUTOR, region=world.region_a, opd=world.opd_health,
        invited_by=admin_a, sent_at=now, expires_at=now + dt.timedelta(days=7),
    )  # fmt: skip
    page = phone_page
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "id", "url": live_server.url}])
    region_page = f"/accounts/people/r/{world.region_a.slug}/"

    login(page, live_server, "admin_a", PASSWORD)
    _fits(page, region_page)
    screenshot(page, "phone-id-people-region")
    page.click("#member-2 button")  # opd_a, the first contributor: Nonaktifkan…
    page.wait_for_selector("#confirm-button")
    page.fill("#reason", "Pindah tugas")
    with page.expect_navigation():
        page.click("#confirm-button")
    assert "Aktifkan kembali" in page.inner_text("#members")  # its button now reactivates
    assert not Membership.objects.get(user=opd_a).active

    page.context.clear_cookies()
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "id", "url": live_server.url}])
    login(page, live_server, "coordinator", PASSWORD)
    _fits(page, "/accounts/people/")
    screenshot(page, "phone-id-people")
