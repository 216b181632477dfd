"""The overview's item addresses are built with one ``reverse`` per table (``overview.item_urls``):
each must be the exact text ``reverse`` gives, for every GMSC item code and for codes with
characters an address quotes."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from cityeval.engine import load_framework
from cityeval.web.assessments.overview import item_urls

ODD_CODES = ["a b", "ü.ß", "50%", "x?y#z", "a&b=c", "~:@!$'()*+,;", "-", "items", "é", "<tag>"]


def _reverse(region: str, cycle: str, code: str) -> str:
    return reverse("assessments:item", kwargs={"region": region, "cycle": cycle, "item": code})


@pytest.mark.parametrize(("region", "cycle"), [("region-a", "gmsc-2024"), ("-", "items"), ("r_1", "-")])
def test_every_item_address_is_the_one_reverse_writes(region, cycle):
    framework = load_framework("gmsc-2024")
    codes = [item.code for _component, item in framework.items_by_code.values()] + ODD_CODES
    url = item_urls(region, cycle)
    assert [url(code) for code in codes] == [_reverse(region, cycle, code) for code in codes]


def test_a_code_an_address_cannot_hold_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        item_urls("region-a", "gmsc-2024")("a/b")


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
