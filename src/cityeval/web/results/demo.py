"""Demo results: a 2023 history and the scored, published 2024 cycle of the web demo.

Real: Kab. Deli Serdang's 2023 component scores (3.44, 2.63, 3.25, 3.12, 3.80, REGULER,
gmsc-2023; final 3.23, docs/domain.md §3) and the names of its 2024 quick wins in the feedback.
Synthetic, and labelled so: the other regions' 2023 scores, every 2024 assessor score (the
seeded generator of cityeval.demo), the feedback texts, and the consolidated score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from cityeval import demo
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.services import cycle_transition, framework_version_builtin
from cityeval.web.panels.models import ConsolidatedScore, Feedback, ItemScore, Panel, PanelMember, PanelRegion
from cityeval.web.regions.models import Region
from cityeval.web.results.history import history_import
from cityeval.web.results.models import ResultRun
from cityeval.web.results.services import cycle_publish, letter_details_save, results_compute

HISTORY_FRAMEWORK = "gmsc-2023"
# Real (docs/domain.md §3): Kab. Deli Serdang, REGULER, 2023.
DELI_SERDANG_2023 = {"baseline": 3.44, "output": 2.63, "outcome": 3.25, "impact": 3.12, "quick_win": 3.80}
# Synthetic: each other demo region's 2023 components are its demo ability plus these offsets.
SYNTHETIC_OFFSETS = {
    "baseline": 0.25, "output": -0.35, "outcome": -0.1, "impact": -0.2, "quick_win": 0.15, "kolaborasi": -0.4,
}  # fmt: skip
REGIONS_PER_PANEL = 5
AFFILIATIONS = ("university", "ministry", "association", "consultancy", "other_ministry")
STAGE = "stage_2"


def previous_components_default() -> dict[str, dict[str, float]]:
    """Deli Serdang's real 2023 components; the other demo regions' are synthetic."""
    framework = framework_version_builtin(HISTORY_FRAMEWORK).framework
    out = {demo.HOME: dict(DELI_SERDANG_2023)}
    for region in demo.REGIONS:
        if region.name == demo.HOME:
            continue
        codes = [c.code for c in framework.components if c.applies_to(region.group)]
        out[region.name] = {
            code: round(min(4.0, max(0.0, region.ability + SYNTHETIC_OFFSETS[code])), 2) for code in codes
        }
    return out


@transaction.atomic
def load_results_demo(
    *,
    cycle: Cycle,
    regions: dict[str, Region],
    scores: pl.DataFrame,
    coordinator: User,
    assessor_users: Sequence[User] = (),
    previous_components: dict[str, dict[str, float]] | None = None,
) -> ResultRun:
    """Import the 2023 history, score ``cycle`` at Stage II from ``scores``, close, compute and
    publish it. Returns the published run.

    ``regions`` maps region names to regions (the demo's); ``scores`` is
    ``cityeval.demo.demo_scores()`` (``region, group, item, assessor, score``; regions by
    name). Each distinct assessor code is played by one of ``assessor_users`` in order; codes
    beyond them get a demo assessor user without a usable password. The regions of the cycle
    are put on panels of five. ``previous_components`` (region → component → score) defaults
    to :func:`previous_components_default`. The cycle must be draft or open (it is closed).
    """
    _history(cycle, regions, previous_components or previous_components_default(), coordinator)
    users = _assessors(sorted(scores.get_column("assessor").unique().to_list()), assessor_users)
    participations = {
        p.region.name: p for p in Participation.objects.filter(cycle=cycle).select_related("region")
    }
    panel_regions = _panels(cycle, participations, list(users.values()))
    _scores(scores, panel_regions, users)
    _feedback(panel_regions, list(users.values()))
    if cycle.status == Cycle.Status.DRAFT:
        cycle_transition(cycle=cycle, action="open")
    if cycle.status == Cycle.Status.OPEN:
        cycle_transition(cycle=cycle, action="close")
    results_compute(cycle=cycle, stage=STAGE, user=coordinator)
    run = cycle_publish(cycle=cycle, user=coordinator)
    letter_details_save(cycle=cycle, data=DEMO_LETTER, user=coordinator)
    return run


# The letter page of the demo's letters: every value says it is an example, not the ministry's.
DEMO_LETTER = {
    "issuing_body": "Kementerian Contoh (sintetis / synthetic example)",
    "issuing_unit": "Direktorat Contoh Kota Cerdas",
    "letterhead_address": "Alamat contoh, bukan alamat resmi / not a real address",
    "number": "CONTOH-001/2024",
    "place": "Jakarta",
    "date": dt.date(2024, 12, 16),
    "subject": "Hasil Evaluasi GMSC 2024 (contoh / example)",
    "signatory_name": "Penanda Tangan Contoh",
    "signatory_position": "Direktur Contoh",
    "signatory_id": "",
}


def _history(
    cycle: Cycle, regions: dict[str, Region], components: dict[str, dict[str, float]], user: User
) -> Cycle:
    groups = {
        p.region.name: p.group for p in Participation.objects.filter(cycle=cycle).select_related("region")
    }
    framework = framework_version_builtin(HISTORY_FRAMEWORK)
    codes = framework.framework.component_codes
    rows = [
        {"region": name, "group": groups.get(name, "REGULER"), **{c: values.get(c) for c in codes}}
        for name, values in components.items()
        if name in regions
    ]
    return history_import(
        year=cycle.year - 1,
        framework_version=framework,
        table=pl.DataFrame(
            rows, schema={"region": pl.String, "group": pl.String, **dict.fromkeys(codes, pl.Float64)}
        ),
        user=user,
        name=f"GMSC {cycle.year - 1} (impor: Deli Serdang data nyata, daerah lain sintetis / "
        "imported: Deli Serdang real, other regions synthetic)",
    )


def _assessors(codes: list[str], given: Sequence[User]) -> dict[str, User]:
    users: dict[str, User] = {}
    model = get_user_model()
    for index, code in enumerate(codes):
        if index < len(given):
            users[code] = given[index]
            continue
        user, created = model.objects.get_or_create(username=f"demo.asesor.{code.lower()}")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, role=Role.ASSESSOR)
        users[code] = user
    return users


def _panels(
    cycle: Cycle, participations: dict[str, Participation], members: list[User]
) -> dict[str, PanelRegion]:
    out = {}
    names = sorted(participations)
    for start in range(0, len(names), REGIONS_PER_PANEL):
        panel = Panel.objects.create(cycle=cycle, stage=STAGE, name=f"Panel {start // REGIONS_PER_PANEL + 1}")
        for index, user in enumerate(members):
            affiliation = AFFILIATIONS[index % len(AFFILIATIONS)]
            PanelMember.objects.create(
                panel=panel,
                user=user,
                affiliation=affiliation,
                is_chair=index == 0,
                organisation="Contoh / example",
            )
        for name in names[start : start + REGIONS_PER_PANEL]:
            out[name] = PanelRegion.objects.create(
                panel=panel, participation=participations[name], stage=STAGE
            )
    return out


def _scores(scores: pl.DataFrame, panel_regions: dict[str, PanelRegion], users: dict[str, User]) -> None:
    rows = [
        ItemScore(panel_region=panel_regions[region], item=item, assessor=users[assessor], score=score)
        for region, item, assessor, score in scores.select("region", "item", "assessor", "score").iter_rows()
        if region in panel_regions and score is not None
    ]
    ItemScore.objects.bulk_create(rows, batch_size=2000)


def _feedback(panel_regions: dict[str, PanelRegion], members: list[User]) -> None:
    """Two assessors' synthetic feedback per region; Deli Serdang's names its real quick wins."""
    quick_wins = ", ".join(name for _dimension, name, _owner in demo.QUICK_WINS)
    for name, panel_region in panel_regions.items():
        home = name == demo.HOME
        Feedback.objects.create(
            panel_region=panel_region, assessor=members[0],
            strengths=(f"Quick win yang berjalan: {quick_wins}." if home else "Dewan smart city aktif.")
            + " (Contoh sintetis / synthetic example.)",
            weaknesses="Data dari OPD sering terlambat. (Contoh sintetis / synthetic example.)",
            recommendations="Tetapkan satu tim data lintas OPD. (Contoh sintetis / synthetic example.)",
        )  # fmt: skip
        if len(members) > 1:
            Feedback.objects.create(
                panel_region=panel_region, assessor=members[1],
                strengths="Survei dampak mencakup semua dimensi. (Contoh sintetis / synthetic example.)",
                weaknesses="Bukti anggaran non-APBD belum lengkap. (Contoh sintetis / synthetic example.)",
                recommendations="Lengkapi rencana aksi literasi. (Contoh sintetis / synthetic example.)",
            )  # fmt: skip
        if home:
            ConsolidatedScore.objects.create(
                panel_region=panel_region, item="baseline.legal_basis", score=4.0, decided_by=members[0],
                reason="Perbup masterplan sudah ditetapkan. (Contoh sintetis / synthetic example.)",
            )  # fmt: skip
