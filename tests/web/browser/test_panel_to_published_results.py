"""Issue acceptance, in a real Chromium against a live server: panels to published results.

A coordinator forms a panel and assigns the region; two assessors score blind (the second
cannot see the first's scores before submitting); the chair consolidates one flagged item; the
coordinator closes and publishes; the region page shows the final and the PDF letter
downloads and renders non-blank pages (pdftoppm).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.contrib.auth import get_user_model

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_run
from cityeval.web.panels.models import ConsolidatedScore, ItemScore
from cityeval.web.results.models import RegionResult
from tests.helpers.web import PASSWORD

FLAGGED = "baseline.legal_basis"
REGION = "kab-deli-serdang"
SCORING = f"/panels/cycles/gmsc-2024/stage_2/{REGION}/"
FLAGGED_ROW = "tr#item-" + FLAGGED.replace(".", "\\.")  # a CSS id selector escapes the dot


def _assessor(username: str):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Membership.objects.create(user=user, role=Role.ASSESSOR)
    return user


def _submit(page, selector: str) -> None:
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click(selector)


def _score_everything(page, *, default: str, flagged: str) -> None:
    page.goto(SCORING)
    page.eval_on_selector_all(
        "input[name^='score-']", "(inputs, value) => inputs.forEach(i => { i.value = value; })", default
    )
    page.fill(f"input[name='score-{FLAGGED}']", flagged)
    _submit(page, "#scores-form [type=submit]")


def _non_blank_pages(pdf: bytes, tmp_path) -> int:
    """Render with pdftoppm (grey PGM) and count pages that have some non-white pixels."""
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(source), str(tmp_path / "page")], check=True)
    inked = 0
    for image in sorted(tmp_path.glob("page*.pgm")):
        data = image.read_bytes()
        # P5 header: magic, width height, maxval, then one byte per pixel.
        header_end = data.index(b"\n", data.index(b"\n", data.index(b"\n") + 1) + 1) + 1
        inked += any(byte < 200 for byte in data[header_end:])
    return inked


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_panel_scores_blind_consolidates_and_publishes(
    world, coordinator, browser, live_server, page, login, screenshot, tmp_path
):
    _assessor("asesor1"), _assessor("asesor2")

    # The coordinator forms a Stage II panel with a chair and assigns the region.
    login(page, live_server, "coordinator", PASSWORD)
    page.goto("/panels/cycles/gmsc-2024/")
    page.select_option("#panel-form [name=stage]", "stage_2")
    page.fill("#panel-form [name=name]", "Panel 1")
    _submit(page, "#panel-form [type=submit]")
    for username, affiliation, chair in (("asesor1", "university", True), ("asesor2", "ministry", False)):
        page.select_option("#member-form [name=user]", username)
        page.select_option("#member-form [name=affiliation]", affiliation)
        if chair:
            page.check("#member-form [name=is_chair]")
        _submit(page, "#member-form [type=submit]")
    page.fill("#region-form #find", "Deli")  # found by name, not picked from a long dropdown
    _submit(page, "#region-form [role=search] [type=submit]")
    _submit(page, f"#pick-{REGION}")
    screenshot(page, "panel-detail")
    assert "Kab. Deli Serdang" in page.inner_text("#regions")

    # Assessor 1 (the chair) scores every item and submits.
    first = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    login(first, live_server, "asesor1", PASSWORD)
    _score_everything(first, default="3", flagged="4")
    _submit(first, "#submit-form [type=submit]")

    # Assessor 2 sees none of assessor 1's scores before submitting their own.
    second = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    login(second, live_server, "asesor2", PASSWORD)
    second.goto(SCORING)
    assert second.locator("#blind").is_visible()
    assert "Other members" not in second.inner_text("main")
    assert second.goto(SCORING + "consolidation/").status in (403, 404)
    screenshot(second, "scoring-blind")
    _score_everything(second, default="3", flagged="1")
    _submit(second, "#submit-form [type=submit]")
    second.goto(SCORING)
    assert "Other members" in second.inner_text("main")  # after submitting, the others' scores show
    assert ItemScore.objects.filter(item=FLAGGED).count() == 2

    # The chair consolidates the flagged item (4 and 1: a range of three levels).
    first.goto(SCORING + "consolidation/")
    row = first.locator(FLAGGED_ROW)
    assert "flagged" in (row.get_attribute("class") or "")
    row.locator("input[name=score]").fill("3")
    row.locator("input[name=reason]").fill("Dasar hukum ada (Perbup), tetapi belum diperbarui.")
    _submit(first, f"{FLAGGED_ROW} form.consolidate [type=submit]")
    screenshot(first, "consolidation")
    assert ConsolidatedScore.objects.get(item=FLAGGED).score == 3.0

    # The coordinator closes the cycle, computes and publishes.
    page.goto("/cycles/gmsc-2024/")
    _submit(page, "#close-link")
    _submit(page, "#confirm-button")
    page.goto("/results/gmsc-2024/")
    _submit(page, "#compute-form [type=submit]")  # queued: the job's page
    job = Job.objects.get(kind=Job.Kind.RESULTS_COMPUTE)
    assert page.url.endswith(f"/jobs/{job.pk}/")
    job_run(job_id=job.pk)  # what the worker (cityeval worker) does
    page.goto(f"/jobs/{job.pk}/")
    _submit(page, "#job-result-link")
    _submit(page, "#publish-form [type=submit]")
    _submit(page, "#confirm-button")
    assert page.inner_text("#cycle-status") in ("Published", "Dipublikasikan")
    screenshot(page, "results-national")

    # The region page shows the final; the letter downloads and renders.
    page.goto(f"/r/{REGION}/gmsc-2024/results/")
    final = RegionResult.objects.get(region__slug=REGION, run__is_current=True).final
    assert page.inner_text("#final") == f"{final:.2f}"
    screenshot(page, "results-region")
    letter = page.request.get(f"/r/{REGION}/gmsc-2024/results/letter.pdf")
    assert letter.status == 200 and letter.headers["content-type"] == "application/pdf"
    assert letter.body().startswith(b"%PDF") and _non_blank_pages(letter.body(), tmp_path) >= 1
