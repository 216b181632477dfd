"""The registry's services on their own: the rules pages and API share."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from django.utils import timezone

from cityeval.engine import load_framework
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.programmes.models import Programme, QuickWinCriterionAnswer, Risk
from cityeval.web.programmes.selectors import DEFAULT_FRAMEWORK, criterion_answers_latest, region_framework
from cityeval.web.programmes.services import (
    CriterionInput,
    InvalidInput,
    ProgrammeFields,
    programme_create,
    programme_update,
    quick_win_criteria_record,
    risk_add,
)
from cityeval.web.regions.models import Province, Region

GMSC_2024 = load_framework("gmsc-2024")


def fields(world, **changes) -> ProgrammeFields:
    base = ProgrammeFields(
        name="E-Padi", dimension="governance", subdimension="service", owner=world.opd_health,
        start_year=2023, status="running", beneficiaries=10,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_programme_create_refuses_an_owner_of_another_region(world):
    with pytest.raises(InvalidInput) as refused:
        programme_create(region=world.region_a, framework=GMSC_2024, fields=fields(world, owner=world.opd_b))
    assert "owner" in refused.value.errors
    assert not Programme.objects.exists()


def test_programme_create_reports_every_problem_at_once(world):
    bad = fields(
        world, name="", dimension="governance", subdimension="waste", start_year=3000, beneficiaries=-1
    )
    with pytest.raises(InvalidInput) as refused:
        programme_create(region=world.region_a, framework=GMSC_2024, fields=bad)
    assert set(refused.value.errors) == {"name", "subdimension", "start_year", "beneficiaries"}
    assert "The sub-dimension “waste” is not part of the dimension “governance”." in str(refused.value)


def test_programme_create_refuses_more_beneficiaries_than_the_column_holds(world):
    """2**31 - 1 is PostgreSQL's largest ``integer`` (the column of a PositiveIntegerField); one
    more used to reach the database and fail there (a 500) instead of being refused."""
    with pytest.raises(InvalidInput) as refused:
        programme_create(
            region=world.region_a, framework=GMSC_2024, fields=fields(world, beneficiaries=2**31)
        )
    assert refused.value.errors == {
        "beneficiaries": ["The number of users or beneficiaries cannot exceed 2147483647."]
    }
    made = programme_create(
        region=world.region_a, framework=GMSC_2024, fields=fields(world, beneficiaries=2**31 - 1)
    )
    made.refresh_from_db()
    assert made.beneficiaries == 2_147_483_647


def test_programme_create_strips_the_name_and_keeps_a_blank_subdimension(world):
    made = programme_create(
        region=world.region_a, framework=GMSC_2024, fields=fields(world, name="  E-Padi ", subdimension="")
    )
    assert (made.name, made.subdimension) == ("E-Padi", "")


def test_programme_update_may_keep_its_own_name(world, patogen):
    updated = programme_update(
        programme=patogen, framework=GMSC_2024,
        fields=fields(world, name="Patogen", dimension="living", subdimension="health", status="stopped"),
    )  # fmt: skip
    assert updated.status == "stopped"


def test_the_region_framework_is_that_of_its_latest_cycle(world):
    newer = Cycle.objects.create(
        slug="custom-2025", name="Custom 2025", year=2025, framework=framework_version_builtin("gmsc-2023"),
        self_assessment_deadline=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    Participation.objects.create(cycle=newer, region=world.region_a, group="REGULER")
    assert region_framework(region=world.region_a).hash == newer.framework.framework.hash
    assert region_framework(region=world.region_b).hash == world.cycle.framework.framework.hash


def test_a_region_in_no_cycle_classifies_programmes_with_the_default_framework(world):
    lone = Region.objects.create(
        name="Kab. Karo", slug="kab-karo", kind="kabupaten", province=Province.objects.get()
    )
    assert region_framework(region=lone).code == load_framework(DEFAULT_FRAMEWORK).code
    assert region_framework(region=lone).dimensions[0].code == "governance"


def test_quick_win_criteria_record_refuses_all_answers_if_one_level_is_off_the_scale(world, patogen, admin_a):
    answers = {"quick_win.benefits": CriterionInput(3), "quick_win.uniqueness": CriterionInput(4.5)}
    with pytest.raises(InvalidInput) as refused:
        quick_win_criteria_record(programme=patogen, cycle=world.cycle, answers=answers, author=admin_a)
    assert refused.value.errors == {"quick_win.uniqueness": ["The level must be between 0 and 4."]}
    assert QuickWinCriterionAnswer.objects.count() == 0


@pytest.mark.parametrize("level", [math.nan, math.inf, -0.5])
def test_quick_win_criteria_record_refuses_levels_that_are_not_on_the_scale(world, patogen, admin_a, level):
    with pytest.raises(InvalidInput):
        quick_win_criteria_record(
            programme=patogen,
            cycle=world.cycle,
            answers={"quick_win.benefits": CriterionInput(level)},
            author=admin_a,
        )
    assert QuickWinCriterionAnswer.objects.count() == 0


def test_quick_win_criteria_record_refuses_an_unknown_criterion(world, patogen, admin_a):
    with pytest.raises(InvalidInput) as refused:
        quick_win_criteria_record(
            programme=patogen,
            cycle=world.cycle,
            answers={"baseline.legal_basis": CriterionInput(3)},
            author=admin_a,
        )
    assert "is not a Quick Win criterion" in str(refused.value)
    assert QuickWinCriterionAnswer.objects.count() == 0


def test_quick_win_criteria_record_refuses_a_programme_that_is_not_a_quick_win(
    world, plain_programme, admin_a
):
    with pytest.raises(InvalidInput):
        quick_win_criteria_record(
            programme=plain_programme, cycle=world.cycle, answers={"quick_win.benefits": CriterionInput(3)},
            author=admin_a,
        )  # fmt: skip
    assert QuickWinCriterionAnswer.objects.count() == 0


def test_quick_win_criteria_record_refuses_a_cycle_the_region_is_not_in(world, patogen, admin_a):
    other = Cycle.objects.create(
        slug="gmsc-2023", name="GMSC 2023", year=2023, framework=world.cycle.framework,
        self_assessment_deadline=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    Participation.objects.create(cycle=other, region=world.region_b, group="REGULER")
    with pytest.raises(InvalidInput) as refused:
        quick_win_criteria_record(
            programme=patogen, cycle=other, answers={"quick_win.benefits": CriterionInput(3)}, author=admin_a
        )
    assert "does not take part" in str(refused.value)


def test_criteria_answers_are_never_updated_only_appended(world, patogen, admin_a, opd_a):
    earlier = {"quick_win.benefits": CriterionInput(2)}
    first = quick_win_criteria_record(programme=patogen, cycle=world.cycle, answers=earlier, author=admin_a)
    later = {"quick_win.benefits": CriterionInput(3, "after survey")}
    quick_win_criteria_record(programme=patogen, cycle=world.cycle, answers=later, author=opd_a)
    first[0].refresh_from_db()
    assert first[0].level == 2.0  # the earlier row is untouched
    state = criterion_answers_latest(programme=patogen, cycle=world.cycle)["quick_win.benefits"]
    assert (state.latest.level, state.latest.note, state.latest.author, state.history) == (
        3.0, "after survey", opd_a, 2
    )  # fmt: skip


def test_risk_add_refuses_unknown_ratings_and_empty_text(patogen):
    with pytest.raises(InvalidInput) as refused:
        risk_add(programme=patogen, risk=" ", likelihood="extreme", impact="high", mitigation="m", owner="o")
    assert set(refused.value.errors) == {"risk", "likelihood"}
    assert Risk.objects.count() == 0


def test_risk_add_refuses_a_programme_that_is_not_a_quick_win(plain_programme):
    with pytest.raises(InvalidInput):
        risk_add(
            programme=plain_programme, risk="r", likelihood="low", impact="low", mitigation="m", owner="o"
        )
    assert Risk.objects.count() == 0


@pytest.mark.parametrize(
    "close",
    [
        {"participation": {"submitted_at": "now"}},
        {"cycle": {"self_assessment_deadline": "past"}},
        {"cycle": {"status": Cycle.Status.CLOSED}},
        {"cycle": {"status": Cycle.Status.PUBLISHED}},
    ],
    ids=["submitted", "past-deadline", "closed", "published"],
)
def test_quick_win_criteria_record_refuses_a_closed_self_assessment(world, patogen, admin_a, close):
    now = timezone.now()
    values = {"now": now, "past": now - dt.timedelta(seconds=1)}
    for model, pk, key in ((Participation, world.participation_a.pk, "participation"),
                           (Cycle, world.cycle.pk, "cycle")):  # fmt: skip
        changes = {field: values.get(value, value) for field, value in close.get(key, {}).items()}
        if changes:
            model.objects.filter(pk=pk).update(**changes)
    cycle = Cycle.objects.get(pk=world.cycle.pk)
    with pytest.raises(CycleClosed) as refused:
        quick_win_criteria_record(
            programme=patogen, cycle=cycle, answers={"quick_win.benefits": CriterionInput(3)}, author=admin_a
        )
    assert "read-only" in refused.value.reason
    assert QuickWinCriterionAnswer.objects.count() == 0
