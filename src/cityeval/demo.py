"""The demo: a synthetic, deterministic 2024 evaluation around Kab. Deli Serdang.

Everything here is SYNTHETIC except what is marked real: Deli Serdang's 2023 final (3.23,
from the ministry's letter, docs/domain.md §3) and its six 2024 quick wins with their owning OPDs
(docs/domain.md §6). The assessor scores are drawn from a seeded generator, so every run prints the
same numbers. The 2024 result itself is not public; nothing here claims to be it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from cityeval.engine import Framework, load_framework, score
from cityeval.engine.numbers import format_number
from cityeval.engine.scoring import ScoreResult

FRAMEWORK = "gmsc-2024"
SEED = 2024
ASSESSORS = ("A1", "A2", "A3", "A4", "A5")
HOME = "Kab. Deli Serdang"


@dataclass(frozen=True)
class DemoRegion:
    name: str
    province: str
    group: str
    ability: float  # synthetic: the region's typical level on the 0–4 scale


REGIONS = (
    DemoRegion(HOME, "Sumatera Utara", "REGULER", 3.35),
    DemoRegion("Kota Medan", "Sumatera Utara", "REGULER", 3.1),
    DemoRegion("Kota Binjai", "Sumatera Utara", "REGULER", 2.6),
    DemoRegion("Kab. Serdang Bedagai", "Sumatera Utara", "REGULER", 2.4),
    DemoRegion("Kab. Karo", "Sumatera Utara", "KPPN_IKN", 2.7),
    DemoRegion("Kota Pekanbaru", "Riau", "REGULER", 3.0),
)

# Real: Deli Serdang's 2023 final from the ministry's letter. The neighbours' 2023 finals are
# not used, so their improvement stays blank, as it would for a region new to the platform.
PREVIOUS = {HOME: 3.23}

# Real: the six quick wins evaluated at Stage II on 13 Nov 2024 (docs/domain.md §6).
QUICK_WINS = (
    ("governance", "E-Padi", "Badan Pendapatan Daerah (Bapenda)"),
    ("economy", "Pemuda Kaperle", "Dinas Pertanian"),
    ("environment", "Petasan Deli", "Dinas Perumahan, Kawasan Permukiman dan Penataan Ruang"),
    ("living", "Patogen", "Dinas Kesehatan"),
    ("branding", "Deli Serdang Berseri", "Dinas Kebudayaan, Kepemudaan, Olahraga dan Pariwisata"),
    ("society", "Kas Anak Kasir", "Dinas Pendidikan"),
)


def demo_scores(framework: Framework | None = None) -> pl.DataFrame:
    """Synthetic item scores: five assessors score every expected item of every demo region."""
    fw = framework or load_framework(FRAMEWORK)
    rng = random.Random(SEED)
    difficulty = {code: rng.gauss(0.0, 0.45) for code in fw.items_by_code}
    rows: dict[str, list[object]] = {
        k: [] for k in ("region", "province", "group", "item", "assessor", "score")
    }
    for region in REGIONS:
        for _, item in fw.items_for(region.group):
            true_level = region.ability - difficulty[item.code]
            for assessor in ASSESSORS:
                level = round(true_level + rng.gauss(0.0, 0.45))
                rows["region"].append(region.name)
                rows["province"].append(region.province)
                rows["group"].append(region.group)
                rows["item"].append(item.code)
                rows["assessor"].append(assessor)
                rows["score"].append(float(min(fw.scale.max, max(fw.scale.min, level))))
    return pl.DataFrame(rows)


def demo_previous() -> pl.DataFrame:
    return pl.DataFrame({"region": list(PREVIOUS), "final": list(PREVIOUS.values())})


def run_demo() -> tuple[Framework, ScoreResult]:
    fw = load_framework(FRAMEWORK)
    return fw, score(demo_scores(fw), fw, previous=demo_previous())


def export_demo(folder: Path) -> list[Path]:
    """Write the demo inputs as CSV, to try ``cityeval score`` on them."""
    folder.mkdir(parents=True, exist_ok=True)
    scores_path = folder / "demo-2024-item-scores.csv"
    previous_path = folder / "demo-2023-finals.csv"
    demo_scores().write_csv(scores_path)
    demo_previous().write_csv(previous_path)
    return [scores_path, previous_path]


def print_demo(console: Console) -> None:
    from cityeval.cli.output import results_table

    fw, result = run_demo()
    console.rule("[bold]cityeval demo — GMSC 2024, Sumatera Utara and neighbours[/bold]")
    console.print(
        "[yellow]SYNTHETIC DATA[/yellow]: assessor scores are generated (seed "
        f"{SEED}); real are only Deli Serdang's 2023 final (3.23) and its six quick wins. "
        f"Framework {fw.code} ({fw.short_hash}); 2024 KPPN_IKN weights are not published, "
        "so REGULER weights are used for Kab. Karo."
    )
    console.print(results_table(result, fw, title="Results / Hasil (2 decimals; engine unrounded)"))

    home_components = result.components.filter(pl.col("region") == HOME)
    coverage = Table(title=f"{HOME}: components and coverage / komponen dan cakupan")
    for column in ("component", "weight", "score", "items scored", "coverage"):
        coverage.add_column(column, justify="left" if column == "component" else "right")
    for row in home_components.iter_rows(named=True):
        coverage.add_row(
            row["component"],
            f"{row['weight']:.0%}",
            format_number(row["score"]),
            f"{row['items_scored']}/{row['items_expected']}",
            f"{row['coverage']:.0%}",
        )
    console.print(coverage)

    assert result.dimensions is not None  # item-level input always has the breakdown
    labels = {d.code: d.label for d in fw.dimensions}
    owners = {dim: (name, opd) for dim, name, opd in QUICK_WINS}
    breakdown = Table(title=f"{HOME}: per dimension, with the 2024 quick wins (real)")
    for column in ("dimension", "score", "items", "quick win", "owning OPD"):
        breakdown.add_column(column, justify="right" if column in ("score", "items") else "left")
    for row in result.dimensions.filter(pl.col("region") == HOME).iter_rows(named=True):
        name, opd = owners.get(row["dimension"], ("–", "–"))
        breakdown.add_row(
            labels[row["dimension"]].en,
            format_number(row["score"]),
            f"{row['items_scored']}/{row['items_expected']}",
            name,
            opd,
        )
    console.print(breakdown)
    home = result.regions.filter(pl.col("region") == HOME).row(0, named=True)
    console.print(
        f"{HOME}: final {format_number(home['final'])} "
        f"(2023: 3.23, improvement {format_number(home['improvement'], signed=True)}), "
        f"rank {home['rank_national']} of {result.regions.height} in this demo."
    )
