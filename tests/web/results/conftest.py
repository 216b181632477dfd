"""Fixtures for the results tests: a scored, closed 2024 cycle, its results, and a 2023
history, with numbers small enough to check by hand.

Region A (Kab. Deli Serdang) and region B (Kota Medan), both REGULER in Sumatera Utara, are
assessed by one Stage II panel of five assessors on every gmsc-2024 item:

- A: every item scored 3, 3, 4, 4, 4 → 3.6; the chair consolidates baseline.legal_basis to 2.
  Baseline = (2 + 4 × 3.6) / 5 = 3.28; other components 3.6; final = 0.1 × 3.28 + 0.9 × 3.6
  = 3.568.
- B: every item scored 2, 2, 3, 3, 3 → 2.6; final 2.6.

The 2023 history (gmsc-2023, REGULER): A 3.44, 2.63, 3.25, 3.12, 3.80 (the real published
components, docs/domain.md §3) → 3.229; B 2.5 everywhere → 2.5. Improvement: A 3.568 − 3.229 =
0.339; B 2.6 − 2.5 = 0.1.
"""

from __future__ import annotations

import polars as pl
import pytest
from django.contrib.auth import get_user_model

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.panels.models import ConsolidatedScore, Feedback, ItemScore, Panel, PanelMember, PanelRegion
from cityeval.web.results.history import history_import
from cityeval.web.results.services import cycle_publish, results_compute
from tests.helpers.results import (
    A_2023,
    A_SCORES,
    B_SCORES,
    CONSOLIDATED_ITEM,
    STRENGTHS,
)
from tests.helpers.web import PASSWORD


@pytest.fixture
def panel_assessors(world):
    users = []
    for k in range(5):
        user = get_user_model().objects.create_user(username=f"panelist{k + 1}", password=PASSWORD)
        Membership.objects.create(user=user, role=Role.ASSESSOR)
        users.append(user)
    return users


@pytest.fixture
def panelist1(panel_assessors):
    """The panel's chair."""
    return panel_assessors[0]


@pytest.fixture
def panelist2(panel_assessors):
    """The panel member who wrote the feedback on region A."""
    return panel_assessors[1]


@pytest.fixture
def scored(world, panel_assessors):
    """The 2024 cycle with Stage II scores, one consolidated score and feedback on A, closed."""
    framework = world.cycle.framework.framework
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel Sumatera")
    affiliations = ["university", "ministry", "association", "consultancy", "university"]
    for k, user in enumerate(panel_assessors):
        PanelMember.objects.create(panel=panel, user=user, affiliation=affiliations[k], is_chair=k == 0)
    rows = []
    for participation, scores in ((world.participation_a, A_SCORES), (world.participation_b, B_SCORES)):
        pr = PanelRegion.objects.create(panel=panel, participation=participation, stage="stage_2")
        for _component, item in framework.items_for(participation.group):
            for user, value in zip(panel_assessors, scores, strict=True):
                rows.append(ItemScore(panel_region=pr, item=item.code, assessor=user, score=value))
        if participation == world.participation_a:
            ConsolidatedScore.objects.create(
                panel_region=pr,
                item=CONSOLIDATED_ITEM,
                score=2.0,
                reason="No decree",
                decided_by=panel_assessors[0],
            )
            Feedback.objects.create(
                panel_region=pr, assessor=panel_assessors[1], strengths=STRENGTHS,
                weaknesses="Few OPDs report on time", recommendations="Publish the action plan",
            )  # fmt: skip
    ItemScore.objects.bulk_create(rows)
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    world.cycle.refresh_from_db()
    return world


@pytest.fixture
def history_2023(world, coordinator):
    table = pl.DataFrame(
        {
            "region": ["Kab. Deli Serdang", "kota-medan"],
            "group": ["REGULER", "REGULER"],
            **{code: [value, 2.5] for code, value in A_2023.items()},
        }
    )
    return history_import(
        year=2023, framework_version=framework_version_builtin("gmsc-2023"), table=table, user=coordinator
    )


@pytest.fixture
def computed(scored, history_2023, coordinator):
    return results_compute(cycle=scored.cycle, user=coordinator)


@pytest.fixture
def published(computed, coordinator):
    cycle_publish(cycle=computed.cycle, user=coordinator)
    computed.cycle.refresh_from_db()
    return computed


@pytest.fixture
def persona(request):
    """``persona(name)`` → the fixture of that name (None: anonymous)."""

    def _persona(name):
        return None if name is None else request.getfixturevalue(name)

    return _persona
