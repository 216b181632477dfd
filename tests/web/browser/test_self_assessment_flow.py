"""The issue's acceptance flow in a real Chromium against a live server.

A regional admin logs in, adds a quick win for an OPD and assigns an item to that OPD; the OPD
contributor answers it with an uploaded PDF; the admin submits; the answer is then read-only.
Screenshots of the main pages land in test-artifacts/screenshots/.
"""

from __future__ import annotations

from cityeval.web.assessments.models import AnswerRevision, Evidence
from cityeval.web.evaluations.models import Participation
from cityeval.web.programmes.models import Programme
from tests.helpers.web import PASSWORD
from tests.web.assessments.helpers import pdf_bytes


def _item_code(world) -> str:
    """An outcome item of gmsc-2024 for the health office; the first one whose code says so."""
    framework = world.cycle.framework.framework
    codes = [i.code for c, i in framework.items_for("REGULER") if c.code == "outcome"]
    return next((code for code in codes if "stunting" in code), codes[0])


def test_admin_assigns_opd_answers_with_pdf_admin_submits_then_read_only(
    world, admin_a, opd_a, page, browser, live_server, login, screenshot, tmp_path
):
    region, cycle, item = world.region_a.slug, world.cycle.slug, _item_code(world)

    # The regional admin adds a quick win owned by the health office.
    login(page, live_server, "admin_a", PASSWORD)
    screenshot(page, "dashboard-regional-admin")
    page.goto(f"/r/{region}/programmes/new/")
    page.fill("#id_name", "Patogen")
    page.select_option("#id_dimension", "living")
    page.select_option("#id_subdimension", "health")
    page.select_option("#id_owner", "dinkes")
    page.select_option("#id_status", "running")
    page.fill("#id_start_year", "2024")
    page.check("#id_is_quick_win")
    screenshot(page, "programme-new")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    quick_win = Programme.objects.get(region=world.region_a, name="Patogen")
    assert quick_win.is_quick_win and quick_win.owner == world.opd_health
    page.goto(f"/r/{region}/")
    assert "Patogen" in page.inner_text("#programmes-per-dimension")

    # ... and assigns an item to that OPD.
    page.goto(f"/r/{region}/{cycle}/self-assessment/")
    page.check(f"#assign-form input[name=items][value='{item}']")
    page.select_option("#assign-opd", "dinkes")
    with page.expect_navigation():
        page.click("#assign-form [type=submit]")
    screenshot(page, "self-assessment-overview")
    assert world.participation_a.assignments.get(item=item).opd == world.opd_health

    # The OPD contributor answers it, with a PDF as evidence.
    contributor = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    login(contributor, live_server, "opd_a", PASSWORD)
    contributor.goto(f"/r/{region}/{cycle}/self-assessment/items/{item}/")
    contributor.fill("#answer-form [name=level]", "3")
    contributor.fill("#answer-form [name=narrative]", "Stunting turun; lihat laporan Dinkes 2024.")
    with contributor.expect_navigation():
        contributor.click("#save-answer")
    pdf = tmp_path / "laporan-stunting-2024.pdf"
    pdf.write_bytes(pdf_bytes("Laporan stunting 2024"))
    contributor.set_input_files("#upload-form input[type=file]", str(pdf))
    with contributor.expect_navigation():
        contributor.click("#upload-form [type=submit]")
    assert "laporan-stunting-2024.pdf" in contributor.inner_text("#evidence")
    screenshot(contributor, "item-answered-by-opd")
    answer = AnswerRevision.objects.get(participation=world.participation_a, item=item)
    assert (answer.level, answer.author) == (3.0, opd_a)
    assert Evidence.objects.get(participation=world.participation_a, item=item).uploaded_by == opd_a

    # The admin submits.
    page.goto(f"/r/{region}/{cycle}/self-assessment/")
    with page.expect_navigation():
        page.click("#submit-form a")
    with page.expect_navigation():
        page.click("#confirm-button")
    assert Participation.objects.get(pk=world.participation_a.pk).submitted_at is not None

    # The answer is now read-only for the contributor: no answer or upload form, a clear notice.
    contributor.goto(f"/r/{region}/{cycle}/self-assessment/items/{item}/")
    assert contributor.locator("#read-only").is_visible()
    assert contributor.locator("#answer-form").count() == 0
    assert contributor.locator("#upload-form").count() == 0
    screenshot(contributor, "item-read-only-after-submission")
    assert AnswerRevision.objects.filter(participation=world.participation_a, item=item).count() == 1
