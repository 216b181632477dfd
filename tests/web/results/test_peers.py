"""The region page's peers section and the coordinator's distribution page, on a small
imported cycle whose numbers are checked by hand (quartiles: numpy's default, linear
interpolation; the p-quantile of n sorted values sits at h = (n − 1)·p).

The 2023 cycle (gmsc-2023, published by the import); every component but the baseline holds
the "others" score, so final = 0.1 × baseline + 0.9 × others (weights 10/20/30/20/20, and
10/20/20/20/20/10 with kolaborasi for KPPN_IKN):

    region             kind       province          group     baseline  others  final
    Kab. Deli Serdang  kabupaten  Sumatera Utara    REGULER   1.0       3.0     2.8
    Kota Medan         kota       Sumatera Utara    REGULER   2.0       2.0     2.0
    Kota Binjai        kota       Sumatera Utara    REGULER   4.0       3.5     3.55
    Kab. Karo          kabupaten  Sumatera Utara    REGULER   3.0       1.0     1.2
    Kota Padang        kota       Sumatera Barat    REGULER   0.0       2.5     2.25
    Kab. Agam          kabupaten  Sumatera Barat    KPPN_IKN  2.0       3.0     2.9

Deli Serdang's peers, by hand:
- REGULER finals 1.2, 2.0, 2.25, 2.8, 3.55 (n = 5): Q1 x[1] = 2.0, median 2.25, Q3 2.8;
  baselines 0, 1, 2, 3, 4: 1, 2, 3.
- Sumatera Utara finals 1.2, 2.0, 2.8, 3.55 (n = 4): Q1 at h = 0.75 → 1.2 + 0.75 × 0.8 = 1.8;
  median at 1.5 → 2.0 + 0.5 × 0.8 = 2.4; Q3 at 2.25 → 2.8 + 0.25 × 0.75 = 2.9875 (2.99);
  baselines 1, 2, 3, 4: 1.75, 2.5, 3.25.
- kabupaten finals 1.2, 2.8, 2.9 (n = 3): Q1 at 0.5 → 2.0; median 2.8; Q3 at 1.5 → 2.85;
  baselines 1, 2, 3: 1.5, 2, 2.5.
- nearest by final (2.8): Agam +0.10, Padang −0.55, Binjai +0.75, Medan −0.80, Karo −1.60.

All six finals 1.2, 2.0, 2.25, 2.8, 2.9, 3.55: Q1 at h = 1.25 → 2.0 + 0.25 × 0.25 = 2.0625
(2.06).
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.history import history_import
from cityeval.web.results.models import ResultRun
from cityeval.web.results.peers import peer_table

CODES = ("baseline", "output", "outcome", "impact", "quick_win")
PAGE_2023 = "/r/kab-deli-serdang/history-2023/results/"
DISTRIBUTION = "/results/history-2023/distribution/"


def _import(year: int, rows: list[tuple[str, str, float, float]], user) -> Cycle:
    """rows: (region, group, baseline, others); kolaborasi only for KPPN_IKN."""
    table = pl.DataFrame(
        {
            "region": [r[0] for r in rows],
            "group": [r[1] for r in rows],
            "baseline": [r[2] for r in rows],
            **{code: [r[3] for r in rows] for code in CODES[1:]},
            "kolaborasi": [r[3] if r[1] == "KPPN_IKN" else None for r in rows],
        },
        schema_overrides={"kolaborasi": pl.Float64},
    )
    return history_import(
        year=year, framework_version=framework_version_builtin("gmsc-2023"), table=table, user=user
    )


def _region(name: str, kind: str, province: Province) -> Region:
    slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
    return Region.objects.create(name=name, slug=slug, kind=kind, province=province)


@pytest.fixture
def peer_world(world, coordinator):
    north = world.region_a.province
    west = Province.objects.create(name="Sumatera Barat")
    _region("Kota Binjai", "kota", north)
    _region("Kab. Karo", "kabupaten", north)
    _region("Kota Padang", "kota", west)
    _region("Kab. Agam", "kabupaten", west)
    return _import(
        2023,
        [
            ("Kab. Deli Serdang", "REGULER", 1.0, 3.0),
            ("Kota Medan", "REGULER", 2.0, 2.0),
            ("Kota Binjai", "REGULER", 4.0, 3.5),
            ("Kab. Karo", "REGULER", 3.0, 1.0),
            ("Kota Padang", "REGULER", 0.0, 2.5),
            ("Kab. Agam", "KPPN_IKN", 2.0, 3.0),
        ],
        coordinator,
    )


def _cells(content: bytes, row_id: str) -> list[str]:
    """The text of each cell of the table row with that id."""
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', content.decode(), re.S)
    assert row is not None, row_id
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def _nearest(content: bytes) -> list[str]:
    table = re.search(r'<table id="peers-nearest">(.*?)</table>', content.decode(), re.S)
    assert table is not None
    return re.findall(r'<tr id="nearest-([a-z-]+)">', table.group(1))


def test_the_region_page_shows_its_peers_quartiles_by_hand(peer_world, as_user, admin_a):
    response = as_user(admin_a).get(PAGE_2023)
    assert response.status_code == 200
    content = response.content
    assert b'id="peers"' in content
    # Score, the region, then group, province and kind: median (Q1–Q3).
    assert _cells(content, "peers-final") == [
        "Final", "2.80", "2.25 (2.00–2.80)", "2.40 (1.80–2.99)", "2.80 (2.00–2.85)",
    ]  # fmt: skip
    assert _cells(content, "peers-baseline")[1:] == [
        "1.00", "2.00 (1.00–3.00)", "2.50 (1.75–3.25)", "2.00 (1.50–2.50)",
    ]  # fmt: skip
    # Kolaborasi is weighted for KPPN_IKN only: not a score of Deli Serdang (REGULER).
    assert 'id="peers-kolaborasi"' not in content.decode()
    for heading in ("Group: REGULER", "Province: Sumatera Utara", "Kind: Regency (kabupaten)"):
        assert heading in content.decode()
    # One chart per peer set, each an image with a name and the table as its alternative.
    charts = re.findall(r'<svg [^>]*class="boxplot" role="img"[^>]*aria-label="([^"]+)"', content.decode())
    assert len(charts) == 3 and all(
        label.startswith("Kab. Deli Serdang against its peers") for label in charts
    )
    assert _nearest(content) == ["kab-agam", "kota-padang", "kota-binjai", "kota-medan", "kab-karo"]
    assert _cells(content, "nearest-kab-agam") == ["Kab. Agam", "2.90", "+0.10"]
    assert _cells(content, "nearest-kab-karo") == ["Kab. Karo", "1.20", "-1.60"]


def test_a_missing_score_is_left_out_of_the_quartiles(peer_world, as_user):
    """Agam (KPPN_IKN) has kolaborasi 3.0; among its group, its province (Padang is REGULER)
    and the kabupaten (Deli Serdang and Karo are REGULER) no other region has one."""
    content = as_user(None).get("/r/kab-agam/history-2023/results/").content
    assert _cells(content, "peers-kolaborasi") == ["Collaboration", "3.00", *["3.00 (3.00–3.00)"] * 3]
    assert _cells(content, "peers-final")[2:] == ["2.90 (2.90–2.90)", "2.58 (2.41–2.74)", "2.80 (2.00–2.85)"]


def test_an_unpublished_region_is_not_among_the_peers_a_regional_admin_sees(
    peer_world, as_user, admin_a, coordinator
):
    """Kota Sibolga has results only in a computed but unpublished cycle (2022), with a final
    (2.79) nearer Deli Serdang's 2.8 than any published region's."""
    _region("Kota Sibolga", "kota", Province.objects.get(name="Sumatera Utara"))
    hidden = _import(
        2022, [("Kab. Deli Serdang", "REGULER", 1.0, 3.0), ("Kota Sibolga", "REGULER", 2.7, 2.8)], None
    )
    Cycle.objects.filter(pk=hidden.pk).update(status=Cycle.Status.CLOSED)  # computed, not published
    content = as_user(admin_a).get(PAGE_2023).content
    assert b"Sibolga" not in content
    assert _nearest(content) == ["kab-agam", "kota-padang", "kota-binjai", "kota-medan", "kab-karo"]
    assert _cells(content, "peers-final")[3] == "2.40 (1.80–2.99)"  # the province without Sibolga
    assert as_user(admin_a).get("/r/kab-deli-serdang/history-2022/results/").status_code == 404
    # The helper fails closed on its own: an unpublished run's lines are read for the coordinator only.
    run = ResultRun.objects.get(cycle=hidden, is_current=True)
    framework = hidden.framework.framework
    assert peer_table(run, framework, published_only=True).height == 0
    regions = peer_table(run, framework, published_only=False)["region"].to_list()
    assert sorted(regions) == ["Kab. Deli Serdang", "Kota Sibolga"]
    # The coordinator sees the unpublished cycle, Sibolga among Deli Serdang's peers.
    coordinator_page = as_user(coordinator).get("/r/kab-deli-serdang/history-2022/results/").content
    assert _nearest(coordinator_page) == ["kota-sibolga"]


def test_the_region_page_costs_as_many_queries_with_six_regions_as_with_two(peer_world, as_user, admin_a):
    """The 2023 cycle has six regions, the 2022 one two: Deli Serdang's page of each costs the
    same queries (both list the two cycles in the history; neither has a previous year)."""
    _import(2022, [("Kab. Deli Serdang", "REGULER", 1.0, 3.0), ("Kota Medan", "REGULER", 2.0, 2.0)], None)
    client = as_user(admin_a)
    counts = []
    for url in (PAGE_2023, "/r/kab-deli-serdang/history-2022/results/"):
        client.get(url)  # the session's first read is not the page's
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and b'id="peers-nearest"' in response.content
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_distribution_page_shows_each_score_by_hand(peer_world, as_user, coordinator):
    response = as_user(coordinator).get(DISTRIBUTION)
    assert response.status_code == 200
    content = response.content
    # Score, regions, lowest, Q1, median, Q3, highest.
    assert _cells(content, "distribution-all-final")[:4] == ["Final", "6", "1.20", "2.06"]
    assert _cells(content, "distribution-all-final")[-1] == "3.55"
    assert _cells(content, "distribution-REGULER-final") == [
        "Final",
        "5",
        "1.20",
        "2.00",
        "2.25",
        "2.80",
        "3.55",
    ]
    assert _cells(content, "distribution-KPPN_IKN-final") == ["Final", "1", *["2.90"] * 5]
    assert _cells(content, "distribution-REGULER-kolaborasi") == ["Collaboration", "0", *["–"] * 5]
    charts = re.findall(r'<svg [^>]*class="boxplot" role="img"[^>]*aria-label="[^"]+"', content.decode())
    assert len(charts) == 3  # all regions, REGULER, KPPN_IKN


def test_the_national_page_links_the_distribution_for_the_coordinator_only(
    peer_world, as_user, coordinator, admin_a
):
    assert b'id="distribution-link"' in as_user(coordinator).get("/results/history-2023/").content
    assert b'id="distribution-link"' not in as_user(admin_a).get("/results/history-2023/").content


@pytest.mark.parametrize("name", ["admin_a", "admin_b", "opd_a", "assessor", "nobody"])
def test_the_distribution_page_is_refused_to_everyone_but_the_coordinator(peer_world, as_user, persona, name):
    assert as_user(persona(name)).get(DISTRIBUTION).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(peer_world, as_user):
    response = as_user(None).get(DISTRIBUTION)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_distribution_of_an_unpublished_cycle_is_the_coordinators_alone(
    peer_world, as_user, coordinator, admin_b
):
    Cycle.objects.filter(pk=peer_world.pk).update(status=Cycle.Status.CLOSED)
    assert as_user(coordinator).get(DISTRIBUTION).status_code == 200
    assert as_user(admin_b).get(DISTRIBUTION).status_code == 403
    assert as_user(None).get(DISTRIBUTION).status_code == 302
    assert as_user(coordinator).get("/results/gmsc-2024/distribution/").status_code == 404  # not computed
