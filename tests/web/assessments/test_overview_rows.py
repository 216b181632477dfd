"""The overview's item rows, written in Python (``assessments.overview``): the addresses, built
with one ``reverse`` per table, must be the exact text ``reverse`` gives, for every GMSC item
code and for codes with characters an address quotes; the cells are escaped as the template
escaped them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix

from cityeval.engine import load_framework
from cityeval.web.assessments.overview import item_urls
from tests.web.assessments.helpers import COUNT_ITEM, LEVEL_ITEM, THRESHOLD_ITEM

ODD_CODES = ["a b", "ü.ß", "50%", "x?y#z", "a&b=c", "~:@!$'()*+,;", "-", "items", "é", "<tag>"]


def _reverse(region: str, cycle: str, code: str) -> str:
    return reverse("assessments:item", kwargs={"region": region, "cycle": cycle, "item": code})


@pytest.mark.parametrize(("region", "cycle"), [("region-a", "gmsc-2024"), ("-", "items"), ("r_1", "-")])
def test_every_item_address_is_the_one_reverse_writes(region, cycle):
    framework = load_framework("gmsc-2024")
    codes = [item.code for _component, item in framework.items_by_code.values()] + ODD_CODES
    url = item_urls(region, cycle)
    assert [url(code) for code in codes] == [_reverse(region, cycle, code) for code in codes]


@pytest.mark.parametrize("code", ["a/b", ""])
def test_a_code_an_address_cannot_hold_fails_as_reverse_does(code):
    with pytest.raises(NoReverseMatch):
        item_urls("region-a", "gmsc-2024")(code)


def test_the_script_prefix_is_kept():
    """Served under a sub-path (``FORCE_SCRIPT_NAME``), the addresses carry it, as reverse's do."""
    set_script_prefix("/cityeval/")
    try:
        assert item_urls("region-a", "gmsc-2024")("baseline.1") == _reverse(
            "region-a", "gmsc-2024", "baseline.1"
        )
        assert item_urls("region-a", "gmsc-2024")("baseline.1").startswith("/cityeval/r/region-a/")
    finally:
        set_script_prefix("/")


def _row(page: str, code: str) -> str:
    return page.split(f'<tr id="item-{code}">')[1].split("</tr>")[0]


def test_a_row_shows_its_cells_escaped(world, as_user, admin_a, assign, answer, urls):
    """The row as the template wrote it, cell by cell (expected text written by hand): an OPD
    name with markup is text, a percentage's raw value keeps its "%", a level has two places, a
    row without evidence says so."""
    world.opd_health.short_name = ""
    world.opd_health.name = 'Dinas <b>"Kesehatan"</b> & KB'
    world.opd_health.save()
    assign(THRESHOLD_ITEM, world.opd_health)
    answer(THRESHOLD_ITEM, raw_value=65.125)
    answer(COUNT_ITEM, level=3, raw_value=12)
    page = as_user(admin_a).get(urls.overview).content.decode()
    row = _row(page, THRESHOLD_ITEM)
    box = f'<input type="checkbox" name="items" value="{THRESHOLD_ITEM}" aria-label="{THRESHOLD_ITEM}">'
    assert f"<td>{box}</td>" in row
    assert f'<a href="{urls.item(THRESHOLD_ITEM)}">' in row
    assert "<td>Quantity (%)</td>" in row
    assert "<td>Dinas &lt;b&gt;&quot;Kesehatan&quot;&lt;/b&gt; &amp; KB</td>" in row
    # 65.125 % is at least 60: level 3 (thresholds 20/40/60/80); the raw value to two places,
    # half up (65.13).
    assert '<td class="num">3.00<br><span class="help">65.13%</span></td>' in row
    assert '<span class="badge warn">Answered, no evidence</span>' in row
    count = _row(page, COUNT_ITEM)
    assert (
        '<td class="num">3.00<br><span class="help">12</span></td>' in count and "<td>Quantity</td>" in count
    )
    missing = _row(page, LEVEL_ITEM)
    assert '<td><span class="help">–</span></td>' in missing
    assert '<td class="num">–</td>' in missing and '<span class="badge bad">Not answered</span>' in missing


def test_a_contributor_gets_no_checkboxes(world, as_user, opd_a, urls):
    page = as_user(opd_a).get(urls.overview).content.decode()
    assert f'<tr id="item-{LEVEL_ITEM}">' in page and 'type="checkbox"' not in page


def test_more_answers_cost_no_more_queries(world, as_user, admin_a, answer, urls):
    """The overview reads the answers' levels and raw values only (``latest_answers(full=False)``):
    a field it did not read would cost a query per answer."""
    client = as_user(admin_a)
    answer(LEVEL_ITEM, level=2)
    client.get(urls.overview)
    with CaptureQueriesContext(connection) as one:
        client.get(urls.overview)
    answer(LEVEL_ITEM, level=3)
    answer(COUNT_ITEM, level=1, raw_value=4)
    answer(THRESHOLD_ITEM, raw_value=50)
    with CaptureQueriesContext(connection) as four:
        page = client.get(urls.overview).content.decode()
    assert len(four) == len(one)
    assert '<td class="num">2.00<br><span class="help">50%</span></td>' in _row(page, THRESHOLD_ITEM)


def test_a_tables_body_is_its_rows_in_order_kept_as_html():
    from django.utils.safestring import SafeString, mark_safe

    from cityeval.web.assessments.overview import TableText

    table = TableText(label="A", weight="10%", rows=[mark_safe("<tr>1</tr>"), mark_safe("<tr>&amp;2</tr>")])
    assert table.body == "<tr>1</tr><tr>&amp;2</tr>" and isinstance(table.body, SafeString)
    assert TableText(label="A", weight="", rows=[]).body == ""
