"""The what-if planner of a region's results (issue 15): who may open it, that its gains and
its simulation are the engine's re-scoring of the changed marks, and the action plan XLSX.

The independent check re-scores the panel's own marks (tests/web/results/conftest.py: A's five
assessors give every item 3, 3, 4, 4, 4; the chair consolidates baseline.legal_basis to 2; B
gives 2, 2, 3, 3, 3) with the item changed, through ``score_items`` directly — not through the
planner's input built from the stored run. Hand values: A's baseline has 5 items, weight 10 %,
at 3.28 = (2 + 4 × 3.6) / 5; raising legal_basis to 4 gives (4 + 4 × 3.6) / 5 = 3.68, a gain of
0.1 × 0.4 = 0.04; raising another baseline item from 3.6 to 4 gains 0.1 × 0.4 / 5 = 0.008.
"""

from __future__ import annotations

import io

import polars as pl
import pytest
from django.utils.html import escape
from openpyxl import load_workbook

from cityeval.engine import score_items
from cityeval.engine.whatif import simulate
from cityeval.web.assessments.models import ItemAssignment
from cityeval.web.evaluations.models import Participation
from cityeval.web.panels.models import ItemScore
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.planner import planner_input
from cityeval.web.results.services import cycle_publish, results_compute
from tests.helpers.results import A_FINAL, A_SCORES, B_SCORES, CONSOLIDATED_ITEM, CYCLE, REGION_A, REGION_B
from tests.web.results.helpers import pdf_text

PLANNER = f"/r/{REGION_A}/{CYCLE}/results/planner/"
EXPORT = f"/r/{REGION_A}/{CYCLE}/results/planner/action-plan.xlsx"
PDF = f"/r/{REGION_A}/{CYCLE}/results/planner/action-plan.pdf"
REGION_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
OTHER_BASELINE = "baseline.council_meeting"


def _marks(framework, *, changes: dict[str, float] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The panel's marks of A and B as the engine's input, A's items in ``changes`` given that
    level by every assessor (a changed consolidated item loses its chair's score), and the
    chair's consolidated scores."""
    changes = changes or {}
    rows = []
    for region, scores in (("Kab. Deli Serdang", A_SCORES), ("Kota Medan", B_SCORES)):
        for _component, item in framework.items_for("REGULER"):
            for k, value in enumerate(scores):
                level = changes.get(item.code) if region == "Kab. Deli Serdang" else None
                rows.append(
                    (region, "REGULER", item.code, f"assessor{k}", level if level is not None else value)
                )
    table = pl.DataFrame(
        rows, schema=["region", "group", "item", "assessor", "score"], orient="row"
    ).with_columns(pl.col("score").cast(pl.Float64))
    overrides = [("Kab. Deli Serdang", CONSOLIDATED_ITEM, 2.0)] if CONSOLIDATED_ITEM not in changes else []
    return table, pl.DataFrame(
        overrides, schema={"region": pl.String, "item": pl.String, "score": pl.Float64}, orient="row"
    )


def _final(framework, changes: dict[str, float] | None = None) -> float:
    table, overrides = _marks(framework, changes=changes)
    result = score_items(table, framework, overrides=overrides)
    return float(result.regions.filter(pl.col("region") == "Kab. Deli Serdang")["final"][0])


def _row(response, item: str):
    return next(r for r in response.context["rows"] if r.item == item)


# --- who may plan ------------------------------------------------------------------------------

URLS = [PLANNER, EXPORT, PDF]


@pytest.mark.parametrize("name", ["admin_a", "coordinator"])
def test_the_regional_admin_and_the_coordinator_plan_on_published_results(published, as_user, persona, name):
    client = as_user(persona(name))
    for url in URLS:
        assert client.get(url).status_code == 200, url
    assert b'id="planner-link"' in client.get(REGION_PAGE).content


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "assessor", "nobody", "panelist1"])
def test_outsiders_get_404(published, as_user, persona, name):
    client = as_user(persona(name))
    for url in URLS:
        assert client.get(url).status_code == 404, url
    assert b'id="planner-link"' not in client.get(REGION_PAGE).content


def test_an_opd_contributor_of_the_region_gets_403(published, as_user, opd_a):
    client = as_user(opd_a)
    for url in URLS:
        assert client.get(url).status_code == 403, url
    assert b'id="planner-link"' not in client.get(REGION_PAGE).content


def test_anonymous_visitors_are_sent_to_log_in(published, as_user):
    client = as_user(None)
    for url in URLS:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert b'id="planner-link"' not in client.get(REGION_PAGE).content


def test_before_publication_only_the_coordinator_plans(computed, as_user, coordinator, admin_a):
    assert as_user(coordinator).get(PLANNER).status_code == 200
    for url in URLS:
        assert as_user(admin_a).get(url).status_code == 404, url


def test_component_level_results_are_refused_with_the_reason(published, as_user, coordinator):
    response = as_user(coordinator).get(f"/r/{REGION_A}/history-2023/results/planner/")
    assert response.status_code == 403  # a page's refusal (refusals.refused_page)
    assert b"the planner needs item scores" in response.content
    page = as_user(coordinator).get(f"/r/{REGION_A}/history-2023/results/")
    assert b'id="planner-link"' not in page.content


# --- the numbers are the engine's ----------------------------------------------------------------


def test_the_stored_items_give_the_stored_final(published, world):
    framework = world.cycle.framework.framework
    result = score_items(planner_input(published), framework)
    finals = dict(result.regions.select("region", "final").iter_rows())
    assert finals["Kab. Deli Serdang"] == pytest.approx(A_FINAL, abs=1e-12)
    assert finals["Kota Medan"] == pytest.approx(2.6, abs=1e-12)


def test_each_gain_is_the_final_of_the_marks_with_that_item_changed(published, as_user, admin_a, world):
    framework = world.cycle.framework.framework
    response = as_user(admin_a).get(PLANNER, {"top": "0"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == sum(1 for _ in framework.items_for("REGULER"))  # every item is below 4
    assert response.context["final"] == pytest.approx(A_FINAL, abs=1e-12)
    for row in rows:
        expected = _final(framework, {row.item: 4.0})
        assert row.gain_final == pytest.approx(expected - A_FINAL, abs=1e-12), row.item
        assert row.new_final == pytest.approx(expected, abs=1e-12), row.item
        assert row.new_rank == 1  # A leads B (2.6) already
    # by hand: the consolidated item first, then any other baseline item
    assert rows[0].item == CONSOLIDATED_ITEM and rows[0].gain_final == pytest.approx(0.04, abs=1e-12)
    assert _row(response, OTHER_BASELINE).gain_final == pytest.approx(0.008, abs=1e-12)
    gains = [row.gain_final for row in rows]
    assert gains == sorted(gains, reverse=True)


def test_the_default_lists_ten_items_and_a_lower_target_lists_fewer(published, as_user, admin_a, world):
    client = as_user(admin_a)
    assert len(client.get(PLANNER).context["rows"]) == 10
    # target 3: only the consolidated item (2) is below it; A's other items are at 3.6
    rows = client.get(PLANNER, {"target": "3", "top": "0"}).context["rows"]
    assert [r.item for r in rows] == [CONSOLIDATED_ITEM]
    assert rows[0].gain_final == pytest.approx(0.1 * (3 - 2) / 5, abs=1e-12)


def test_labels_are_in_the_page_language(published, as_user, admin_a, world):
    _component, item = world.cycle.framework.framework.items_by_code[CONSOLIDATED_ITEM]
    english = as_user(admin_a).get(PLANNER)
    assert escape(item.label.en) in english.content.decode()
    client = as_user(admin_a)
    client.cookies["django_language"] = "id"
    indonesian = client.get(PLANNER, {"item": OTHER_BASELINE})
    assert escape(item.label.id) in indonesian.content.decode()
    assert "Langkah berikutnya" in indonesian.content.decode()
    assert "Dengan 1 butir yang dipilih pada level 4" in indonesian.content.decode()


def test_the_simulation_is_the_engine_s_simulate_and_the_marks_rescored(published, as_user, admin_a, world):
    framework = world.cycle.framework.framework
    chosen = [CONSOLIDATED_ITEM, OTHER_BASELINE]
    response = as_user(admin_a).get(PLANNER, {"target": "4", "item": chosen})
    simulation = response.context["simulation"]
    final, rank = simulate(
        planner_input(published), framework, region="Kab. Deli Serdang", changes=dict.fromkeys(chosen, 4.0)
    )
    assert simulation["final"] == final and simulation["rank"] == rank == 1
    assert final == pytest.approx(_final(framework, dict.fromkeys(chosen, 4.0)), abs=1e-12)
    # by hand: baseline (4 + 4 + 3 × 3.6) / 5 = 3.76, 0.48 above 3.28, × 10 %
    assert simulation["gain"] == pytest.approx(0.048, abs=1e-12)
    # The page says gains add up in the final: 0.04 + 0.008, the two items' own gains.
    alone = as_user(admin_a).get(PLANNER, {"target": "4", "top": "0"})
    each = sum(_row(alone, code).gain_final for code in chosen)
    assert simulation["gain"] == pytest.approx(each, abs=1e-12)
    assert "their gains add up in the final" in alone.content.decode()
    content = response.content.decode()
    assert 'id="simulated-final"' in content and "+0.048" in content
    assert f'value="{OTHER_BASELINE}" checked' in content


def test_simulate_with_nothing_chosen_says_so(published, as_user, admin_a):
    """The "Simulate" button sends ``simulate=1``: with no item (or only items already at the
    target) the page says what to do instead of showing nothing new."""
    client = as_user(admin_a)
    html = client.get(PLANNER, {"target": "4", "top": "10", "simulate": "1"}).content.decode()
    assert 'id="nothing-chosen"' in html and 'id="simulation"' not in html
    assert 'name="simulate" value="1"' in html  # the button that sends it
    at_target = client.get(PLANNER, {"target": "3", "item": OTHER_BASELINE, "simulate": "1"})
    assert 'id="nothing-chosen"' in at_target.content.decode() and at_target.context["left_out"] == [
        OTHER_BASELINE
    ]
    chosen = client.get(PLANNER, {"item": OTHER_BASELINE, "simulate": "1"}).content.decode()
    assert 'id="nothing-chosen"' not in chosen and 'id="simulation"' in chosen
    assert 'id="nothing-chosen"' not in client.get(PLANNER).content.decode()


def test_a_rank_change_in_region_b(published, as_user, admin_b, world):
    """B (2.6) overtakes A (3.568) if every item reaches 4: the new rank is 1."""
    framework = world.cycle.framework.framework
    every = [item.code for _c, item in framework.items_for("REGULER")]
    url = f"/r/{REGION_B}/{CYCLE}/results/planner/"
    simulation = as_user(admin_b).get(url, {"item": every}).context["simulation"]
    assert simulation["final"] == pytest.approx(4.0, abs=1e-12) and simulation["rank"] == 1


def test_items_at_the_target_are_left_out_of_the_simulation(published, as_user, admin_a):
    response = as_user(admin_a).get(PLANNER, {"target": "3", "item": [OTHER_BASELINE, CONSOLIDATED_ITEM]})
    assert response.context["left_out"] == [OTHER_BASELINE]
    assert response.context["simulation"]["items"] == [CONSOLIDATED_ITEM]


def test_a_bad_choice_is_shown_and_the_defaults_are_used(published, as_user, admin_a):
    response = as_user(admin_a).get(PLANNER, {"target": "9", "item": "no.such_item"})
    assert response.status_code == 200
    assert b'id="planner-errors"' in response.content
    assert response.context["target"] == 4.0 and response.context["simulation"] is None


def test_a_region_nobody_scored_does_not_stop_the_planner(
    scored, history_2023, coordinator, as_user, admin_a
):
    riau = Province.objects.create(name="Riau")
    binjai = Region.objects.create(name="Kota Binjai", slug="kota-binjai", kind="kota", province=riau)
    Participation.objects.create(cycle=scored.cycle, region=binjai, group="REGULER")
    results_compute(cycle=scored.cycle, user=coordinator)
    response = as_user(coordinator).get(PLANNER, {"top": "0"})
    assert response.status_code == 200
    assert response.context["rows"][0].gain_final == pytest.approx(0.04, abs=1e-12)
    binjai_page = as_user(coordinator).get(
        f"/r/kota-binjai/{CYCLE}/results/planner/", {"item": OTHER_BASELINE}
    )
    assert binjai_page.status_code == 200
    assert binjai_page.context["final"] == 0


@pytest.fixture
def with_a_gap(scored, history_2023, coordinator):
    """The published results with no score of A's OTHER_BASELINE (the panel left it blank),
    computed under the default "skip" rule."""
    ItemScore.objects.filter(panel_region__participation__region__slug=REGION_A, item=OTHER_BASELINE).delete()
    run = results_compute(cycle=scored.cycle, user=coordinator)
    cycle_publish(cycle=scored.cycle, user=coordinator)
    return run


@pytest.mark.parametrize("target", ["4", "3"])
def test_an_item_the_panel_did_not_score_is_listed_apart_not_ranked(with_a_gap, as_user, admin_a, target):
    """Under "skip" the blank item is out of baseline's mean: by hand, baseline is
    (2 + 3 × 3.6) / 4 = 3.2. Scoring it 3 would give (12.8 + 3) / 5 = 3.16, a "gain" of
    -0.004 that is not of the same kind as raising a scored item: it is not in the table.
    Raising legal_basis to 4: (4 + 10.8) / 4 = 3.7, 0.5 × 10 % = +0.05."""
    response = as_user(admin_a).get(PLANNER, {"target": target, "top": "0", "item": [OTHER_BASELINE]})
    assert response.status_code == 200
    assert OTHER_BASELINE not in {row.item for row in response.context["rows"]}
    (group,) = response.context["unanswered"]
    assert group.component == "baseline" and [code for code, _label in group.items] == [OTHER_BASELINE]
    assert response.context["left_unanswered"] == [OTHER_BASELINE] and response.context["simulation"] is None
    content = response.content.decode()
    assert 'id="unanswered"' in content and "1 item not scored" in content
    assert "not scored by the panel" in content and "answer them in the self-assessment" not in content
    if target == "4":
        assert _row(response, CONSOLIDATED_ITEM).gain_final == pytest.approx(0.05, abs=1e-12)


# --- the action plan ------------------------------------------------------------------------------


def test_the_action_plan_holds_the_rows_per_opd(published, as_user, admin_a, world):
    health = ["baseline.legal_basis", "baseline.council_meeting"]
    education = ["output.regulation"]
    for codes, opd in ((health, world.opd_health), (education, world.opd_education)):
        for code in codes:
            ItemAssignment.objects.create(
                participation=world.participation_a, item=code, opd=opd, assigned_by=admin_a
            )
    chosen = [*health, *education, "outcome.realisation_governance"]
    response = as_user(admin_a).get(EXPORT, {"item": chosen})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = values[2]
    assert header[:3] == ["OPD", "Item", "Item name"]
    end = values.index([None] * len(header), 3)  # a blank row ends the items
    items = [row for row in values[3:end] if row[1] is not None]
    by_opd: dict[str, list[str]] = {}
    for row in items:
        by_opd.setdefault(row[0], []).append(row[1])
    assert by_opd == {
        "Dinas Kesehatan": health,  # best gain first: 0.04, then 0.008
        "Dinas Pendidikan": education,
        "Not assigned to an OPD": ["outcome.realisation_governance"],
    }
    groups = [row[0] for row in values[3:end] if row[1] is None]
    assert groups == ["Dinas Kesehatan", "Dinas Pendidikan", "Not assigned to an OPD"]
    first = next(row for row in items if row[1] == CONSOLIDATED_ITEM)
    assert first[4] == 2.0 and first[5] == 4.0 and first[8] == 1
    assert first[6] == pytest.approx(0.04, abs=1e-12) and first[7] == pytest.approx(A_FINAL + 0.04, abs=1e-12)
    # the page's precision: gains signed with three decimals, scores with two (values kept)
    cells = {cell.column_letter: cell for cell in sheet[4 + values[3:].index(first)]}
    assert cells["G"].number_format == "+0.000;-0.000;0.000" and cells["H"].number_format == "0.00"
    # after the blank row: the chosen items together, the marks re-scored with all four at 4
    framework = world.cycle.framework.framework
    together = values[end + 1]
    expected = _final(framework, dict.fromkeys(chosen, 4.0))
    assert together[0] == "The 4 items of this plan together at level 4"
    assert together[5] == 4.0 and together[8] == 1
    assert together[7] == pytest.approx(expected, abs=1e-12)
    assert together[6] == pytest.approx(expected - A_FINAL, abs=1e-12)
    assert values[end + 2 :] == []
    # the page names the owner too
    page = as_user(admin_a).get(PLANNER)
    assert _row(page, CONSOLIDATED_ITEM).opd == "Dinas Kesehatan"


def test_without_a_choice_the_action_plan_holds_the_listed_items(published, as_user, admin_a):
    response = as_user(admin_a).get(EXPORT, {"top": "20"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    items = [row for row in list(sheet.iter_rows(values_only=True))[3:] if row[1] is not None]
    assert len(items) == 20


def test_the_pdf_action_plan_holds_the_same_rows_per_opd(published, as_user, admin_a, world):
    """The PDF (pdftotext, poppler-utils) has the XLSX's rows: one table per OPD, unassigned
    last, best gain first inside, with the new national rank."""
    health = ["baseline.legal_basis", "baseline.council_meeting"]
    for code in health:
        ItemAssignment.objects.create(
            participation=world.participation_a, item=code, opd=world.opd_health, assigned_by=admin_a
        )
    chosen = [*health, "outcome.realisation_governance"]
    response = as_user(admin_a).get(PDF, {"item": chosen})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith(f'action-plan-{REGION_A}-{CYCLE}.pdf"')
    text = pdf_text(response.content)
    assert "Action plan of Kab. Deli Serdang" in text and "New national rank" in text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    heads = [i for i, line in enumerate(lines) if line in ("Dinas Kesehatan", "Not assigned to an OPD")]
    assert [lines[i] for i in heads] == ["Dinas Kesehatan", "Not assigned to an OPD"]
    codes = [line.split()[0] for line in lines if line.split()[0] in chosen]
    assert codes == chosen  # 0.04, then 0.008 under Dinas Kesehatan; the unassigned item last
    first = next(line for line in lines if line.startswith(CONSOLIDATED_ITEM))
    assert "2.00" in first and "4.00" in first and "+0.040" in first and first.endswith("1")
    assert "+0.0400" not in first  # gains with the page's three decimals
    # the chosen items together, as the page's simulation shows them
    framework = world.cycle.framework.framework
    expected = _final(framework, dict.fromkeys(chosen, 4.0))
    page = as_user(admin_a).get(PLANNER, {"item": chosen}).context["simulation"]
    assert page["final"] == pytest.approx(expected, abs=1e-12)
    line = next(line for line in lines if line.startswith("The 3 items of this plan together at level 4"))
    assert f"{expected - A_FINAL:+.3f}" in line and f"{expected:.2f}" in line and line.endswith(" 1")
    client = as_user(admin_a)
    client.cookies["django_language"] = "id"
    indonesian = pdf_text(client.get(PDF, {"item": chosen}).content)
    assert "Rencana aksi Kab. Deli Serdang" in indonesian and "Belum ditugaskan ke OPD" in indonesian
    assert "Peringkat" in indonesian and "+0,040" in indonesian and "+0,0400" not in indonesian
    assert "3 butir rencana ini bersama-sama pada level 4" in indonesian
