"""The tables the results pages read, checked against a small hand example.

Hand example (Stage II of GMSC 2024): Panel 1 assesses Kab. Deli Serdang, Panel 2 Kota Medan.
In Deli Serdang, ``chair`` scores baseline.legal_basis 3 then revises it to 4, ``assessor2``
gives it 2; ``chair`` gives baseline.council_meeting 1. In Medan, ``assessor3`` gives
baseline.legal_basis 2.5. A Stage I score must not appear. The chair consolidates Deli
Serdang's legal_basis at 3, then at 3.5. Panel means by hand: Deli Serdang legal_basis
(4 + 2) / 2 = 3; with the consolidated score it counts 3.5.
"""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityeval.engine import score_items
from cityeval.web.panels.models import ConsolidatedScore, Feedback, ItemScore, Panel, PanelMember, PanelRegion
from cityeval.web.panels.tables import consolidated_table, feedback_for, panels_table, scores_table
from tests.helpers.panels import LEVEL_ITEM, STAGE

STRING, FLOAT = pl.String, pl.Float64


@pytest.fixture
def example(world, panel, panel_region, chair, assessor2, assessor3):
    medan_panel = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 2")
    PanelMember.objects.create(panel=medan_panel, user=assessor3, affiliation="consultancy")
    medan = PanelRegion.objects.create(panel=medan_panel, participation=world.participation_b, stage=STAGE)
    stage_1 = Panel.objects.create(cycle=world.cycle, stage="stage_1", name="Forum")
    forum = PanelRegion.objects.create(panel=stage_1, participation=world.participation_a, stage="stage_1")

    def score(pr, user, item, value):
        ItemScore.objects.create(panel_region=pr, item=item, assessor=user, score=value)

    score(panel_region, chair, LEVEL_ITEM, 3)
    score(panel_region, assessor2, LEVEL_ITEM, 2)
    score(panel_region, chair, LEVEL_ITEM, 4)
    score(panel_region, chair, "baseline.council_meeting", 1)
    score(medan, assessor3, LEVEL_ITEM, 2.5)
    score(forum, assessor2, LEVEL_ITEM, 0)
    for value in (3, 3.5):
        ConsolidatedScore.objects.create(
            panel_region=panel_region, item=LEVEL_ITEM, score=value, reason="discussed", decided_by=chair
        )
    return {"panel": panel, "medan_panel": medan_panel}


def test_scores_table_has_the_latest_score_per_region_item_and_assessor(world, example):
    expected = pl.DataFrame(
        {
            "region": ["Kab. Deli Serdang"] * 3 + ["Kota Medan"],
            "group": ["REGULER"] * 4,
            "province": ["Sumatera Utara"] * 4,
            "item": ["baseline.council_meeting", LEVEL_ITEM, LEVEL_ITEM, LEVEL_ITEM],
            "assessor": ["chair", "assessor2", "chair", "assessor3"],
            "score": [1.0, 2.0, 4.0, 2.5],
        }
    )
    assert_frame_equal(scores_table(world.cycle, STAGE), expected)


def test_consolidated_table_has_the_latest_consolidated_score(world, example):
    expected = pl.DataFrame({"region": ["Kab. Deli Serdang"], "item": [LEVEL_ITEM], "score": [3.5]})
    assert_frame_equal(consolidated_table(world.cycle, STAGE), expected)


def test_panels_table_names_each_regions_panel(world, example):
    expected = pl.DataFrame(
        {
            "region": ["Kab. Deli Serdang", "Kota Medan"],
            "panel": ["Panel 1", "Panel 2"],
            "panel_id": [str(example["panel"].public_id), str(example["medan_panel"].public_id)],
        }
    )
    assert_frame_equal(panels_table(world.cycle, STAGE), expected)


def test_the_tables_feed_the_engine(world, example):
    """Panel mean (4 + 2) / 2 = 3 for Deli Serdang's legal basis, replaced by the chair's 3.5."""
    framework = world.cycle.framework.framework
    result = score_items(
        scores_table(world.cycle, STAGE), framework, overrides=consolidated_table(world.cycle, STAGE)
    )
    row = result.items.filter((pl.col("region") == "Kab. Deli Serdang") & (pl.col("item") == LEVEL_ITEM))
    assert row["panel_score"].to_list() == [3.0]
    assert row["score"].to_list() == [3.5]


@pytest.mark.parametrize(
    ("table", "schema"),
    [
        (scores_table, {"region": STRING, "group": STRING, "province": STRING, "item": STRING,
                        "assessor": STRING, "score": FLOAT}),
        (consolidated_table, {"region": STRING, "item": STRING, "score": FLOAT}),
        (panels_table, {"region": STRING, "panel": STRING, "panel_id": STRING}),
    ],
)  # fmt: skip
def test_empty_tables_keep_their_columns_and_types(world, table, schema):
    result = table(world.cycle, STAGE)
    assert result.height == 0
    assert dict(result.schema) == schema


def test_feedback_for_gives_each_assessors_latest_feedback(world, panel_region, chair, assessor2, assessor3):
    def write(user, strengths, weaknesses="", recommendations=""):
        Feedback.objects.create(
            panel_region=panel_region, assessor=user, strengths=strengths,
            weaknesses=weaknesses, recommendations=recommendations,
        )  # fmt: skip

    chair.first_name, chair.last_name = "Siti", "Aminah"
    chair.save()
    write(chair, "Strong council", "Few OPDs")
    write(assessor2, "Good survey", recommendations="Publish the data")
    write(chair, "Strong council and forum", "Few OPDs", "Involve every OPD")
    write(assessor3, "Draft")
    write(assessor3, "")  # withdrawn
    feedback = feedback_for(world.participation_a, STAGE)
    assert [
        (
            f["assessor"],
            f["username"],
            f["affiliation"],
            f["affiliation_code"],
            f["organisation"],
            f["strengths"],
        )
        for f in feedback
    ] == [
        ("assessor2", "assessor2", "Association", "association", "APTIKNAS", "Good survey"),
        ("Siti Aminah", "chair", "University", "university", "USU", "Strong council and forum"),
    ]
    assert feedback[1]["weaknesses"] == "Few OPDs" and feedback[1]["recommendations"] == "Involve every OPD"
    assert feedback[1]["created_at"] is not None
    assert feedback_for(world.participation_a, "stage_1") == []
    assert feedback_for(world.participation_b, STAGE) == []
