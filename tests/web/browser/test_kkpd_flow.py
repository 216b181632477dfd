"""KKPD in a real Chromium: the administrator imports a statement, sees the flags and explains
one; the region attaches the KKPD summary to a self-assessment item; the dashboard reads on a
390 px phone without sideways scrolling."""

from __future__ import annotations

from cityeval.web.assessments.models import Evidence
from cityeval.web.kkpd.models import Flag, FlagStatusChange
from tests.helpers.kkpd import STATEMENT
from tests.helpers.web import PASSWORD

ITEM = "baseline.legal_basis"


def test_admin_imports_sees_flags_explains_one_and_the_region_attaches_the_summary(
    world,
    kkpd,
    kkpd_admin,
    admin_a,
    page,
    phone_page,
    live_server,
    login,
    screenshot,
    tmp_path,
):
    region = world.region_a.slug
    statement = tmp_path / "bank-sumut-juni-2024.csv"
    statement.write_text(STATEMENT, encoding="utf-8")

    login(page, live_server, "kkpd_admin", PASSWORD)
    page.goto(f"/r/{region}/kkpd/import/")
    page.select_option("#bank", str(kkpd.public_id))
    page.set_input_files("#file", str(statement))
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert "3 transactions added" in page.inner_text(".messages")
    flags = page.inner_text("#flags")
    assert "card_type_mismatch" in flags and "outside_working_days" in flags
    screenshot(page, "kkpd-flags")

    flag = Flag.objects.get(rule="card_type_mismatch")
    row = f"#flag-{flag.public_id}"
    page.select_option(f"{row} select[name=status]", "explained")
    page.fill(f"{row} input[name=reason]", "Hotel untuk pelatihan; dibebankan ke belanja barang")
    with page.expect_navigation():
        page.click(f"{row} [type=submit]")
    flag.refresh_from_db()
    assert flag.status == "explained"
    change = FlagStatusChange.objects.get(flag=flag)
    assert (change.changed_by.username, change.reason) == (
        "kkpd_admin",
        "Hotel untuk pelatihan; dibebankan ke belanja barang",
    )
    assert "Hotel untuk pelatihan" in page.inner_text(row)

    login(phone_page, live_server, "kkpd_admin", PASSWORD)
    phone_page.goto(f"/r/{region}/kkpd/")
    assert phone_page.locator("svg.bars").count() == 2
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone_page, "kkpd-dashboard-phone")

    admin = page.context.browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    login(admin, live_server, "admin_a", PASSWORD)
    admin.goto(f"/r/{region}/{world.cycle.slug}/self-assessment/items/{ITEM}/")
    assert admin.locator("#kkpd a").get_attribute("href") == f"/public/{region}/kkpd/"
    admin.fill("#kkpd-year", "2024")
    with admin.expect_navigation():
        admin.click("#kkpd-form [type=submit]")
    assert f"kkpd-summary-{region}-2024.pdf" in admin.inner_text("#evidence")
    assert Evidence.objects.get().blob.content_type == "application/pdf"
    screenshot(admin, "kkpd-summary-attached")
