"""Panels of the shared world: a Stage II panel of three assessors on region A (Kab. Deli
Serdang) with ``chair`` as its chair. The shared ``assessor`` persona has the assessor role
but sits on no panel: the outsider assessor.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from cityeval.web.accounts.models import Role
from cityeval.web.panels.models import ItemScore, Panel, PanelMember, PanelRegion, ScoreSubmission
from tests.helpers.panels import CYCLE, REGION_A, STAGE
from tests.helpers.web import make_user


@pytest.fixture
def chair(world):
    return make_user("chair", Role.ASSESSOR)


@pytest.fixture
def assessor2(world):
    return make_user("assessor2", Role.ASSESSOR)


@pytest.fixture
def assessor3(world):
    return make_user("assessor3", Role.ASSESSOR)


@pytest.fixture
def panel(world, chair, assessor2, assessor3) -> Panel:
    """Panel 1 of Stage II: chair (university, chair), assessor2 (association), assessor3
    (ministry)."""
    panel = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 1")
    PanelMember.objects.create(
        panel=panel, user=chair, affiliation="university", organisation="USU", is_chair=True
    )
    PanelMember.objects.create(
        panel=panel, user=assessor2, affiliation="association", organisation="APTIKNAS"
    )
    PanelMember.objects.create(panel=panel, user=assessor3, affiliation="ministry", organisation="Komdigi")
    return panel


@pytest.fixture
def panel_region(panel, world) -> PanelRegion:
    """Region A assigned to Panel 1 for Stage II."""
    return PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage=STAGE)


def item_codes(participation) -> list[str]:
    framework = participation.cycle.framework.framework
    return [item.code for _component, item in framework.items_for(participation.group)]


@pytest.fixture
def score_all(panel_region):
    """``score_all(user, value, **overrides)``: the user scores every item of region A (with
    ``overrides`` as ``{item: score}``), written directly, for read tests."""

    def _score_all(user, value: float = 3.0, overrides: dict[str, float] | None = None) -> None:
        overrides = overrides or {}
        ItemScore.objects.bulk_create(
            ItemScore(panel_region=panel_region, item=code, assessor=user, score=overrides.get(code, value))
            for code in item_codes(panel_region.participation)
        )

    return _score_all


@pytest.fixture
def submitted(panel_region, score_all):
    """``submitted(user, value)``: the user scores every item and submits."""

    def _submitted(user, value: float = 3.0, overrides: dict[str, float] | None = None) -> None:
        score_all(user, value, overrides)
        ScoreSubmission.objects.create(panel_region=panel_region, assessor=user)

    return _submitted


class Urls:
    """URL builders of the panel pages for region A at Stage II of the 2024 cycle."""

    kwargs = {"cycle": CYCLE, "stage": STAGE, "region": REGION_A}
    mine = "/panels/"
    conflicts = "/panels/conflicts/"
    panel_list = f"/panels/cycles/{CYCLE}/"
    assignments_import = f"/panels/cycles/{CYCLE}/import/"

    @classmethod
    def region(cls, name: str = "region", region: str = REGION_A) -> str:
        return reverse(f"panels:{name}", kwargs={**cls.kwargs, "region": region})

    @staticmethod
    def panel(panel: Panel, name: str = "panel_detail") -> str:
        return reverse(f"panels:{name}", kwargs={"panel": panel.public_id})

    @staticmethod
    def api_scores(region: str = REGION_A, stage: str = STAGE) -> str:
        return f"/api/cycles/{CYCLE}/stages/{stage}/regions/{region}/scores"


@pytest.fixture
def urls():
    return Urls
