"""The planner before evaluation (issue 15): from the region's own self-assessment claims.

The independent check builds the claims as the engine's table here (every REGULER item of
region A, assessor "self", the level that counts — not through the app's ``claims_table``) and
re-scores it with ``score_items`` with one item changed.

Hand values (the claims of tests/web/assessments/test_claimed_index.py; gmsc-2024, REGULER
weights 10/20/30/20/20 %, a component's score = mean of its scored items, unscored items
skipped, a component with none counts 0): claimed index 0.1 × 3.5 + 0.2 × 2 + 0.3 × 3.5 +
0.2 × 3 + 0.2 × 0 = 2.40. Raising the answered items below 4, best first:

- output.regulation 2 → 4 (output's only claim): gain 0.2 × 2 = 0.4;
- impact.service.1 3 → 4 (impact's only claim): gain 0.2 × 1 = 0.2;
- outcome.realisation_governance 3 → 4: outcome mean(4, 4) = 4 against 3.5, gain 0.3 × 0.5 = 0.15;
- baseline.legal_basis 3 → 4: baseline mean(4, 4) = 4 against 3.5, gain 0.1 × 0.5 = 0.05.

An unanswered item is out of its component's mean, so "raising" it is answering it, not a
comparable gain (a quick-win item would "gain" 0.2 × 4 = 0.8, an impact item 0.2 × 0.5 = 0.1):
those are not ranked but listed apart, by component. With no claim at all nothing is ranked.

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
    below = {code for code, level in COUNTED.items() if level < 4}
    assert {row.item for row in rows} == below  # every answered item not claimed at 4
    for row in rows:
        assert row.current == COUNTED.get(row.item)
        new_final = _claimed_final(framework, {row.item: 4.0})
        assert row.new_final == pytest.approx(new_final, abs=1e-12), row.item
        assert row.gain_final == pytest.approx(new_final - CLAIMED_FINAL, abs=1e-12), row.item
        assert row.new_rank is None


def test_the_gains_match_the_hand_calculation(claims, as_user, admin_a):
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    rows = page.context["rows"]
    assert [(row.item, round(row.gain_final, 12)) for row in rows] == [
        ("output.regulation", 0.4),
        ("impact.service.1", 0.2),
        ("outcome.realisation_governance", 0.15),
        ("baseline.legal_basis", 0.05),
    ]
    assert page.context["candidates"] == 4
    assert "4 answered items are below the target level." in page.content.decode()
    # a lower target: items claimed at 3 or more are not listed, and the gain follows the level
    lower = as_user(admin_a).get(PLANNER, {"top": "0", "target": "3"})
    assert "baseline.legal_basis" not in {row.item for row in lower.context["rows"]}
    assert _row(lower, "output.regulation").gain_final == pytest.approx(0.2 * 1)


def test_with_no_claims_nothing_is_ranked_and_the_page_points_to_the_self_assessment(world, as_user, admin_a):
    """No claim: every component counts 0, so each item would "gain" its component's weight × 4
    (every outcome item 1.2, ...): a ranking of nothing. The page says so and links to the
    self-assessment; the action plan files refuse with the same reason."""
    client = as_user(admin_a)
    page = client.get(PLANNER, {"top": "0"})
    assert page.status_code == 200 and page.context["final"] == 0.0
    assert page.context["rows"] == [] and page.context["no_claims"]
    html = page.content.decode()
    assert 'id="no-claims"' in html and "No claim counts yet" in html
    assert f'<a href="{OVERVIEW}" id="no-claims-link">' in html
    assert 'id="planner-table"' not in html and 'id="planner-simulate"' not in html
    assert 'id="unanswered"' not in html  # every item: the message says it
    for url in (EXPORT, PDF):
        refused = client.get(url)
        assert refused.status_code == 403 and "No claim counts yet" in refused.content.decode(), url
    client.cookies["django_language"] = "id"
    indonesian = client.get(PLANNER).content.decode()
    assert "Belum ada klaim yang dihitung" in indonesian and "Buka penilaian mandiri" in indonesian


def test_a_claim_with_no_level_is_not_a_claim_to_plan_from(world, as_user, admin_a):
    """A count answered without thresholds gives no level: with only that, nothing counts."""
    AnswerRevision.objects.create(
        participation=world.participation_a,
        item="baseline.programmes_last_year",
        raw_value=12,
        narrative="",
        author=admin_a,
    )
    page = as_user(admin_a).get(PLANNER)
    assert page.context["no_claims"] and page.context["rows"] == []


def test_unanswered_items_are_listed_apart_by_component(claims, as_user, admin_a):
    framework = claims.cycle.framework.framework
    page = as_user(admin_a).get(PLANNER, {"top": "0"})
    ranked = {row.item for row in page.context["rows"]}
    groups = page.context["unanswered"]
    listed = {code: group.component for group in groups for code, _label in group.items}
    expected = {
        item.code: component.code
        for component, item in framework.items_for("REGULER")
        if item.code not in COUNTED
    }
    assert listed == expected and not (set(listed) & ranked)
    assert "baseline.programmes_last_year" in listed  # answered, but no level counts
    assert [g.component for g in groups] == ["baseline", "output", "outcome", "impact", "quick_win"]
    assert page.context["unanswered_count"] == len(expected)
    html = page.content.decode()
    assert f"{len(expected)} unanswered items" in html
    assert "does not count in the claimed index until it is answered" in html
    quick_wins = [code for code, component in expected.items() if component == "quick_win"]
    assert f"Quick win · {len(quick_wins)} items" in html or f"· {len(quick_wins)} items" in html
    for code in quick_wins:
        assert f"<code>{code}</code>" in html and f'value="{code}"' not in html  # no checkbox


def test_the_simulation_is_the_claims_rescored(claims, as_user, admin_a):
    framework = claims.cycle.framework.framework
    chosen = ["output.regulation", "baseline.legal_basis", "impact.service.1"]
    page = as_user(admin_a).get(PLANNER, {"item": chosen})
    simulation = page.context["simulation"]
    expected = _claimed_final(framework, dict.fromkeys(chosen, 4.0))
    assert expected == pytest.approx(CLAIMED_FINAL + 0.4 + 0.05 + 0.2)
    assert simulation["final"] == pytest.approx(expected, abs=1e-12)
    assert simulation["rank"] is None
    html = page.content.decode()
    assert 'id="simulated-rank"' not in html


def test_an_unanswered_item_chosen_by_address_is_left_out_with_the_reason(claims, as_user, admin_a):
    page = as_user(admin_a).get(
        PLANNER, {"item": ["output.regulation", "quick_win.benefits"], "simulate": "1"}
    )
    assert page.context["simulation"]["items"] == ["output.regulation"]
    assert page.context["left_unanswered"] == ["quick_win.benefits"] and page.context["left_out"] == []
    html = page.content.decode()
    assert 'id="left-unanswered"' in html and "<code>quick_win.benefits</code>" in html
    assert 'id="nothing-chosen"' not in html


def test_simulate_with_nothing_chosen_says_so(claims, as_user, admin_a):
    client = as_user(admin_a)
    page = client.get(PLANNER, {"target": "4", "top": "10", "simulate": "1"})
    assert page.context["simulation"] is None
    html = page.content.decode()
    assert 'id="nothing-chosen"' in html and "No item to simulate" in html
    only_unanswered = client.get(PLANNER, {"item": "quick_win.benefits", "simulate": "1"}).content.decode()
    assert 'id="nothing-chosen"' in only_unanswered
    assert 'id="nothing-chosen"' not in client.get(PLANNER, {"top": "10"}).content.decode()  # "Show"
    client.cookies["django_language"] = "id"
    assert "Tidak ada butir untuk disimulasikan" in client.get(PLANNER, {"simulate": "1"}).content.decode()


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
        ("impact.service.1", world.opd_education),
    ):
        ItemAssignment.objects.create(
            participation=world.participation_a, item=code, opd=opd, assigned_by=admin_a
        )


CHOSEN = ["output.regulation", "baseline.legal_basis", "impact.service.1", "outcome.realisation_governance"]
TOGETHER = CLAIMED_FINAL + 0.4 + 0.05 + 0.2 + 0.15  # the four answered items raised to 4


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
        "Dinas Pendidikan": ["impact.service.1"],
        "Not assigned to an OPD": ["outcome.realisation_governance"],
    }
    first = next(row for row in items if row[1] == "output.regulation")
    assert first[4:8] == [2.0, 4.0, pytest.approx(0.4), pytest.approx(CLAIMED_FINAL + 0.4)]
    # after a blank row, the four together: the claims re-scored with all of them at 4
    framework = claims.cycle.framework.framework
    expected = _claimed_final(framework, dict.fromkeys(CHOSEN, 4.0))
    assert expected == pytest.approx(TOGETHER, abs=1e-12)
    assert values[-2] == [None] * 8
    assert values[-1][0] == "The 4 items of this plan together at level 4"
    assert values[-1][4:] == [
        None,
        4.0,
        pytest.approx(expected - CLAIMED_FINAL, abs=1e-12),
        pytest.approx(expected, abs=1e-12),
    ]
    assert len(values[-1]) == 8  # no rank before evaluation


def test_the_action_plan_s_together_line_is_the_page_s_simulation(claims, as_user, admin_a):
    """The same chosen set gives the same new claimed index and gain on the page and in the
    files, with the page's precision (gain +0.800 → 3.20)."""
    client = as_user(admin_a)
    simulation = client.get(PLANNER, {"item": CHOSEN}).context["simulation"]
    assert simulation["final"] == pytest.approx(TOGETHER, abs=1e-12)
    assert simulation["gain"] == pytest.approx(0.8, abs=1e-12)
    text = pdf_text(client.get(PDF, {"item": CHOSEN}).content)
    line = next(line for line in text.splitlines() if "items of this plan together" in line)
    assert "The 4 items of this plan together at level 4" in line
    assert "4.00" in line and "+0.800" in line and "3.20" in line


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
        "Dinas Pendidikan": ["impact.service.1"],
        "Not assigned to an OPD": ["outcome.realisation_governance"],
    }
    line = next(line for line in text.splitlines() if line.strip().startswith("output.regulation"))
    assert "2.00" in line and "+0.400" in line and "2.80" in line and "+0.4000" not in line
    assert "New national rank" not in text


def test_without_a_choice_the_pdf_holds_the_listed_items(claims, as_user, admin_a):
    """The listed items are the answered ones below the target, best first (none assigned)."""
    text = pdf_text(as_user(admin_a).get(PDF, {"top": "10"}).content)
    assert _groups(text) == {
        "Not assigned to an OPD": [
            "output.regulation",
            "impact.service.1",
            "outcome.realisation_governance",
            "baseline.legal_basis",
        ]
    }
    line = next(line for line in text.splitlines() if "items of this plan together" in line)
    assert "+0.800" in line and "3.20" in line


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
    assert "2,00" in line and "+0,400" in line and "+0,4000" not in line  # the Indonesian decimal mark
    assert _groups(text)["Belum ditugaskan ke OPD"] == ["outcome.realisation_governance"]
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


def test_a_claims_pdf_with_no_row_below_the_target_speaks_of_answered_items():
    """With every answered item at the target and others unanswered, the claims plan has no rows:
    its PDF must not say that every item is at the target (found in review; the page said
    "every answered item" already)."""
    from cityeval.web.results.planner import action_plan_pdf

    claims = pdf_text(action_plan_pdf([], title="Rencana", ranks=False))
    results = pdf_text(action_plan_pdf([], title="Rencana", ranks=True))
    assert "Every answered item is at or above the target level already." in " ".join(claims.split())
    assert "Every item is at or above the target level already." in " ".join(results.split())
