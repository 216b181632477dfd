"""The regional dashboard's programme overview, on Deli Serdang's 2024 quick wins (docs/domain.md §6)."""

from __future__ import annotations

import pytest

from cityeval.engine import load_framework
from cityeval.web.programmes.models import Programme
from cityeval.web.programmes.selectors import programme_overview
from cityeval.web.regions.models import Opd

# The six quick wins evaluated at Stage II on 13 Nov 2024: (name, dimension, sub-dimension,
# owning OPD). The sub-dimensions are our reading of each programme; docs/domain.md names only the
# dimension and the OPD.
DELI_SERDANG_2024 = [
    ("E-Padi", "governance", "service", "bapenda"),
    ("Pemuda Kaperle", "economy", "welfare", "distan"),
    ("Petasan Deli", "environment", "protection", "perkim"),
    ("Patogen", "living", "health", "dinkes"),
    ("Deli Serdang Berseri", "branding", "tourism", "disbudporapar"),
    ("Kas Anak Kasir", "society", "learning", "disdik"),
]


@pytest.fixture
def deli_serdang_opds(world) -> dict[str, Opd]:
    """The six owning OPDs: the world's health and education offices and four more."""
    extra = [
        ("Badan Pendapatan Daerah", "Bapenda", "bapenda"),
        ("Dinas Pertanian", "Distan", "distan"),
        ("Dinas Perumahan, Kawasan Permukiman dan Penataan Ruang", "Perkim", "perkim"),
        ("Dinas Kebudayaan, Kepemudaan, Olahraga dan Pariwisata", "Disbudporapar", "disbudporapar"),
    ]
    for name, short, slug in extra:
        Opd.objects.create(region=world.region_a, name=name, short_name=short, slug=slug)
    return {o.slug: o for o in world.region_a.opds.all()}


def _quick_wins(world, opds: dict[str, Opd], rows) -> None:
    for name, dimension, subdimension, owner in rows:
        Programme.objects.create(
            region=world.region_a, name=name, dimension=dimension, subdimension=subdimension,
            owner=opds[owner], status=Programme.Status.RUNNING, start_year=2024, is_quick_win=True,
        )  # fmt: skip


def test_deli_serdangs_six_quick_wins_leave_no_gap(world, deli_serdang_opds):
    _quick_wins(world, deli_serdang_opds, DELI_SERDANG_2024)
    overview = programme_overview(region=world.region_a, framework=load_framework("gmsc-2024"))
    assert overview.total == 6
    assert overview.dimensions_without_quick_win == []
    assert overview.opds_without_programme == []
    per_dimension = {row.code: [p.name for p in row.quick_wins] for row in overview.dimensions}
    assert per_dimension == {
        "governance": ["E-Padi"], "branding": ["Deli Serdang Berseri"], "economy": ["Pemuda Kaperle"],
        "living": ["Patogen"], "society": ["Kas Anak Kasir"], "environment": ["Petasan Deli"],
    }  # fmt: skip
    matrix = {row.opd.slug: {d: [p.name for p in ps] for d, ps in row.quick_wins_by_dimension.items() if ps}
              for row in overview.opds}  # fmt: skip
    assert matrix["bapenda"] == {"governance": ["E-Padi"]}
    assert matrix["perkim"] == {"environment": ["Petasan Deli"]}
    assert all(row.programmes == 1 for row in overview.opds)


def test_a_dimension_without_quick_win_and_an_opd_without_programme_show_as_gaps(world, deli_serdang_opds):
    without_branding = [row for row in DELI_SERDANG_2024 if row[1] != "branding"]
    _quick_wins(world, deli_serdang_opds, without_branding)
    # A programme that is not a quick win does not close the branding gap.
    Programme.objects.create(
        region=world.region_a, name="Festival Budaya", dimension="branding", subdimension="tourism",
        owner=deli_serdang_opds["bapenda"], start_year=2022,
    )  # fmt: skip
    overview = programme_overview(region=world.region_a, framework=load_framework("gmsc-2024"), language="id")
    assert [row.code for row in overview.dimensions_without_quick_win] == ["branding"]
    assert [row.label for row in overview.dimensions_without_quick_win] == ["Smart Branding"]
    assert [opd.slug for opd in overview.opds_without_programme] == ["disbudporapar"]
    branding = next(row for row in overview.dimensions if row.code == "branding")
    assert (branding.total, branding.running, branding.quick_wins) == (1, 0, [])


def test_the_overview_counts_only_its_own_regions_programmes(world, deli_serdang_opds, medan_programme):
    _quick_wins(world, deli_serdang_opds, DELI_SERDANG_2024[:1])
    overview = programme_overview(region=world.region_a, framework=load_framework("gmsc-2024"))
    assert overview.total == 1
    living = next(row for row in overview.dimensions if row.code == "living")
    assert living.total == 0
