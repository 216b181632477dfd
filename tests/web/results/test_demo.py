"""The demo hook the web demo calls: history, panels, scores, compute, publish."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cityeval import demo
from cityeval.engine import score
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.panels.models import Feedback
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.demo import load_results_demo, previous_components_default
from cityeval.web.results.models import RegionResult


@pytest.fixture
def demo_cycle(db):
    regions = {}
    for r in demo.REGIONS:
        province, _ = Province.objects.get_or_create(name=r.province)
        slug = r.name.lower().replace(". ", "-").replace(" ", "-")
        regions[r.name] = Region.objects.create(name=r.name, slug=slug, kind="kota", province=province)
    cycle = Cycle.objects.create(
        slug="gmsc-2024", name="GMSC 2024", year=2024, framework=framework_version_builtin("gmsc-2024"),
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    for r in demo.REGIONS:
        Participation.objects.create(cycle=cycle, region=regions[r.name], group=r.group)
    return cycle, regions


def test_the_demo_publishes_2024_against_the_imported_2023(demo_cycle):
    cycle, regions = demo_cycle
    users = get_user_model()
    coordinator = users.objects.create_user(username="koordinator")
    asesor = users.objects.create_user(username="asesor")
    scores = demo.demo_scores()
    run = load_results_demo(
        cycle=cycle, regions=regions, scores=scores, coordinator=coordinator, assessor_users=[asesor]
    )
    cycle.refresh_from_db()
    assert cycle.status == Cycle.Status.PUBLISHED and run.published_at is not None
    history = Cycle.objects.get(slug="history-2023")
    assert "synthetic" in history.name and history.status == Cycle.Status.PUBLISHED
    home_2023 = RegionResult.objects.get(run__cycle=history, region__name=demo.HOME)
    assert home_2023.final == pytest.approx(3.229, abs=1e-12)  # the real 2023 components
    assert RegionResult.objects.filter(run=run).count() == len(demo.REGIONS)
    home = RegionResult.objects.get(run=run, region__name=demo.HOME)
    assert home.improvement == pytest.approx(home.final - 3.229, abs=1e-12)
    assert Feedback.objects.filter(panel_region__participation__region__name=demo.HOME).count() == 2
    # Without the chair's one consolidated score, the web result is the CLI demo's.
    medan = RegionResult.objects.get(run=run, region__name="Kota Medan")
    expected = score(scores, framework_version_builtin("gmsc-2024").framework).regions
    assert medan.final == pytest.approx(
        expected.filter(pl.col("region") == "Kota Medan")["final"][0], abs=1e-12
    )
    # Deli Serdang's is the CLI's with legal_basis consolidated to 4 (README): its baseline (5
    # items, weight 10 %) rises by (4 - the panel's mean) / 5, its final by a tenth of that.
    framework = framework_version_builtin("gmsc-2024").framework
    cli = score(scores, framework)
    cli_home = cli.regions.filter(pl.col("region") == demo.HOME).row(0, named=True)
    mean = scores.filter((pl.col("region") == demo.HOME) & (pl.col("item") == "baseline.legal_basis"))[
        "score"
    ].mean()
    rise = (4.0 - mean) / 5
    assert home.components["baseline"] == pytest.approx(cli_home["baseline"] + rise, abs=1e-12)
    assert home.final == pytest.approx(cli_home["final"] + 0.1 * rise, abs=1e-12)
    assert (round(cli_home["baseline"], 2), round(home.components["baseline"], 2)) == (3.24, 3.28)
    assert round(cli_home["final"], 2) == round(home.final, 2) == 3.30


def test_the_default_2023_history_has_every_component_its_group_needs(db):
    components = previous_components_default()
    assert components[demo.HOME] == {
        "baseline": 3.44,
        "output": 2.63,
        "outcome": 3.25,
        "impact": 3.12,
        "quick_win": 3.8,
    }
    assert "kolaborasi" in components["Kab. Karo"]  # KPPN_IKN in 2023
