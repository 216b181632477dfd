"""The planner before evaluation (issue 15): from the region's own self-assessment claims.

The independent check builds the claims as the engine's table here (every REGULER item of
region A, assessor "self", the level that counts — not through the app's ``claims_table``) and
re-scores it with ``score_items`` with one item changed.

Hand values (the claims of tests/web/assessments/test_claimed_index.py; gmsc-2024, REGULER
weights 10/20/30/20/20 %, a component's score = mean of its scored items, unscored items
skipped, a component with none counts 0): claimed index 2.40. Raising

- a quick-win item (none claimed) to 4: quick win 0 → 4, gain 0.2 × 4 = 0.8;
- output.regulation 2 → 4 (output's only claim): gain 0.2 × 2 = 0.4;
- an unclaimed impact item to 4: impact mean(3, 4) = 3.5 against 3, gain 0.2 × 0.5 = 0.1;
- baseline.legal_basis 3 → 4: baseline mean(4, 4) = 4 against 3.5, gain 0.1 × 0.5 = 0.05.

When it is open (as defined in :mod:`cityeval.web.results.planner`): while the cycle is open —
the self-assessment open, submitted, or past its deadline. Before the cycle opens (draft) and
once it is closed or published, the pages refuse with the reason (403, as every page refusal).
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook

from cityeval.engine import score_items
from cityeval.web.assessments.models import AnswerRevision, ItemAssignment
from cityeval.web.evaluations.models import Cycle
from tests.web.results.helpers import pdf_text

REGION_A, CYCLE = "kab-deli-serdang", "gmsc-2024"
PLANNER = f"/r/{REGION_A}/{CYCLE}/self-assessment/planner/"
EXPORT = PLANNER + "action-plan.xlsx"
PDF = PLANNER + "action-plan.pdf"
URLS = [PLANNER, EXPORT, PDF]
OVERVIEW = f"/r/{REGION_A}/{CYCLE}/self-assessment/"

# item → the level that counts (outcome.realisation_governance: 65 % ≥ 60 % → level 3;
# baseline.programmes_last_year has a count without thresholds: no level)
COUNTED = {
    "baseline.legal_basis": 3.0,
    "baseline.council_meeting": 4.0,
    "output.regulation": 2.0,
    "outcome.realisation_governance": 3.0,
    "outcome.audit_opinion": 4.0,
    "impact.service.1": 3.0,
}
CLAIMED_FINAL = 2.40
COMPONENTS = {"baseline", "output", "outcome", "impact", "quick_win"}


@pytest.fixture
def claims(world, admin_a):
    def answer(item, *, level=None, raw_value=None, participation=None):
        AnswerRevision.objects.create(
            participation=participation or world.participation_a,
            item=item,
            level=level,
            raw_value=raw_value,
            narrative="",
            author=admin_a,
        )

    answer("baseline.legal_basis", level=3)
    answer("baseline.council_meeting", level=2)
    answer("baseline.council_meeting", level=4)  # the latest revision counts
    answer("baseline.programmes_last_year", raw_value=12)
    answer("output.regulation", level=2)
    answer("outcome.realisation_governance", raw_value=65)
    answer("outcome.audit_opinion", level=4)
    answer("impact.service.1", level=3)
    answer("quick_win.benefits", level=4, participation=world.participation_b)  # B's, not A's
    return world


def _claimed_final(framework, changes: dict[str, float] | None = None) -> float:
    """Region A's claims re-scored by the engine, ``changes`` (item → level) applied."""
    levels = {**COUNTED, **(changes or {})}
    codes = [item.code for _component, item in framework.items_for("REGULER")]
    table = pl.DataFrame(
        {
            "region": ["A"] * len(codes),
            "group": ["REGULER"] * len(codes),
            "item": codes,
            "assessor": ["self"] * len(codes),
            "score": [levels.get(code) for code in codes],
        },
        schema={
            "region": pl.String,
            "group": pl.String,
            "item": pl.String,
            "assessor": pl.String,
            "score": pl.Float64,
        },
    )
    return float(score_items(table, framework).regions["final"][0])


def _row(response, item: str):
    return next(r for r in response.context["rows"] if r.item == item)


# --- who may plan ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["admin_a", "coordinator"])
def test_the_regional_admin_and_the_coordinator_plan_from_the_claims(claims, as_user, persona, name):
    client = as_user(persona(name))
    for url in URLS:
        assert client.get(url).status_code == 200, url
    assert b'id="claims-planner-link"' in client.get(OVERVIEW).content


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "assessor", "nobody"])
def test_outsiders_get_404(claims, as_user, persona, name):
    client = as_user(persona(name))
    for url in URLS:
        assert client.get(url).status_code == 404, url


def test_an_opd_contributor_of_the_region_gets_403_and_no_link(claims, as_user, opd_a):
    client = as_user(opd_a)
    for url in URLS:
        assert client.get(url).status_code == 403, url
    assert b'id="claims-planner-link"' not in client.get(OVERVIEW).content


def test_anonymous_visitors_are_sent_to_log_in(claims, as_user):
    client = as_user(None)
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_an_unknown_cycle_is_404(claims, as_user, admin_a):
    assert as_user(admin_a).get(f"/r/{REGION_A}/no-such-cycle/self-assessment/planner/").status_code == 404


# --- when ----------------------------------------------------------------------------------------


def test_a_submitted_or_past_deadline_self_assessment_still_plans(claims, as_user, admin_a):
    claims.participation_a.submitted_at = timezone.now()
    claims.participation_a.save()
    assert as_user(admin_a).get(PLANNER).status_code == 200
    claims.cycle.self_assessment_deadline = timezone.now() - dt.timedelta(days=1)
    claims.cycle.save()
    page = as_user(admin_a).get(PLANNER)
    assert page.status_code == 200 and page.context["final"] == pytest.approx(CLAIMED_FINAL)


def test_before_the_cycle_opens_the_planner_refuses_with_the_reason(claims, as_user, admin_a, coordinator):
    Cycle.objects.filter(pk=claims.cycle.pk).update(status=Cycle.Status.DRAFT)
    for user in (admin_a, coordinator):
        for url in URLS:
            response = as_user(user).get(url)
            assert response.status_code == 403, url  # a page's refusal, with the reason
            assert "opens with the self-assessment" in response.content.decode(), url
        assert b'id="claims-planner-link"' not in as_user(user).get(OVERVIEW).content


@pytest.mark.parametrize("status", [Cycle.Status.CLOSED, Cycle.Status.PUBLISHED])
def test_once_the_cycle_is_closed_the_planner_points_to_the_results(claims, as_user, admin_a, status):
    Cycle.objects.filter(pk=claims.cycle.pk).update(status=status)
    for url in URLS:
        response = as_user(admin_a).get(url)
        assert response.status_code == 403, url  # a page's refusal, with the reason
        assert "Plan from the results once they are published" in response.content.decode(), url
    assert b'id="claims-planner-link"' not in as_user(admin_a).get(OVERVIEW).content


def test_an_outsider_learns_nothing_from_the_cycle_s_status(claims, as_user, admin_b, opd_a):
    Cycle.objects.filter(pk=claims.cycle.pk).update(status=Cycle.Status.CLOSED)
    assert as_user(admin_b).get(PLANNER).status_code == 404
    assert as_user(opd_a).get(PLANNER).status_code == 403


# --- the gains are the engine's re-scoring of the claims ----------------------------------------


def test_the_current_final_is_the_claimed_index(claims, as_user, admin_a):
    framework = claims.cycle.framework.framework
    assert _claimed_final(framework) == pytest.approx(CLAIMED_FINAL)
    page = as_user(admin_a).get(PLANNER)
    assert page.context["final"] == pytest.approx(CLAIMED_FINAL)
    assert '<div class="big" id="planner-final">2.40</div>' in page.content.decode()


def test_each_gain_is_the_claims_rescored_with_that_item_changed(claims, as_user, admin_a):
    framework = claims.cycle.framework.framework
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    rows = page.context["rows"]
    expected_items = {item.code for _c, item in framework.items_for("REGULER")}
    below = {code for code in expected_items if COUNTED.get(code, 0) < 4}
    assert {row.item for row in rows} == below  # every item not claimed at 4 is a candidate
    for row in rows:
        assert row.current == COUNTED.get(row.item)
        new_final = _claimed_final(framework, {row.item: 4.0})
        assert row.new_final == pytest.approx(new_final, abs=1e-12), row.item
        assert row.gain_final == pytest.approx(new_final - CLAIMED_FINAL, abs=1e-12), row.item
        assert row.new_rank is None


def test_the_gains_match_the_hand_calculation(claims, as_user, admin_a):
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    rows = page.context["rows"]
    assert [row.item for row in rows[:12]] == sorted(r.item for r in rows if r.item.startswith("quick_win."))
    assert all(row.gain_final == pytest.approx(0.8) for row in rows[:12])
    assert rows[12].item == "output.regulation" and rows[12].gain_final == pytest.approx(0.4)
    assert _row(page, "impact.service.2").gain_final == pytest.approx(0.1)
    assert _row(page, "baseline.legal_basis").gain_final == pytest.approx(0.05)
    # a lower target: items claimed at 3 or more are not listed, and the gain follows the level
    lower = as_user(admin_a).get(PLANNER, {"top": "0", "target": "3"})
    assert "baseline.legal_basis" not in {row.item for row in lower.context["rows"]}
    assert _row(lower, "output.regulation").gain_final == pytest.approx(0.2 * 1)


def test_with_no_claims_each_item_would_score_its_empty_component(world, as_user, admin_a):
    """No claim: every component counts 0, so raising one item to 4 gives its component 4 —
    a gain of weight × 4: outcome 1.2, output, impact and quick win 0.8, baseline 0.4."""
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    assert page.status_code == 200 and page.context["final"] == 0.0
    gains = {row.item.split(".")[0]: round(row.gain_final, 12) for row in page.context["rows"]}
    assert gains == {"outcome": 1.2, "output": 0.8, "impact": 0.8, "quick_win": 0.8, "baseline": 0.4}
    assert page.context["rows"][0].item.startswith("outcome.")


def test_the_simulation_is_the_claims_rescored(claims, as_user, admin_a):
    framework = claims.cycle.framework.framework
    chosen = ["output.regulation", "baseline.legal_basis", "quick_win.benefits"]
    page = as_user(admin_a).get(PLANNER, {"item": chosen})
    simulation = page.context["simulation"]
    expected = _claimed_final(framework, dict.fromkeys(chosen, 4.0))
    assert expected == pytest.approx(CLAIMED_FINAL + 0.4 + 0.05 + 0.8)
    assert simulation["final"] == pytest.approx(expected, abs=1e-12)
    assert simulation["rank"] is None
    html = page.content.decode()
    assert 'id="simulated-rank"' not in html


def test_ranks_are_labelled_unavailable(claims, as_user, admin_a):
    html = as_user(admin_a).get(PLANNER).content.decode()
    assert 'id="rank-unavailable"' in html and "Not available before evaluation" in html
    assert "New national rank" not in html
    assert 'id="claims-source"' in html


def test_an_opd_s_claim_is_the_region_s_claim_the_planner_reads(claims, as_user, admin_a, opd_a):
    """The latest revision counts, whoever wrote it (an OPD contributor's answer too)."""
    AnswerRevision.objects.create(
        participation=claims.participation_a, item="output.regulation", level=4, narrative="", author=opd_a
    )
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    assert "output.regulation" not in {row.item for row in page.context["rows"]}
    assert page.context["final"] == pytest.approx(CLAIMED_FINAL + 0.4)


# --- the action plan ------------------------------------------------------------------------------


def _assign(world, admin_a):
    for code, opd in (
        ("output.regulation", world.opd_health),
        ("baseline.legal_basis", world.opd_health),
        ("impact.service.2", world.opd_education),
    ):
        ItemAssignment.objects.create(
            participation=world.participation_a, item=code, opd=opd, assigned_by=admin_a
        )


CHOSEN = ["output.regulation", "baseline.legal_basis", "impact.service.2", "quick_win.benefits"]


def test_the_xlsx_holds_the_rows_per_opd_without_ranks(claims, as_user, admin_a):
    _assign(claims, admin_a)
    response = as_user(admin_a).get(EXPORT, {"item": CHOSEN})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('claimed-action-plan-kab-deli-serdang-gmsc-2024.xlsx"')
    values = [
        list(row) for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert "claimed index" in values[0][0]
    assert "not available before evaluation" in values[1][0]
    assert values[2] == [
        "OPD", "Item", "Item name", "Component", "Current score", "Target",
        "Gain in claimed index", "New claimed index",
    ]  # fmt: skip
    items = [row for row in values[3:] if row[1] is not None]
    by_opd: dict[str, list[str]] = {}
    for row in items:
        by_opd.setdefault(row[0], []).append(row[1])
    assert by_opd == {
        "Dinas Kesehatan": ["output.regulation", "baseline.legal_basis"],  # 0.4, then 0.05
        "Dinas Pendidikan": ["impact.service.2"],
        "Not assigned to an OPD": ["quick_win.benefits"],
    }
    first = next(row for row in items if row[1] == "output.regulation")
    assert first[4:8] == [2.0, 4.0, pytest.approx(0.4), pytest.approx(CLAIMED_FINAL + 0.4)]


def _groups(text: str) -> dict[str, list[str]]:
    """The PDF's item codes under each OPD heading (in reading order)."""
    heads = ("Dinas Kesehatan", "Dinas Pendidikan", "Not assigned to an OPD", "Belum ditugaskan ke OPD")
    groups: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in heads:
            current = stripped
            groups[current] = []
        elif current and stripped.split(".")[0] in COMPONENTS:
            groups[current].append(stripped.split()[0])
    return groups


def test_the_pdf_holds_the_same_rows_per_opd(claims, as_user, admin_a):
    _assign(claims, admin_a)
    response = as_user(admin_a).get(PDF, {"item": CHOSEN})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('claimed-action-plan-kab-deli-serdang-gmsc-2024.pdf"')
    text = pdf_text(response.content)
    assert "Action plan of Kab. Deli Serdang from the claimed index" in text
    assert _groups(text) == {
        "Dinas Kesehatan": ["output.regulation", "baseline.legal_basis"],
        "Dinas Pendidikan": ["impact.service.2"],
        "Not assigned to an OPD": ["quick_win.benefits"],
    }
    line = next(line for line in text.splitlines() if line.strip().startswith("output.regulation"))
    assert "2.00" in line and "+0.4000" in line and "2.80" in line
    assert "New national rank" not in text


def test_without_a_choice_the_pdf_holds_the_listed_items(claims, as_user, admin_a):
    text = pdf_text(as_user(admin_a).get(PDF, {"top": "10"}).content)
    assert [code for codes in _groups(text).values() for code in codes] == [
        f"quick_win.{c}" for c in _quick_wins(claims)[:10]
    ]


def _quick_wins(world) -> list[str]:
    framework = world.cycle.framework.framework
    return sorted(
        item.code.removeprefix("quick_win.")
        for _c, item in framework.items_for("REGULER")
        if item.code.startswith("quick_win.")
    )


# --- the page's language -------------------------------------------------------------------------


def test_the_page_and_the_pdf_are_in_indonesian(claims, as_user, admin_a):
    _assign(claims, admin_a)
    _component, item = claims.cycle.framework.framework.items_by_code["output.regulation"]
    client = as_user(admin_a)
    client.cookies["django_language"] = "id"
    page = client.get(PLANNER, {"top": "0"}).content.decode()
    assert "Langkah berikutnya" in page
    assert "Sebelum evaluasi" in page and "Indeks klaim" in page
    assert escape(item.label.id) in page
    overview = client.get(OVERVIEW).content.decode()
    assert 'id="claims-planner-link"' in overview and "indeks klaim" in overview
    text = pdf_text(client.get(PDF, {"item": CHOSEN}).content)
    assert "Rencana aksi" in text and "Belum ditugaskan ke OPD" in text
    assert "Nama butir" in text
    assert item.label.id.split()[0] in text
    line = next(line for line in text.splitlines() if line.strip().startswith("output.regulation"))
    assert "2,00" in line and "+0,4000" in line  # the Indonesian decimal mark
    assert _groups(text)["Belum ditugaskan ke OPD"] == ["quick_win.benefits"]
    sheet = load_workbook(io.BytesIO(client.get(EXPORT, {"item": CHOSEN}).content)).active
    assert list(sheet.iter_rows(values_only=True))[2][2] == "Nama butir"


def test_claims_planner_speaks_of_the_claimed_index_not_the_final(claims, as_user, admin_a):
    """Before evaluation the gains are in the region's claimed index, not in the final (the
    assessors' index): the table, its name and the action plan's columns say so."""
    html = as_user(admin_a).get(PLANNER).content.decode()
    assert "Claimed index" in html
    assert "Gain in final" not in html and "Items that would raise the final most" not in html
    assert "Gain in claimed index" in html and "Items that would raise the claimed index most" in html


def test_claims_action_plan_columns_speak_of_the_claimed_index(claims, as_user, admin_a):
    content = as_user(admin_a).get(EXPORT).content
    sheet = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[3]]
    assert header[-2:] == ["Gain in claimed index", "New claimed index"], header
