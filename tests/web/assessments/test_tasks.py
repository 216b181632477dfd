"""Work lists: an OPD contributor's "my tasks" page (their items, answered or not, the deadline
with days left), next/previous links on the item page, and the regional admin's progress per
OPD. The shared world's 2024 cycle is open with its deadline 30 days ahead."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.assessments.helpers import COUNT_ITEM, LEVEL_ITEM, THRESHOLD_ITEM

TASKS = reverse("assessments:tasks")


def test_an_opd_contributor_lands_on_their_tasks(world, as_user, opd_a):
    assert as_user(opd_a).get("/")["Location"] == TASKS


def test_a_regional_admin_still_lands_on_the_region(world, as_user, admin_a):
    assert as_user(admin_a).get("/")["Location"] == f"/r/{world.region_a.slug}/"


def test_the_task_list_shows_only_my_items_answered_or_not_and_days_left(
    world, as_user, opd_a, assign, answer, urls
):
    """Two items assigned to Dinkes (one answered), one to Disdik: Dinkes sees 1 of 2 answered;
    the deadline is 30 days ahead in the shared world, so 30 days are left (rounded up)."""
    assign(LEVEL_ITEM, world.opd_health)
    assign(THRESHOLD_ITEM, world.opd_health)
    assign(COUNT_ITEM, world.opd_education)
    answer(LEVEL_ITEM, level=2.0)
    page = as_user(opd_a).get(TASKS).content.decode()
    assert urls.item(LEVEL_ITEM) in page and urls.item(THRESHOLD_ITEM) in page
    assert urls.item(COUNT_ITEM) not in page
    assert "1 of 2 items answered, 1 still unanswered." in page
    assert "30 days left" in page


@pytest.mark.parametrize("name", ["coordinator", "assessor", "nobody"])
def test_people_without_a_regional_role_have_no_tasks_page(request, world, as_user, name):
    assert as_user(request.getfixturevalue(name)).get(TASKS).status_code == 404


def test_anonymous_is_sent_to_log_in(world, client):
    assert client.get(TASKS).status_code == 302


def test_another_regions_contributor_does_not_see_region_a(world, as_user, opd_b, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    page = as_user(opd_b).get(TASKS).content.decode()
    assert "Kab. Deli Serdang" not in page and urls.item(LEVEL_ITEM) not in page


def test_the_item_page_walks_my_items_in_order(world, as_user, opd_a, assign, urls):
    """Framework order of the three assigned items: legal_basis (baseline) before
    programmes_last_year (baseline) before realisation_governance (outcome)."""
    for code in (THRESHOLD_ITEM, LEVEL_ITEM, COUNT_ITEM):
        assign(code, world.opd_health)
    client = as_user(opd_a)
    first = client.get(urls.item(LEVEL_ITEM)).content.decode()
    assert 'id="previous-item"' not in first
    assert f'href="{urls.item(COUNT_ITEM)}" rel="next"' in first and "item 1 of 3" in first
    middle = client.get(urls.item(COUNT_ITEM)).content.decode()
    assert f'href="{urls.item(LEVEL_ITEM)}" rel="prev"' in middle
    assert f'href="{urls.item(THRESHOLD_ITEM)}" rel="next"' in middle
    assert 'id="next-item"' not in client.get(urls.item(THRESHOLD_ITEM)).content.decode()


def test_the_item_title_is_its_name_not_its_code(world, as_user, admin_a, urls):
    page = as_user(admin_a).get(urls.item(LEVEL_ITEM)).content.decode()
    title = page[page.index("<title>") : page.index("</title>")]
    assert LEVEL_ITEM not in title
    heading = page[page.index("<h1") : page.index("</h1>")]
    assert LEVEL_ITEM not in heading and "has a legal basis" in heading
    assert "has a legal basis" in title


def test_the_admin_sees_progress_per_opd(world, as_user, admin_a, assign, answer, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assign(THRESHOLD_ITEM, world.opd_health)
    answer(LEVEL_ITEM, level=2.0)
    page = as_user(admin_a).get(urls.overview).content.decode()
    table = page[page.index('id="opd-progress"') : page.index("</table>", page.index('id="opd-progress"'))]
    dinkes = table[table.index(world.opd_health.name) :]
    cells = [c.split(">")[-1] for c in dinkes.split("</td>")[1:4]]
    assert cells == ["2", "1", "1"]


def test_an_opd_contributor_does_not_see_progress_per_opd(world, as_user, opd_a, urls):
    assert b'id="opd-progress"' not in as_user(opd_a).get(urls.overview).content


def test_the_navigation_links_my_tasks_for_regional_roles_only(world, as_user, opd_a, admin_a, assessor):
    assert f'href="{TASKS}"'.encode() in as_user(opd_a).get(TASKS).content
    assert f'href="{TASKS}"'.encode() in as_user(admin_a).get(TASKS).content
    assert f'href="{TASKS}"'.encode() not in as_user(assessor).get("/panels/").content


def test_progress_per_opd_counts_every_opd_whatever_the_filter(world, as_user, admin_a, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assign(COUNT_ITEM, world.opd_education)
    page = as_user(admin_a).get(urls.overview + f"?opd={world.opd_health.slug}").content.decode()
    table = page[page.index('id="opd-progress"') : page.index("</table>", page.index('id="opd-progress"'))]
    assert world.opd_health.name in table and world.opd_education.name in table
