"""The claimed index: the engine's scoring applied to the region's own latest claims."""

from __future__ import annotations

import pytest

from cityeval.web.assessments.selectors import claimed_index

EXPECTED_ITEMS = 5 + 7 + 33 + 54 + 12  # gmsc-2024 REGULER: baseline, output, outcome, impact, quick win


@pytest.fixture
def claims(world, answer):
    """Region A's claims for the hand calculation; region B's claim must not count for A."""
    answer("baseline.legal_basis", level=3)
    answer("baseline.council_meeting", level=2)
    answer("baseline.council_meeting", level=4)  # the latest revision counts
    answer("baseline.programmes_last_year", raw_value=12)  # a count without thresholds, no level
    answer("output.regulation", level=2)
    answer("outcome.realisation_governance", raw_value=65)  # thresholds: ≥ 60 % → level 3
    answer("outcome.audit_opinion", level=4)
    answer("impact.service.1", level=3)
    answer("quick_win.benefits", level=4, participation=world.participation_b)


def test_claimed_index_matches_a_hand_calculation(claims, world):
    """Hand calculation (gmsc-2024, REGULER weights 10/20/30/20/20 %; docs/domain.md §3 formulas:
    component = mean of its scored items, final = Σ weight × component, a component with no
    scored item counts 0):

    - baseline  = mean(3, 4)  = 3.5  (programmes_last_year has a value but no level), 2 of 5
    - output    = 2.0                                                                   1 of 7
    - outcome   = mean(3, 4)  = 3.5  (65 % ≥ 60 % → level 3)                            2 of 33
    - impact    = 3.0                                                                   1 of 54
    - quick win = none → 0                                                              0 of 12
    - final     = 0.1·3.5 + 0.2·2.0 + 0.3·3.5 + 0.2·3.0 + 0.2·0 = 0.35 + 0.4 + 1.05 + 0.6 = 2.40
    - coverage  = 6 / 111
    """
    index = claimed_index(world.participation_a)
    by_code = {c.code: c for c in index.components}
    assert by_code["baseline"].score == pytest.approx(3.5)
    assert by_code["output"].score == pytest.approx(2.0)
    assert by_code["outcome"].score == pytest.approx(3.5)
    assert by_code["impact"].score == pytest.approx(3.0)
    # No quick-win claim: the component counts 0 (shown as 0 with coverage 0).
    assert (by_code["quick_win"].score, by_code["quick_win"].coverage) == (0.0, 0.0)
    assert [(c.items_scored, c.items_expected) for c in index.components] == [
        (2, 5), (1, 7), (2, 33), (1, 54), (0, 12),
    ]  # fmt: skip
    assert by_code["baseline"].coverage == pytest.approx(2 / 5)
    assert [c.weight for c in index.components] == pytest.approx([0.1, 0.2, 0.3, 0.2, 0.2])
    assert index.final == pytest.approx(2.40)
    assert index.coverage == pytest.approx(6 / EXPECTED_ITEMS)
    assert (index.items_scored, index.items_expected) == (6, EXPECTED_ITEMS)


def test_the_overview_shows_the_claimed_index(claims, as_user, opd_a, urls):
    page = as_user(opd_a).get(urls.overview).content.decode()
    assert '<div class="big" id="claimed-final">2.40</div>' in page
    assert '<div class="big" id="claimed-coverage">5%</div>' in page  # 6 / 111 = 5.4 %
    components = page.split('id="claimed-components"')[1].split("</table>")[0]
    assert "3.50" in components and "2 / 5" in components and "0 / 12" in components


def test_with_no_answers_the_index_is_zero_with_no_coverage(world):
    index = claimed_index(world.participation_a)
    assert (index.final, index.coverage, index.items_scored) == (0.0, 0.0, 0)
    assert all((c.score, c.coverage) == (0.0, 0.0) for c in index.components)


def test_the_overview_filters_to_my_items(world, as_user, opd_a, assign, urls):
    assign("baseline.legal_basis", world.opd_health)
    assign("baseline.council_meeting", world.opd_education)
    page = as_user(opd_a).get(urls.overview + "?opd=dinkes").content.decode()
    assert 'id="item-baseline.legal_basis"' in page
    assert 'id="item-baseline.council_meeting"' not in page
    assert 'id="my-items"' in page
    unassigned = as_user(opd_a).get(urls.overview + "?opd=-").content.decode()
    assert 'id="item-baseline.legal_basis"' not in unassigned and 'id="item-output.regulation"' in unassigned


def test_the_pages_render_in_indonesian_with_indonesian_labels(claims, as_user, admin_a, urls, settings):
    settings.LANGUAGE_CODE = "id"
    client = as_user(admin_a)
    overview = client.get(urls.overview, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Masterplan smart city memiliki dasar hukum" in overview
    item = client.get(urls.item("outcome.realisation_governance"), HTTP_ACCEPT_LANGUAGE="id")
    assert item.status_code == 200


def test_a_new_claim_is_scored_anew_although_the_index_was_remembered(
    claims, world, answer, as_user, opd_a, urls
):
    """The index is remembered under every item's counted level: a changed claim gives a new
    index. From the hand calculation above (2.40): impact.service.1 from 3 to 1 lowers impact
    to 1.0 and the final by 0.2 × 2 = 0.4 → 2.00; a quick-win claim of 4 (1 of 12 items) adds
    0.2 × 4 = 0.8 → 2.80."""
    assert claimed_index(world.participation_a).final == pytest.approx(2.40)
    answer("impact.service.1", level=1)
    assert claimed_index(world.participation_a).final == pytest.approx(2.00)
    answer("quick_win.benefits", level=4)
    page = as_user(opd_a).get(urls.overview).content.decode()
    assert '<div class="big" id="claimed-final">2.80</div>' in page
    # Region B's claim (quick win 4) is B's alone: A's index did not take it from the memory.
    assert claimed_index(world.participation_b).final == pytest.approx(0.2 * 4)
