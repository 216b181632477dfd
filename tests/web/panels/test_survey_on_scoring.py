"""Assessors see the impact survey next to the Impact items: its mean as the proposal, and the
form's quality flags (the demo survey's planted problems)."""

from __future__ import annotations

from cityeval.web.surveys.demo import load_survey_demo
from cityeval.web.surveys.selectors import impact_flags, proposed_levels


def test_the_scoring_page_shows_the_survey_mean_and_its_quality_flags(
    world, chair, panel_region, as_user, urls
):
    load_survey_demo(participation=world.participation_a)
    proposals, flags = proposed_levels(world.participation_a), impact_flags(world.participation_a)
    assert "impact.service.1" in proposals and flags.get("impact.service.1")  # the straight-liner's form

    page = as_user(chair).get(urls.region())
    assert page.status_code == 200
    cells = page.context["sheet"].region
    assert cells.proposals["impact.service.1"] == proposals["impact.service.1"]
    assert list(cells.survey_flags["impact.service.1"]) == flags["impact.service.1"]
    assert flags["impact.service.1"][0] in page.content.decode()
