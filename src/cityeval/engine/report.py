"""Report data: what a results page or letter shows, built from a scoring run.

A :class:`RegionReport` holds one region's components (label, weight, score, last year's
score, coverage), final, improvement, ranks with their totals ("13 of 191"), per-dimension
scores this year and last year, the assessors' feedback and the panel's agreement figures.
A :class:`CycleReport` holds every region's report in national rank order, with national
means per dimension and component. Both are plain frozen data: the web pages, the PDF letters
and the JSON API render the same object, so they cannot disagree.

Charts are drawn here too, as SVG text (no JavaScript, no image library), so a page and a PDF
show the same picture: :func:`radar_svg` (per-dimension scores this year against last year)
and :func:`histogram_svg` (the distribution of finals).

Nothing is rounded in the data; chart coordinates are written with two decimals, which is
drawing precision, not a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

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
    "histogram_svg",
    "radar_geometry",
    "radar_svg",
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
        """``(label, this year, last year)`` per dimension: the input of :func:`radar_svg`."""
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
        feedback=tuple(_feedback(entry) for entry in feedback),
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


def _feedback(entry: Mapping[str, Any]) -> FeedbackEntry:
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


# --- charts ----------------------------------------------------------------------------------

RADAR_SIZE = 320.0  # diameter of the outer ring's bounding box, in SVG units
RADAR_LABEL_ROOM = 120.0  # left and right of the chart, for axis labels
RADAR_TOP_ROOM = 28.0


def radar_geometry(count: int, *, size: float = RADAR_SIZE) -> tuple[float, float, float, list[float]]:
    """Centre x, centre y, radius of the outer ring, and the angle of each axis (radians).

    The first axis points straight up; the others follow clockwise at equal angles.
    """
    radius = size / 2
    cx = RADAR_LABEL_ROOM + radius
    cy = RADAR_TOP_ROOM + radius
    angles = [-math.pi / 2 + 2 * math.pi * i / count for i in range(count)]
    return cx, cy, radius, angles


def radar_svg(
    dimensions: Sequence[tuple[str, float | None, float | None]],
    *,
    scale_max: float,
    scale_min: float = 0.0,
    rings: int = 4,
    title: str = "",
    legend: tuple[str, str] | None = None,
    size: float = RADAR_SIZE,
) -> str:
    """A radar chart as an SVG document: one axis per ``(label, this year, last year)``.

    A value v sits at the fraction (v − scale_min) / (scale_max − scale_min) of the outer
    ring's radius along its axis (clamped to the ring), so scale_max lies on the outer ring
    and scale_min at the centre. ``rings`` concentric guides divide the scale evenly. This
    year is a filled polygon, last year a dashed outline; a series with a missing value is
    drawn as points only, since an edge through a missing value would show a score nobody
    gave. ``legend`` names the two series (``this year``, ``last year``) in the page's
    language.

    The SVG carries no ``style`` attribute (a Content-Security-Policy without inline style
    would drop it): the page scales it with CSS on ``svg.radar``.
    """
    count = len(dimensions)
    if count == 0:
        raise ValueError("a radar chart needs at least one axis")
    if scale_max <= scale_min:
        raise ValueError("scale_max must be above scale_min")
    cx, cy, radius, angles = radar_geometry(count, size=size)
    width = 2 * (RADAR_LABEL_ROOM + radius)
    height = cy + radius + RADAR_TOP_ROOM + (22 if legend else 0)

    def point(index: int, value: float) -> tuple[float, float]:
        reach = radius * min(1.0, max(0.0, (value - scale_min) / (scale_max - scale_min)))
        return cx + reach * math.cos(angles[index]), cy + reach * math.sin(angles[index])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" role="img" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(title, _QUOTE)}">',
        f"<title>{escape(title)}</title>" if title else "",
    ]
    parts += _rings(point, count, rings=rings, scale_min=scale_min, scale_max=scale_max)
    parts += _axes([label for label, _now, _before in dimensions], point, angles, cx, cy, radius, scale_max)
    previous = [before for _label, _now, before in dimensions]
    current = [now for _label, now, _before in dimensions]
    has_previous = any(v is not None for v in previous)
    if has_previous:
        parts.append(_series(previous, point, "last-year", "#9a6700", dashed=True))
    parts.append(_series(current, point, "this-year", "#0b5cad", dashed=False))
    if legend:
        parts.append(_legend(legend, cx, cy + radius + RADAR_TOP_ROOM + 10, last_year=has_previous))
    parts.append("</svg>")
    return "".join(parts)


_QUOTE = {'"': "&quot;"}


def _rings(point: Any, count: int, *, rings: int, scale_min: float, scale_max: float) -> list[str]:
    """Concentric guides at even steps of the scale, each with its value at the first axis."""
    parts = []
    for ring in range(1, rings + 1):
        value = scale_min + (scale_max - scale_min) * ring / rings
        corners = " ".join(_xy(*point(i, value)) for i in range(count))
        outer = " outer" if ring == rings else ""
        parts.append(
            f'<polygon class="ring{outer}" points="{corners}" fill="none" stroke="#c8ced6" stroke-width="1"/>'
        )
        x, y = point(0, value)
        parts.append(
            f'<text class="tick" x="{x + 4:.2f}" y="{y + 4:.2f}" font-size="10" fill="#5b6572">'
            f"{value:g}</text>"
        )
    return parts


def _axes(
    labels: list[str], point: Any, angles: list[float], cx: float, cy: float, radius: float, scale_max: float
) -> list[str]:
    """One line from the centre to the outer ring per axis, labelled just outside the ring."""
    parts = []
    for i, label in enumerate(labels):
        x, y = point(i, scale_max)
        parts.append(
            f'<line class="axis" x1="{cx:.2f}" y1="{cy:.2f}" x2="{x:.2f}" y2="{y:.2f}" stroke="#c8ced6"/>'
        )
        cos, sin = math.cos(angles[i]), math.sin(angles[i])
        anchor = "middle" if abs(cos) < 0.2 else ("start" if cos > 0 else "end")
        lx = cx + (radius + 8) * cos
        ly = cy + (radius + 8) * sin + (4 if abs(cos) >= 0.2 else 0)
        ly += -4 if sin < -0.9 else (12 if sin > 0.9 else 0)
        parts.append(
            f'<text class="label" x="{lx:.2f}" y="{ly:.2f}" text-anchor="{anchor}" font-size="12" '
            f'fill="#1b1f24">{escape(label)}</text>'
        )
    return parts


def _legend(names: tuple[str, str], cx: float, y: float, *, last_year: bool) -> str:
    """A swatch for this year and, when it is drawn, a dashed line for last year."""
    left = cx - 150 if last_year else cx - 30
    parts = [
        f'<g class="legend" font-size="12"><rect x="{left:.2f}" y="{y - 9:.2f}" width="12" height="12" '
        f'fill="#0b5cad" fill-opacity="0.35" stroke="#0b5cad"/><text x="{left + 17:.2f}" y="{y + 1:.2f}">'
        f"{escape(names[0])}</text>"
    ]
    if last_year:
        parts.append(
            f'<line x1="{cx + 20:.2f}" y1="{y - 3:.2f}" x2="{cx + 36:.2f}" y2="{y - 3:.2f}" stroke="#9a6700" '
            f'stroke-width="2" stroke-dasharray="4 3"/><text x="{cx + 41:.2f}" y="{y + 1:.2f}">'
            f"{escape(names[1])}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _xy(x: float, y: float) -> str:
    return f"{x:.2f},{y:.2f}"


def _series(values: list[float | None], point: Any, css: str, colour: str, *, dashed: bool) -> str:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    parts = [f'<g class="series {css}">']
    if known and len(known) == len(values):
        corners = " ".join(_xy(*point(i, v)) for i, v in known)
        fill = 'fill="none"' if dashed else f'fill="{colour}" fill-opacity="0.25"'
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        parts.append(f'<polygon points="{corners}" {fill} stroke="{colour}" stroke-width="2"{dash}/>')
    for i, v in known:
        x, y = point(i, v)
        parts.append(
            f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="3" fill="{colour}" '
            f'data-axis="{i}" data-value="{v!r}"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def histogram_svg(
    values: Sequence[float],
    *,
    scale_min: float,
    scale_max: float,
    bins: int = 8,
    title: str = "",
    width: float = 480.0,
    height: float = 200.0,
) -> str:
    """The distribution of finals as an SVG bar chart: ``bins`` equal bins over the scale.

    A value equal to scale_max falls in the last bin; each bar is labelled with its count.
    """
    if bins < 1 or scale_max <= scale_min:
        raise ValueError("need at least one bin and scale_max above scale_min")
    step = (scale_max - scale_min) / bins
    counts = [0] * bins
    for value in values:
        index = min(bins - 1, max(0, int((value - scale_min) // step)))
        counts[index] += 1
    top = max(counts) or 1
    left, bottom, room = 30.0, 24.0, 16.0
    plot_w, plot_h = width - left - 10, height - bottom - room
    bar_w = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" role="img" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{escape(title, _QUOTE)}">',
        f"<title>{escape(title)}</title>" if title else "",
        f'<line x1="{left}" y1="{room + plot_h:.2f}" x2="{left + plot_w:.2f}" y2="{room + plot_h:.2f}" '
        'stroke="#5b6572"/>',
    ]
    for i, count in enumerate(counts):
        bar_h = plot_h * count / top
        x = left + i * bar_w
        y = room + plot_h - bar_h
        parts.append(
            f'<rect class="bar" x="{x + 2:.2f}" y="{y:.2f}" width="{bar_w - 4:.2f}" height="{bar_h:.2f}" '
            f'fill="#0b5cad" fill-opacity="0.7" data-count="{count}"/>'
        )
        if count:
            parts.append(
                f'<text x="{x + bar_w / 2:.2f}" y="{y - 3:.2f}" text-anchor="middle" font-size="11">'
                f"{count}</text>"
            )
        parts.append(
            f'<text x="{x:.2f}" y="{height - 8:.2f}" text-anchor="middle" font-size="10" fill="#5b6572">'
            f"{scale_min + i * step:g}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w:.2f}" y="{height - 8:.2f}" text-anchor="middle" font-size="10" '
        f'fill="#5b6572">{scale_max:g}</text></svg>'
    )
    return "".join(parts)
