"""An OPD contributor's day in a real Chromium (issue 11): they log in and land on their task
list, open their first item, type a level and a narrative, upload a PDF without saving first
(the typed answer must survive: it is saved with the upload), then walk to the next item with
the item page's link, and back to the task list, which now counts one item answered."""

from __future__ import annotations

from cityeval.web.assessments.models import AnswerRevision, Evidence, ItemAssignment
from tests.helpers.web import PASSWORD
from tests.web.assessments.helpers import COUNT_ITEM, LEVEL_ITEM, pdf_bytes


def test_opd_contributor_walks_their_tasks_and_keeps_typed_work_across_an_upload(
    world, admin_a, opd_a, page, phone_page, live_server, login, screenshot, tmp_path
):
    for code in (LEVEL_ITEM, COUNT_ITEM):
        ItemAssignment.objects.create(
            participation=world.participation_a, item=code, opd=world.opd_health, assigned_by=admin_a
        )
    region, cycle = world.region_a.slug, world.cycle.slug

    login(page, live_server, "opd_a", PASSWORD)
    assert page.url.endswith("/tasks/")
    assert "0 of 2 items answered, 2 still unanswered." in page.inner_text("main")
    assert "30 days left" in page.inner_text("main") or "29 days left" in page.inner_text("main")
    screenshot(page, "my-tasks-opd-contributor")

    with page.expect_navigation():
        page.click(f"a[href$='/items/{LEVEL_ITEM}/']")
    assert LEVEL_ITEM not in page.title()
    assert "What each level means" in page.inner_text("#level-descriptors")

    # Typed, not saved; then a file is chosen and Upload pressed.
    page.fill("#answer-form [name=level]", "3")
    page.fill("#answer-form [name=narrative]", "Perbup No. 12 Tahun 2024 tentang masterplan smart city.")
    pdf = tmp_path / "perbup-12-2024.pdf"
    pdf.write_bytes(pdf_bytes("Perbup 12/2024"))
    page.set_input_files("#upload-form input[type=file]", str(pdf))
    with page.expect_navigation():
        page.click("#upload-form [type=submit]")
    screenshot(page, "item-after-upload-with-typed-answer")
    assert "perbup-12-2024.pdf" in page.inner_text("#evidence")
    assert "Perbup No. 12 Tahun 2024" in page.inner_text("#current-answer") + page.inner_text("main")
    assert page.input_value("#answer-form [name=narrative]").startswith("Perbup No. 12 Tahun 2024")
    answer = AnswerRevision.objects.get(participation=world.participation_a, item=LEVEL_ITEM)
    assert (answer.level, answer.author, answer.narrative) == (
        3.0,
        opd_a,
        "Perbup No. 12 Tahun 2024 tentang masterplan smart city.",
    )
    assert Evidence.objects.get(item=LEVEL_ITEM).original_name == "perbup-12-2024.pdf"

    # Next item, then back to the list.
    with page.expect_navigation():
        page.click("#next-item")
    assert page.url.endswith(f"/items/{COUNT_ITEM}/")
    assert page.locator("#previous-item").count() == 1 and page.locator("#next-item").count() == 0
    with page.expect_navigation():
        page.click(".item-nav a[href$='/tasks/']")
    assert "1 of 2 items answered, 1 still unanswered." in page.inner_text(f"#tasks-{region}-{cycle}")

    # The same list and an item on a phone: the page itself does not scroll sideways.
    login(phone_page, live_server, "opd_a", PASSWORD)
    for path in ("/tasks/", f"/r/{region}/{cycle}/self-assessment/items/{LEVEL_ITEM}/"):
        phone_page.goto(path)
        width = phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    screenshot(phone_page, "item-phone-opd-contributor")
