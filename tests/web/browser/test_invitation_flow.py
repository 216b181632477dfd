"""Browser: the coordinator invites a regional admin, opens the demo's outbox, follows the link,
sets a password as the new admin, who sees only that region and invites an OPD contributor,
who follows their own link and lands on their items."""

from __future__ import annotations

from cityeval.web.mail import outbox_messages
from tests.helpers.web import PASSWORD

NEW_PASSWORD = "rendang-minang-2026"


def test_an_invited_regional_admin_reaches_only_their_region_through_the_outbox(
    page, live_server, coordinator, login, settings, tmp_path, browser, screenshot
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.DEMO_OUTBOX = True
    login(page, live_server, "coordinator", PASSWORD)
    page.click("nav >> text=Invitations")
    page.select_option("#admin-region", "kab-deli-serdang")
    page.fill("#admin-name", "Sari")
    page.fill("#admin-email", "sari@example.go.id")
    with page.expect_navigation():
        page.click("#invite-admin [type=submit]")
    assert "Invitation sent to sari@example.go.id" in page.inner_text("body")
    assert "sari@example.go.id" in page.inner_text("#pending-invitations")

    page.click("nav >> text=Outbox")
    with page.expect_navigation():
        page.click("a[href*='/accounts/invitation/']")
    # Still logged in as the coordinator: the page asks to log out first, then comes back.
    with page.expect_navigation():
        page.click("text=Log out and continue")
    page.fill("#id_password1", NEW_PASSWORD)
    page.fill("#id_password2", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("text=Save the password and start")
    assert page.url == f"{live_server.url}/r/kab-deli-serdang/"
    nav = page.inner_text("nav")
    assert "Kab. Deli Serdang" in nav and "Kota Medan" not in nav and "Outbox" not in nav
    assert page.goto("/r/kota-medan/").status == 404
    screenshot(page, "invited-admin-dashboard")

    # The new admin invites a contributor for the health office.
    page.goto("/r/kab-deli-serdang/")
    page.click("main >> text=Invitations")
    page.select_option("#contributor-opd", "dinkes")
    page.fill("#contributor-name", "Tono")
    page.fill("#contributor-email", "tono@example.go.id")
    with page.expect_navigation():
        page.click("#invite-contributor [type=submit]")
    assert "Invitation sent to tono@example.go.id" in page.inner_text("body")

    (message,) = [m for m in outbox_messages(tmp_path / "mail") if m.to == "tono@example.go.id"]
    link = next(word for word in message.text.split() if "/accounts/invitation/" in word)
    contributor = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    contributor.goto(link)
    contributor.fill("#id_password1", NEW_PASSWORD + "-tono")
    contributor.fill("#id_password2", NEW_PASSWORD + "-tono")
    with contributor.expect_navigation():
        contributor.click("text=Save the password and start")
    assert contributor.url == f"{live_server.url}/tasks/"
    contributor.context.close()
