"""Fixtures for the self-assessment tests: URLs, answers and assignments."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cityeval.web.assessments.models import AnswerRevision, ItemAssignment
from tests.web.assessments.helpers import CYCLE, LEVEL_ITEM, REGION_A


@pytest.fixture
def urls():
    """URL builders for region A's self-assessment in the 2024 cycle."""

    class Urls:
        overview = reverse("assessments:overview", kwargs={"region": REGION_A, "cycle": CYCLE})
        assign = reverse("assessments:assign", kwargs={"region": REGION_A, "cycle": CYCLE})
        submit = reverse("assessments:submit", kwargs={"region": REGION_A, "cycle": CYCLE})

        @staticmethod
        def item(code: str = LEVEL_ITEM) -> str:
            return reverse("assessments:item", kwargs={"region": REGION_A, "cycle": CYCLE, "item": code})

        @staticmethod
        def evidence(code: str = LEVEL_ITEM) -> str:
            return reverse(
                "assessments:evidence_add", kwargs={"region": REGION_A, "cycle": CYCLE, "item": code}
            )

        @staticmethod
        def api(rest: str = "", region: str = REGION_A) -> str:
            return f"/api/regions/{region}/cycles/{CYCLE}{rest}"

    return Urls


@pytest.fixture
def assign(world, admin_a):
    """``assign(item, opd)``: region A's admin assigns an item to an OPD."""

    def _assign(item: str, opd) -> ItemAssignment:
        return ItemAssignment.objects.create(
            participation=world.participation_a, item=item, opd=opd, assigned_by=admin_a
        )

    return _assign


@pytest.fixture
def answer(world, admin_a):
    """``answer(item, level=…, raw_value=…)``: a revision written directly, for read tests."""

    def _answer(item: str, *, level=None, raw_value=None, narrative="", author=None, participation=None):
        return AnswerRevision.objects.create(
            participation=participation or world.participation_a,
            item=item,
            level=level,
            raw_value=raw_value,
            narrative=narrative,
            author=author or admin_a,
        )

    return _answer
