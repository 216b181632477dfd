"""Report data: what a results page or letter shows, built from a scoring run.

A :class:`RegionReport` holds one region's components (label, weight, score, last year's
score, coverage), final, improvement, ranks with their totals ("13 of 191"), per-dimension
scores this year and last year, the assessors' feedback and the panel's agreement figures.
A :class:`CycleReport` holds every region's report in national rank order, with national
means per dimension and component. Both are plain frozen data: the web pages, the PDF letters
and the JSON API render the same object, so they cannot disagree.

The engine draws nothing: the web's charts (``cityeval.web.results.charts``) draw this data
(e.g. :meth:`RegionReport.dimension_series`). Nothing is rounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from cityeval.engine.framework import Framework, Label, label_text
from cityeval.engine.scoring import ScoreResult

__all__ = [
    "AgreementLine",
    "ComponentLine",
    "CycleReport",
    "DimensionLine",
    "FeedbackEntry",
    "Rank",
    "RegionReport",
    "cycle_report",
    "region_report",
]


@dataclass(frozen=True)
class Rank:
    """A competition rank among the ranked regions: ``position`` of ``of``."""

    position: int
    of: int


@dataclass(frozen=True)
class ComponentLine:
    code: str
    label: Label
    weight: float  # a fraction of 1, for the region's group
    score: float | None
    previous: float | None  # the same component's score last year, if the region had one
    items_scored: int | None  # None for component-level results
    items_expected: int | None
    coverage: float | None

    @property
    def contribution(self) -> float:
        """weight × score: this component's share of the final (0 when unscored)."""
        return self.weight * (self.score or 0.0)


@dataclass(frozen=True)
class DimensionLine:
    code: str
    label: Label
    score: float | None
    previous: float | None
    items_scored: int | None = None
    items_expected: int | None = None


@dataclass(frozen=True)
class FeedbackEntry:
    assessor: str
    affiliation: str
    strengths: str
    weaknesses: str
    recommendations: str
    created_at: Any = None


@dataclass(frozen=True)
class AgreementLine:
    panel: str
    component: str
    label: Label | None
    alpha: float | None  # Krippendorff's alpha (ordinal)
    icc2: float | None
    icc2k: float | None
    n_units: int
    n_coders: int
    complete: bool


@dataclass(frozen=True)
class RegionReport:
    region: str
    group: str
    province: str | None
    framework_code: str
    framework_hash: str
    level: str  # "item" or "component": what the results were computed from
    scale_min: float
    scale_max: float
    components: tuple[ComponentLine, ...]
    final: float
    previous_final: float | None
    improvement: float | None
    rank_national: Rank | None
    rank_province: Rank | None
    coverage: float | None
    participant: bool
    dimensions: tuple[DimensionLine, ...]
    feedback: tuple[FeedbackEntry, ...] = ()
    agreement: tuple[AgreementLine, ...] = ()

    def dimension_series(self, language: str = "id") -> list[tuple[str, float | None, float | None]]:
        """``(label, this year, last year)`` per dimension: the input of the web's radar chart."""
        return [(label_text(d.label, language), d.score, d.previous) for d in self.dimensions]

    def component_series(self, language: str = "id") -> list[tuple[str, float | None, float | None]]:
        return [(label_text(c.label, language), c.score, c.previous) for c in self.components]

    @property
    def has_previous(self) -> bool:
        return self.previous_final is not None


@dataclass(frozen=True)
class CycleReport:
    framework_code: str
    framework_hash: str
    level: str
    scale_min: float
    scale_max: float
    components: tuple[tuple[str, Label], ...]  # every component of the framework, in order
    regions: tuple[RegionReport, ...]  # national rank order (best first), non-participants last
    dimension_means: tuple[DimensionLine, ...]
    component_means: tuple[DimensionLine, ...]
    ranked: int  # regions with a national rank
    mean_final: float | None  # over ranked regions

    @property
    def table_rows(self) -> list[tuple[RegionReport, list[float | None]]]:
        """Each region with its score of every framework component (None where its group
        has no such component), aligned with :attr:`components`."""
        out = []
        for region in self.regions:
            scores = {line.code: line.score for line in region.components}
            out.append((region, [scores.get(code) for code, _label in self.components]))
        return out

    @property
    def finals(self) -> list[float]:
        return [r.final for r in self.regions if r.rank_national is not None]

    def dimension_series(self, language: str = "id") -> list[tuple[str, float | None, float | None]]:
        return [(label_text(d.label, language), d.score, d.previous) for d in self.dimension_means]

    def component_series(self, language: str = "id") -> list[tuple[str, float | None, float | None]]:
        return [(label_text(c.label, language), c.score, c.previous) for c in self.component_means]


# --- building reports --------------------------------------------------------------------------


def region_report(
    result: ScoreResult,
    framework: Framework,
    *,
    region: str,
    previous_dimensions: pl.DataFrame | None = None,
    previous_components: pl.DataFrame | None = None,
    feedback: Sequence[Mapping[str, Any]] = (),
    agreement: pl.DataFrame | None = None,
) -> RegionReport:
    """One region's report from a scoring run.

    ``previous_dimensions`` (``region, dimension, score``) and ``previous_components``
    (``region, component, score``) are last year's scores, matched by code: a code the
    previous framework did not have has no last-year value. ``feedback`` is one mapping per
    assessor (``assessor, affiliation, strengths, weaknesses, recommendations[, created_at]``).
    ``agreement`` holds the rows to show (``panel, component, alpha, icc2, icc2k, n_units,
    [n_coders,] complete``), usually those of the region's panel.

    Ranks count the ranked regions (participants, unless the run ranked everyone): the
    province total counts the ranked regions of the region's province.
    """
    rows = result.regions.filter(pl.col("region") == region)
    if rows.height == 0:
        raise KeyError(f"no region {region!r} in these results")
    totals = _rank_totals(result)
    only = pl.col("region") == region
    return _region(
        result,
        framework,
        rows.row(0, named=True),
        totals,
        components=result.components.filter(only).to_dicts(),
        dimensions=[] if result.dimensions is None else result.dimensions.filter(only).to_dicts(),
        previous_dimensions=_by_code(previous_dimensions, "dimension", region),
        previous_components=_by_code(previous_components, "component", region),
        feedback=feedback,
        agreement=[] if agreement is None else agreement.to_dicts(),
    )


def cycle_report(
    result: ScoreResult,
    framework: Framework,
    *,
    previous_dimensions: pl.DataFrame | None = None,
    previous_components: pl.DataFrame | None = None,
    feedback: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    agreement: pl.DataFrame | None = None,
    panels: Mapping[str, str] | None = None,
) -> CycleReport:
    """Every region's report, in national rank order, with national means.

    ``feedback`` maps a region to its feedback entries (regions left out get none).
    ``agreement`` rows are given to each region whose panel (``panels``: region → panel name)
    they belong to. The national mean of a dimension (or component) is the mean over the
    regions that have a score for it; last year's mean is over the same regions' last-year
    scores, so the two compare like with like.
    """
    totals = _rank_totals(result)
    components = _split(result.components)
    dimensions = _split(result.dimensions)
    previous_dims = _split_by_code(previous_dimensions, "dimension")
    previous_comps = _split_by_code(previous_components, "component")
    agreement_rows = _split(agreement, key="panel")
    reports = []
    for row in result.regions.iter_rows(named=True):
        name = row["region"]
        panel = (panels or {}).get(name)
        reports.append(
            _region(
                result,
                framework,
                row,
                totals,
                components=components.get(name, []),
                dimensions=dimensions.get(name, []),
                previous_dimensions=previous_dims.get(name, {}),
                previous_components=previous_comps.get(name, {}),
                feedback=(feedback or {}).get(name, ()),
                agreement=agreement_rows.get(panel, []) if panel is not None else [],
            )
        )
    ordered = sorted(reports, key=lambda r: (r.rank_national is None, -r.final, r.region))
    ranked = [r for r in ordered if r.rank_national is not None]
    return CycleReport(
        framework_code=result.framework_code,
        framework_hash=result.framework_hash,
        level=result.level,
        scale_min=framework.scale.min,
        scale_max=framework.scale.max,
        components=tuple((c.code, c.label) for c in framework.components),
        regions=tuple(ordered),
        dimension_means=_means(framework.dimensions, [r.dimensions for r in ranked]),
        component_means=_means(framework.components, [r.components for r in ranked]),
        ranked=len(ranked),
        mean_final=sum(r.final for r in ranked) / len(ranked) if ranked else None,
    )


def _region(
    result: ScoreResult,
    framework: Framework,
    row: dict[str, Any],
    totals: tuple[int, dict[str | None, int]],
    *,
    components: list[dict[str, Any]],
    dimensions: list[dict[str, Any]],
    previous_dimensions: dict[str, float | None],
    previous_components: dict[str, float | None],
    feedback: Sequence[Mapping[str, Any]],
    agreement: list[dict[str, Any]],
) -> RegionReport:
    national_total, province_totals = totals
    province = row.get("province")
    by_code = {c["component"]: c for c in components}
    lines = []
    for component in framework.components:
        if not component.applies_to(row["group"]):
            continue
        found = by_code.get(component.code, {})
        lines.append(
            ComponentLine(
                code=component.code,
                label=component.label,
                weight=framework.weights_for(row["group"])[component.code],
                score=row.get(component.code),
                previous=previous_components.get(component.code),
                items_scored=found.get("items_scored"),
                items_expected=found.get("items_expected"),
                coverage=found.get("coverage"),
            )
        )
    rank_national, rank_province = row["rank_national"], row.get("rank_province")
    return RegionReport(
        region=row["region"],
        group=row["group"],
        province=province,
        framework_code=result.framework_code,
        framework_hash=result.framework_hash,
        level=result.level,
        scale_min=framework.scale.min,
        scale_max=framework.scale.max,
        components=tuple(lines),
        final=row["final"],
        previous_final=row.get("previous_final"),
        improvement=row.get("improvement"),
        rank_national=Rank(rank_national, national_total) if rank_national is not None else None,
        rank_province=(
            Rank(rank_province, province_totals.get(province, 0)) if rank_province is not None else None
        ),
        coverage=row.get("coverage"),
        participant=bool(row["participant"]),
        dimensions=_dimension_lines(framework, dimensions, previous_dimensions),
        feedback=tuple(feedback_entry(entry) for entry in feedback),
        agreement=tuple(
            sorted((_agreement(framework, entry) for entry in agreement), key=lambda a: _order(framework, a))
        ),
    )


def _dimension_lines(
    framework: Framework, rows: list[dict[str, Any]], previous: dict[str, float | None]
) -> tuple[DimensionLine, ...]:
    """Every dimension with a score this year or last year, in the framework's order."""
    this_year = {r["dimension"]: r for r in rows}
    lines = []
    for dimension in framework.dimensions:
        now = this_year.get(dimension.code)
        before = previous.get(dimension.code)
        if now is None and before is None:
            continue
        lines.append(
            DimensionLine(
                code=dimension.code,
                label=dimension.label,
                score=now["score"] if now else None,
                previous=before,
                items_scored=now["items_scored"] if now else None,
                items_expected=now["items_expected"] if now else None,
            )
        )
    return tuple(lines)


def _means(kinds: Sequence[Any], per_region: list[tuple[Any, ...]]) -> tuple[DimensionLine, ...]:
    """National means of dimension or component lines, this year and last year."""
    out = []
    for kind in kinds:
        pairs = [line for lines in per_region for line in lines if line.code == kind.code]
        now = [p.score for p in pairs if p.score is not None]
        before = [p.previous for p in pairs if p.score is not None and p.previous is not None]
        if not now:
            continue
        out.append(
            DimensionLine(
                code=kind.code,
                label=kind.label,
                score=sum(now) / len(now),
                previous=sum(before) / len(before) if before else None,
            )
        )
    return tuple(out)


def _rank_totals(result: ScoreResult) -> tuple[int, dict[str | None, int]]:
    regions = result.regions
    ranked = regions.filter(pl.col("rank_national").is_not_null())
    provinces: dict[str | None, int] = {}
    if "rank_province" in regions.columns:
        counted = regions.filter(pl.col("rank_province").is_not_null()).group_by("province").len()
        provinces = dict(zip(counted["province"].to_list(), counted["len"].to_list(), strict=True))
    return ranked.height, provinces


def _split(table: pl.DataFrame | None, *, key: str = "region") -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    if table is None:
        return out
    for row in table.iter_rows(named=True):
        out.setdefault(row[key], []).append(row)
    return out


def _split_by_code(table: pl.DataFrame | None, code: str) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    if table is None:
        return out
    for row in table.select("region", code, "score").iter_rows():
        out.setdefault(row[0], {})[row[1]] = row[2]
    return out


def _by_code(table: pl.DataFrame | None, code: str, region: str) -> dict[str, float | None]:
    if table is None:
        return {}
    return _split_by_code(table.filter(pl.col("region") == region), code).get(region, {})


def feedback_entry(entry: Mapping[str, Any]) -> FeedbackEntry:
    """One assessor's feedback from a mapping (a missing text is empty)."""
    return FeedbackEntry(
        assessor=str(entry.get("assessor") or ""),
        affiliation=str(entry.get("affiliation") or ""),
        strengths=str(entry.get("strengths") or ""),
        weaknesses=str(entry.get("weaknesses") or ""),
        recommendations=str(entry.get("recommendations") or ""),
        created_at=entry.get("created_at"),
    )


def _agreement(framework: Framework, row: Mapping[str, Any]) -> AgreementLine:
    code = str(row["component"])
    found = next((c for c in framework.components if c.code == code), None)
    return AgreementLine(
        panel=str(row["panel"]),
        component=code,
        label=found.label if found is not None else None,
        alpha=_finite(row.get("alpha")),
        icc2=_finite(row.get("icc2")),
        icc2k=_finite(row.get("icc2k")),
        n_units=int(row.get("n_units") or 0),
        n_coders=int(row.get("n_coders") or 0),
        complete=bool(row.get("complete")),
    )


def _order(framework: Framework, line: AgreementLine) -> tuple[str, int, str]:
    """Panel, then the framework's component order (unknown codes last)."""
    codes = framework.component_codes
    return line.panel, codes.index(line.component) if line.component in codes else len(codes), line.component


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
