"""The assessor's work list says what it counts: items scored and still to score per region,
whether the region submitted its self-assessment, what is due; a finished cycle's unsubmitted
marks are not shown as pending. The scoring page counts items *to score*, labelled so (before
issue 11 a card titled "My marks" showed the number of unscored items)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.panels.models import ItemScore
from cityeval.web.panels.services import item_scores_record
from tests.helpers.panels import LEVEL_ITEM, THRESHOLD_ITEM


def row_of(page: str) -> str:
    table = page[page.index('id="my-regions"') :]
    return table[table.index("<tbody>") : table.index("</tr>", table.index("<tbody>"))]


def test_scored_to_score_submission_and_due(world, as_user, chair, panel_region, urls):
    """Two of the 111 REGULER items scored: 2 / 111 scored, 109 still to score."""
    for code in (LEVEL_ITEM, THRESHOLD_ITEM):
        ItemScore.objects.create(panel_region=panel_region, item=code, assessor=chair, score=2)
    Participation.objects.filter(pk=world.participation_a.pk).update(submitted_at=timezone.now())
    deadline = timezone.now() + dt.timedelta(days=10)
    Stage.objects.update_or_create(
        cycle=world.cycle,
        kind=panel_region.stage,
        defaults={"starts_on": dt.date(2024, 6, 1), "ends_on": dt.date(2024, 9, 1), "deadline": deadline},
    )
    row = row_of(as_user(chair).get(urls.mine).content.decode())
    cells = [cell.split(">")[-1].strip() for cell in row.split("</td>")]
    assert "2 / 111" in row and ">109</td>" in row
    assert "submitted on" in row
    assert str(deadline.astimezone(timezone.get_current_timezone()).year) in cells[7]
    assert "Not submitted" in row


def test_a_closed_cycles_unsubmitted_marks_are_not_pending(world, as_user, chair, panel_region, urls):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.PUBLISHED)
    row = row_of(as_user(chair).get(urls.mine).content.decode())
    assert "Not submitted; cycle published" in row and "badge warn" not in row


def test_the_scoring_page_labels_the_count_as_items_to_score(world, as_user, chair, panel_region, urls):
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=2)
    page = as_user(chair).get(urls.region()).content.decode()
    assert '<div class="big" id="to-score">110</div>' in page
    assert "items still to score (1 of 111 scored)" in page


def test_my_panels_counts_a_new_score_on_the_next_request(world, as_user, chair, panel_region, urls):
    """The counts of scored items are kept between requests under the assessor's scores'
    version: a score recorded through the service counts on the next request (0 → 1 → 2
    items, a revision of a counted item changes nothing), and a kept count reads no score."""
    client = as_user(chair)

    def scored() -> int:
        response = client.get(urls.mine)
        (row, _stage, _left), *_ = response.context["rows"]
        return row.scored

    assert scored() == 0
    item_scores_record(panel_region=panel_region, assessor=chair, scores={LEVEL_ITEM: (2.0, "")})
    assert scored() == 1
    item_scores_record(
        panel_region=panel_region, assessor=chair, scores={LEVEL_ITEM: (3.0, ""), THRESHOLD_ITEM: (1.0, "")}
    )
    assert scored() == 2
    with CaptureQueriesContext(connection) as queries:
        assert scored() == 2
    reads = [q["sql"] for q in queries if 'FROM "panels_itemscore"' in q["sql"]]
    assert len(reads) == 1 and "MAX(" in reads[0] and "COUNT(DISTINCT" not in reads[0]
