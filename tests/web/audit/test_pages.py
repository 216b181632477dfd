"""The audit trail's page and CSV export: the coordinator sees every entry and filters by
action, person, region and month; a regional admin sees only their region's entries; everyone
else gets 404 (anonymous visitors are sent to log in).

Entries: one token creation by admin_a (national: no region), a submission in region A by
admin_a in March 2025, a submission in region B by admin_b in April 2025 (both dated by hand)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse

from cityeval.web.audit import services as audit
from cityeval.web.audit.models import Action

LIST = reverse("accounts:audit")
EXPORT = reverse("accounts:audit_export")
MARCH = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)
APRIL = dt.datetime(2025, 4, 2, 9, 0, tzinfo=dt.UTC)


def _at(moment, **entry):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return audit.record(**entry)


@pytest.fixture
def entries(world, admin_a, admin_b):
    audit.record(action=Action.TOKEN_CREATE, user=admin_a, target_text="laptop")
    _at(
        MARCH,
        action=Action.SELF_ASSESSMENT_SUBMIT,
        user=admin_a,
        target=world.participation_a,
        region=world.region_a,
    )
    _at(
        APRIL,
        action=Action.SELF_ASSESSMENT_SUBMIT,
        user=admin_b,
        target=world.participation_b,
        region=world.region_b,
    )


def _rows(response) -> list[str]:
    """The page's entries as "who action target" texts."""
    return [f"{e.username} {e.action} {e.target_text}" for e in response.context["entries"].items]


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_the_coordinator_sees_every_entry_newest_first(entries, as_user, coordinator):
    response = as_user(coordinator).get(LIST)
    assert response.status_code == 200
    assert _rows(response) == [
        "admin_a token_create laptop",
        "admin_b self_assessment_submit Kota Medan in GMSC 2024",
        "admin_a self_assessment_submit Kab. Deli Serdang in GMSC 2024",
    ]
    assert "Self-assessment submitted" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=token_create", ["admin_a token_create laptop"]),
        ("who=admin_b", ["admin_b self_assessment_submit Kota Medan in GMSC 2024"]),
        ("region=kab-deli-serdang", ["admin_a self_assessment_submit Kab. Deli Serdang in GMSC 2024"]),
        ("month=2025-04", ["admin_b self_assessment_submit Kota Medan in GMSC 2024"]),
        ("q=medan", ["admin_b self_assessment_submit Kota Medan in GMSC 2024"]),
    ],
)
def test_the_coordinator_filters(entries, as_user, coordinator, query, expected):
    assert _rows(as_user(coordinator).get(f"{LIST}?{query}")) == expected


def test_the_list_is_paginated(world, as_user, coordinator):
    """60 entries: 50 on the first page (the list helper's page size), 10 on the second."""
    for k in range(60):
        audit.record(action=Action.TOKEN_CREATE, user=coordinator, target_text=f"token {k}")
    client = as_user(coordinator)
    assert len(_rows(client.get(LIST))) == 50
    assert _rows(client.get(f"{LIST}?page=2"))[-1] == "coordinator token_create token 0"


def test_the_export_is_the_filtered_list_as_csv(entries, as_user, coordinator):
    response = as_user(coordinator).get(f"{EXPORT}?region=kota-medan")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    (row,) = _csv(response)
    assert row["when"] == "2025-04-02T09:00:00+00:00"
    assert (row["who"], row["action"], row["region"]) == ("admin_b", "self_assessment_submit", "kota-medan")
    assert (row["target_type"], row["target"], row["details"]) == (
        "participation",
        "Kota Medan in GMSC 2024",
        "{}",
    )


def test_the_export_neutralises_formulas(world, as_user, coordinator):
    audit.record(action=Action.TOKEN_CREATE, user=coordinator, target_text='=HYPERLINK("http://x")')
    (row,) = _csv(as_user(coordinator).get(EXPORT))
    assert row["target"] == '\'=HYPERLINK("http://x")'


def test_a_regional_admin_sees_only_their_region(entries, as_user, admin_a):
    client = as_user(admin_a)
    response = client.get(LIST)
    assert _rows(response) == ["admin_a self_assessment_submit Kab. Deli Serdang in GMSC 2024"]
    region_filter = next(f for f in response.context["entries"].filters if f.name == "region")
    assert list(region_filter.choices) == [("kab-deli-serdang", "Kab. Deli Serdang")]
    # Asking for the other region by hand shows nothing of it.
    assert "Kota Medan" not in client.get(f"{LIST}?region=kota-medan").content.decode()
    assert [r["region"] for r in _csv(client.get(f"{EXPORT}?region=kota-medan"))] == ["kab-deli-serdang"]


def test_the_other_region_s_admin_does_not_see_it(entries, as_user, admin_b):
    response = as_user(admin_b).get(LIST)
    assert _rows(response) == ["admin_b self_assessment_submit Kota Medan in GMSC 2024"]
    assert "Deli Serdang" not in as_user(admin_b).get(EXPORT).content.decode()


@pytest.mark.parametrize("name", ["opd_a", "assessor", "nobody"])
def test_outsiders_get_404(entries, as_user, request, name):
    client = as_user(request.getfixturevalue(name))
    assert client.get(LIST).status_code == 404
    assert client.get(EXPORT).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(entries, as_user):
    for url in (LIST, EXPORT):
        response = as_user(None).get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_the_navigation_links_the_trail_for_those_who_see_it(entries, as_user, coordinator, admin_a, opd_a):
    home = reverse("accounts:tokens")
    assert LIST in as_user(coordinator).get(home).content.decode()
    assert LIST in as_user(admin_a).get(home).content.decode()
    assert LIST not in as_user(opd_a).get(home).content.decode()


def test_the_page_is_translated(entries, as_user, coordinator, settings):
    settings.LANGUAGE_CODE = "id"
    content = as_user(coordinator).get(LIST, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    assert "Jejak audit" in content and "Penilaian mandiri dikirim" in content


@pytest.fixture
def panel_entries(entries, world, assessor, coordinator):
    """The panel's confidential work in region A: a consolidated score by an assessor and the
    coordinator reading the individual assessors' data."""
    audit.record(
        action=Action.PANEL_CONSOLIDATE,
        user=assessor,
        target_text="I.1.1 consolidated",
        region=world.region_a,
    )
    audit.record(
        action=Action.ASSESSOR_DATA_DOWNLOAD,
        user=coordinator,
        target_text="panel scores of Kab. Deli Serdang",
        region=world.region_a,
    )


PANEL_CODES = {"panel_consolidate", "assessor_data_download"}


def test_a_regional_admin_does_not_see_the_panel_s_entries(panel_entries, as_user, admin_a):
    client = as_user(admin_a)
    response = client.get(LIST)
    assert _rows(response) == ["admin_a self_assessment_submit Kab. Deli Serdang in GMSC 2024"]
    content = response.content.decode()
    assert "consolidated" not in content and "panel scores" not in content and "assessor" not in content
    action_filter = next(f for f in response.context["entries"].filters if f.name == "action")
    assert PANEL_CODES.isdisjoint(code for code, _label in action_filter.choices)
    assert "self_assessment_submit" in {code for code, _label in action_filter.choices}
    # Asking for them by hand shows nothing of them, on the page or in the export.
    for code in PANEL_CODES:
        assert _rows(client.get(f"{LIST}?action={code}")) == [
            "admin_a self_assessment_submit Kab. Deli Serdang in GMSC 2024"
        ]
        assert [r["action"] for r in _csv(client.get(f"{EXPORT}?action={code}"))] == [
            "self_assessment_submit"
        ]
    assert [r["action"] for r in _csv(client.get(EXPORT))] == ["self_assessment_submit"]


def test_the_coordinator_sees_the_panel_s_entries(panel_entries, as_user, coordinator):
    client = as_user(coordinator)
    response = client.get(LIST)
    assert _rows(response)[:2] == [
        "coordinator assessor_data_download panel scores of Kab. Deli Serdang",
        "assessor panel_consolidate I.1.1 consolidated",
    ]
    action_filter = next(f for f in response.context["entries"].filters if f.name == "action")
    assert {code for code, _label in action_filter.choices} >= PANEL_CODES
    assert _rows(client.get(f"{LIST}?action=panel_consolidate")) == [
        "assessor panel_consolidate I.1.1 consolidated"
    ]
    exported = _csv(client.get(f"{EXPORT}?region=kab-deli-serdang"))
    assert {r["action"] for r in exported} >= PANEL_CODES and len(exported) == 3
