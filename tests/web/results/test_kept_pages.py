"""The results pages keep what they draw from a computed run (``results.kept``): the kept parts
are keyed right (a new run, another language, another region, another reader's kind give their
own) and never let a reader see what they may not (access and feedback are decided per request).

Numbers from the fixtures (``conftest``): A 3.568 → "3,57" (Indonesian) / "3.57" (English), B
2.6; B's scores raised to A's (3, 3, 4, 4, 4 on every item, no consolidated score) give B 3.6,
above A.
"""

from __future__ import annotations

import dataclasses
import re
import uuid

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.panels.models import ItemScore
from cityeval.web.regions.models import Region
from cityeval.web.results import selectors
from cityeval.web.results.history import history_import
from cityeval.web.results.intervals import national_intervals_kept
from cityeval.web.results.kept import forget_all, run_key
from cityeval.web.results.models import ResultRun
from cityeval.web.results.selectors import results_access
from cityeval.web.results.services import cycle_publish, results_compute
from tests.helpers.results import A_2023, CYCLE, REGION_A, REGION_B, STRENGTHS

NATIONAL = f"/results/{CYCLE}/"
REGION_A_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
REGION_B_PAGE = f"/r/{REGION_B}/{CYCLE}/results/"
pytestmark = pytest.mark.django_db


def _get(client, url: str, language: str = "id") -> str:
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response.content.decode()


def _finals(html: str) -> list[tuple[str, str]]:
    """(region slug, final) of the national table's rows, in the page's order."""
    return re.findall(
        r'<tr id="region-([^"]+)">\s*<td>.*?</td>\s*<td class="num"><strong>([^<]+)</strong>', html
    )


def _raise_b_to_a() -> None:
    for score, new in ((3.0, 4.0), (2.0, 3.0)):  # the threes first, then the twos
        ItemScore.objects.filter(panel_region__participation__region__slug=REGION_B, score=score).update(
            score=new
        )


def test_a_new_run_shows_its_numbers_at_once_on_both_pages(computed, as_user, coordinator):
    client = as_user(coordinator)
    for _ in range(2):  # the second request reads the kept parts
        assert _finals(_get(client, NATIONAL)) == [(REGION_A, "3,57"), (REGION_B, "2,60")]
        assert 'id="final">2,60<' in _get(client, REGION_B_PAGE)
    _raise_b_to_a()
    results_compute(cycle=computed.cycle, user=coordinator)
    assert _finals(_get(client, NATIONAL)) == [(REGION_B, "3,60"), (REGION_A, "3,57")]
    region_b = _get(client, REGION_B_PAGE)
    assert 'id="final">3,60<' in region_b and 'id="rank-national">1 dari 2<' in region_b


def test_each_language_gets_its_own_numbers_and_words(published, as_user, coordinator):
    client = as_user(coordinator)
    for _ in range(2):
        indonesian, english = _get(client, NATIONAL, "id"), _get(client, NATIONAL, "en")
        assert _finals(indonesian)[0] == (REGION_A, "3,57") and _finals(english)[0] == (REGION_A, "3.57")
        indonesian, english = _get(client, REGION_A_PAGE, "id"), _get(client, REGION_A_PAGE, "en")
        assert 'id="final">3,57<' in indonesian and 'id="rank-national">1 dari 2<' in indonesian
        assert 'id="final">3.57<' in english and 'id="rank-national">1 of 2<' in english


@pytest.mark.parametrize("name", ["admin_a", "admin_b", "nobody", None])
def test_kept_pages_stay_closed_to_everyone_but_the_coordinator_before_publication(
    computed, as_user, coordinator, persona, name
):
    coordinator_client = as_user(coordinator)
    for url in (NATIONAL, REGION_A_PAGE):
        _get(coordinator_client, url)  # kept
    client = as_user(persona(name))
    for url in (NATIONAL, REGION_A_PAGE, REGION_B_PAGE):
        response = client.get(url)
        assert response.status_code == 404 and b"3,57" not in response.content, url


def test_a_region_admin_never_gets_another_regions_kept_page_or_feedback(
    published, as_user, coordinator, admin_a, admin_b
):
    """A's page kept for A's admin (who sees A's feedback) and for the coordinator: B's admin and
    an anonymous citizen get A's numbers (public once published) without A's feedback, and A's
    admin gets B's page with B's numbers."""
    for reader in (coordinator, admin_a):
        assert STRENGTHS in _get(as_user(reader), REGION_A_PAGE)
    for reader in (admin_b, None):
        page = _get(as_user(reader), REGION_A_PAGE)
        assert 'id="final">3,57<' in page and STRENGTHS not in page and 'id="feedback"' not in page
    region_b = _get(as_user(admin_a), REGION_B_PAGE)
    assert 'id="final">2,60<' in region_b and "<h1>Kota Medan · " in region_b
    assert 'id="feedback"' not in region_b


def test_a_renamed_region_shows_its_new_name_although_its_run_was_kept(published, as_user, coordinator):
    client = as_user(coordinator)
    _get(client, NATIONAL), _get(client, REGION_B_PAGE)
    Region.objects.filter(slug=REGION_A).update(name="Kab. Deli Serdang Baru")
    assert ">Kab. Deli Serdang Baru</a>" in _get(client, NATIONAL)
    assert "Kab. Deli Serdang Baru" in _get(client, REGION_B_PAGE)  # among B's peers and neighbours


def test_publication_shows_on_the_kept_pages_at_once(computed, as_user, coordinator):
    client = as_user(coordinator)
    assert 'id="not-public"' in _get(client, REGION_A_PAGE)
    cycle_publish(cycle=computed.cycle, user=coordinator)
    assert 'id="not-public"' not in _get(client, REGION_A_PAGE)
    assert 'id="stale"' not in _get(client, NATIONAL)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(client, url)
    return len(queries)


def test_the_region_page_cold_and_warm_reads_as_many_queries_with_more_years(published, as_user, coordinator):
    """Nothing kept (a new process), then kept: the cold page reads a few queries more than the
    warm one, and neither count grows with the years of history (2023 and 2024, then 2022 too)."""
    client = as_user(coordinator)
    forget_all()
    cold, warm = _queries(client, REGION_A_PAGE), _queries(client, REGION_A_PAGE)
    table = pl.DataFrame({"region": ["Kab. Deli Serdang", "kota-medan"], "group": ["REGULER"] * 2})
    table = table.with_columns(*(pl.lit(v).alias(code) for code, v in A_2023.items()))
    history_import(
        year=2022, framework_version=framework_version_builtin("gmsc-2022"), table=table, user=coordinator
    )
    forget_all()
    assert (_queries(client, REGION_A_PAGE), _queries(client, REGION_A_PAGE)) == (cold, warm)
    assert warm < cold
    assert _get(client, REGION_A_PAGE).count("1 dari 2") >= 3  # the history's three years


def test_region_history_survives_a_kept_count_pushed_out_by_its_neighbour(published, as_user, coordinator):
    """Found by a review. Region A has two current runs, 2024 (computed) and 2023 (imported);
    the count store is full, the 2023 run's count kept but least recently used, the 2024 run's
    not kept. Only 2024 is counted; keeping it pushes out 2023, which must be counted again,
    not looked up in the counts just made (a KeyError and a 500 before)."""
    forget_all()
    runs = {r.cycle.year: r for r in ResultRun.objects.filter(is_current=True).select_related("cycle")}
    assert set(runs) == {2023, 2024}
    kept = selectors._ranked_kept
    kept.get(run_key(runs[2023]), lambda: 2)  # the oldest entry
    for n in range(selectors.RANKED_KEPT - 1):  # other runs' counts, read after it
        kept.get((10_000 + n, str(uuid.uuid4())), lambda: 1)
    assert len(kept) == selectors.RANKED_KEPT and run_key(runs[2024]) not in kept
    response = as_user(coordinator).get(f"/r/{REGION_A}/{CYCLE}/results/")
    assert response.status_code == 200
    forget_all()


def test_the_kept_national_intervals_cannot_be_changed_by_a_caller(published, coordinator):
    """Found by a review: the kept value held the run's uncertainty record, a model object a
    caller could change for every later request. It holds a frozen copy of what the table
    shows (the number of draws, as stored)."""
    forget_all()
    first = national_intervals_kept(results_access(coordinator, CYCLE))
    assert first.record is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.record.draws = 1  # type: ignore[misc]
    again = national_intervals_kept(results_access(coordinator, CYCLE))
    stored = ResultRun.objects.get(cycle__slug=CYCLE, is_current=True).uncertainty
    assert again.record is first.record and again.record.draws == stored.draws


def test_searches_pick_among_the_kept_rows_without_keeping_more(published, as_user, coordinator):
    """A search (matched by the database) picks from the run's kept rows: distinct searches do
    not each keep a copy of the table (a visitor could push every other run's rows out)."""
    forget_all()
    client = as_user(coordinator)
    everyone = _finals(_get(client, f"/results/{CYCLE}/"))
    medan = _finals(_get(client, f"/results/{CYCLE}/?q=medan"))
    nobody = _finals(_get(client, f"/results/{CYCLE}/?q=zzz"))
    assert len(selectors._national_rows_kept) == 1
    assert len(everyone) == 2 and medan == [("kota-medan", "2,60")] and nobody == []
