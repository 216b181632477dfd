"""What each level means, shown to the OPD (item page) and the assessor (scoring page), from
the framework's descriptor sets and labelled as cityeval's guidance rather than the ministry's;
and how the quick-win criteria on a programme page relate to the Quick Win component."""

from __future__ import annotations

from cityeval.web.panels.models import Panel, PanelMember, PanelRegion
from tests.helpers.web import make_user as _user
from tests.web.assessments.helpers import LEVEL_ITEM
from tests.web.programmes.helpers import programme_url

# gmsc-2024.yaml: baseline.legal_basis names the "document" set, whose level 1 reads so.
DRAFT_EN = "The document is being drafted, not yet adopted."
DRAFT_ID = "Dokumen sedang disusun (draf), belum ditetapkan."


def test_the_item_page_shows_the_levels_as_cityevals_guidance(world, as_user, opd_a, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    page = as_user(opd_a).get(urls.item()).content.decode()
    section = page[
        page.index('id="level-descriptors"') : page.index("</details>", page.index('id="level-descriptors"'))
    ]
    assert DRAFT_EN in section and "not the ministry's" in section
    assert section.count("<dt>") == 5


def test_the_item_page_speaks_indonesian_guidance_in_indonesian(world, as_user, admin_a, urls, settings):
    settings.LANGUAGE_CODE = "id"
    page = as_user(admin_a).get(urls.item()).content.decode()
    assert DRAFT_ID in page and DRAFT_EN not in page


def test_the_scoring_page_shows_the_levels_to_the_assessor(world, as_user):
    assessor = _user("panel_assessor", "assessor")
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel 1")
    PanelMember.objects.create(panel=panel, user=assessor, affiliation="university", organisation="USU")
    PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_2")
    url = f"/panels/cycles/{world.cycle.slug}/stage_2/{world.region_a.slug}/"
    page = as_user(assessor).get(url).content.decode()
    row = page[page.index(f'id="item-{LEVEL_ITEM}"') :]
    row = row[: row.index("</tr>")]
    assert DRAFT_EN in row
    assert "cityeval's guidance, not the ministry's." in row


def test_the_scoring_page_keeps_its_drawn_levels_per_language(world, as_user, settings):
    """The levels are drawn once per framework, item and language and kept by the process: an
    English view, then an Indonesian one, then English again each show their own words."""
    assessor = _user("panel_assessor", "assessor")
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel 1")
    PanelMember.objects.create(panel=panel, user=assessor, affiliation="university", organisation="USU")
    PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_2")
    url = f"/panels/cycles/{world.cycle.slug}/stage_2/{world.region_a.slug}/"
    client = as_user(assessor)

    def row() -> str:
        page = client.get(url).content.decode()
        found = page[page.index(f'id="item-{LEVEL_ITEM}"') :]
        return found[: found.index("</tr>")]

    assert DRAFT_EN in row()
    settings.LANGUAGE_CODE = "id"
    indonesian = row()
    assert DRAFT_ID in indonesian and DRAFT_EN not in indonesian
    settings.LANGUAGE_CODE = "en"
    assert DRAFT_EN in row()


def test_the_programme_page_says_how_its_criteria_relate_to_the_quick_win_component(world, as_user, admin_a):
    from cityeval.web.programmes.models import Programme

    programme = Programme.objects.create(
        region=world.region_a, name="Patogen", dimension="living", subdimension="health",
        owner=world.opd_health, status="running", start_year=2024, is_quick_win=True,
    )  # fmt: skip
    page = as_user(admin_a).get(programme_url("programme_detail", programme)).content.decode()
    note = page[page.index('id="quick-win-relation"') :]
    assert "do not enter any score by themselves" in note[: note.index("</p>")]
