"""A scoring run in the database and back: the one mapping between the engine's
:class:`ScoreResult` tables and the stored rows (:class:`RegionResult`, :class:`ItemResult`,
:class:`DimensionResult`). The store half (``regions_store``, ``items_store``) and the load
half (``stored_result``) sit together so that a column added to one is added to the other;
``tests/web/results/test_stored.py`` checks that a stored result loads back equal.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import polars as pl

from cityeval.engine import Framework
from cityeval.engine.scoring import ScoreResult
from cityeval.web.evaluations.models import Participation
from cityeval.web.regions.models import Region
from cityeval.web.results.models import DimensionResult, ItemResult, RegionResult, ResultRun

BATCH = 2000


def finite_or_none(value: Any) -> float | None:
    """A stored float: NaN (an undefined statistic) is stored as missing."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --- store ----------------------------------------------------------------------------------


def regions_store(
    run: ResultRun,
    result: ScoreResult,
    framework: Framework,
    participations: dict[str, Participation],
    panel_of: dict[str, str],
) -> None:
    """The run's region table, one row per region: group, province, panel, component scores
    and their item counts, final, improvement, ranks, coverage. Read back by
    :func:`stored_result`."""
    counts: dict[str, dict[str, list[int]]] = {}
    if "items_scored" in result.components.columns:
        for cells in result.components.select(
            "region", "component", "items_scored", "items_expected"
        ).iter_rows():
            region, component, scored, expected = cells
            counts.setdefault(region, {})[component] = [int(scored), int(expected)]
    objects = []
    for row in result.regions.iter_rows(named=True):
        p = participations[row["region"]]
        objects.append(
            RegionResult(
                run=run,
                participation=p,
                region=p.region,
                group=row["group"],
                province=p.region.province.name,
                panel=panel_of.get(row["region"], ""),
                components={code: finite_or_none(row[code]) for code in framework.component_codes},
                component_items=counts.get(row["region"], {}),
                final=row["final"],
                previous_final=finite_or_none(row["previous_final"]),
                improvement=finite_or_none(row["improvement"]),
                rank_national=row["rank_national"],
                rank_province=row.get("rank_province"),
                coverage=finite_or_none(row.get("coverage")),
                participant=row["participant"],
            )
        )
    RegionResult.objects.bulk_create(objects, batch_size=BATCH)


def items_store(run: ResultRun, result: ScoreResult, participations: dict[str, Participation]) -> None:
    """The run's item and dimension tables (item-level runs only)."""
    regions = {name: p.region_id for name, p in participations.items()}
    if result.items is not None:
        ItemResult.objects.bulk_create(
            (
                ItemResult(
                    run=run,
                    region_id=regions[row["region"]],
                    item=row["item"],
                    component=row["component"],
                    dimension=row["dimension"] or "",
                    n_assessors=row["n_assessors"],
                    panel_score=row["panel_score"],
                    consolidated=row["consolidated"],
                    score=row["score"],
                    score_min=row["score_min"],
                    score_max=row["score_max"],
                )
                for row in result.items.iter_rows(named=True)
            ),
            batch_size=BATCH,
        )
    if result.dimensions is not None:
        DimensionResult.objects.bulk_create(
            (
                DimensionResult(
                    run=run,
                    region_id=regions[row["region"]],
                    dimension=row["dimension"],
                    score=row["score"],
                    items_scored=row["items_scored"],
                    items_expected=row["items_expected"],
                )
                for row in result.dimensions.iter_rows(named=True)
            ),
            batch_size=BATCH,
        )


# --- load -----------------------------------------------------------------------------------


LINE_FIELDS = (
    "region_id",
    "group",
    "province",
    "components",
    "component_items",
    "final",
    "previous_final",
    "improvement",
    "rank_national",
    "rank_province",
    "coverage",
    "participant",
)
LINES_KEPT = 16  # runs whose lines a process keeps (a national run's lines: about 0.5 MB)


@dataclass(frozen=True)
class RunLines:
    """A run's stored lines as columns (one tuple per field of :data:`LINE_FIELDS`, one entry
    per region, in the table's order: national rank, then the region's name). Shared between
    requests: read them, never change them (``components`` and ``component_items`` hold the
    stored dicts)."""

    columns: Mapping[str, tuple[Any, ...]]

    def __getitem__(self, field: str) -> tuple[Any, ...]:
        return self.columns[field]

    def __len__(self) -> int:
        return len(self.columns["region_id"])


_kept_lines: OrderedDict[tuple[int, str], RunLines] = OrderedDict()
_kept_lock = threading.Lock()


def run_lines(run: ResultRun) -> RunLines:
    """The run's stored lines: the run's own columns, never the region's name, slug or kind,
    which are read fresh by whoever needs them.

    One query, then kept by the process under the run's primary key and public id: a run's
    lines are written once, with the run, and never changed (see :mod:`.models`); a public id
    (a random UUID) is never given to another run, even where a database reuses the primary
    key of a rolled-back run.
    """
    key = (run.pk, str(run.public_id))
    with _kept_lock:
        lines = _kept_lines.get(key)
        if lines is not None:
            _kept_lines.move_to_end(key)
            return lines
    rows = RegionResult.objects.filter(run=run).order_by("rank_national", "region__name")
    values = list(rows.values_list(*LINE_FIELDS))
    lines = RunLines(
        MappingProxyType({field: tuple(v[i] for v in values) for i, field in enumerate(LINE_FIELDS)})
    )
    with _kept_lock:
        _kept_lines[key] = lines
        while len(_kept_lines) > LINES_KEPT:
            _kept_lines.popitem(last=False)
    return lines


def forget_lines() -> None:
    """Forget every run's kept lines (``kept.forget_all``, for tests)."""
    with _kept_lock:
        _kept_lines.clear()


def region_names(run: ResultRun) -> dict[int, str]:
    """The name of each region of the run, read now (names are the region's, not the run's)."""
    ids = RegionResult.objects.filter(run=run).values("region_id")
    return dict(Region.objects.filter(pk__in=ids).order_by().values_list("pk", "name"))


def stored_result(run: ResultRun, framework: Framework, *, region_id: int | None = None) -> ScoreResult:
    """The stored run as the engine's ScoreResult, for the report builders.

    ``regions`` always holds every region (rank totals need them); with ``region_id`` the
    long tables (components, dimensions) hold that region only.
    """
    lines = run_lines(run)
    names = region_names(run)
    codes = framework.component_codes
    item_level = run.level == ResultRun.Level.ITEM
    plain = ["final", "previous_final", "improvement", "rank_national", "rank_province", "participant"]
    if item_level:
        plain.append("coverage")
    regions: dict[str, Any] = {
        "region": [names[pk] for pk in lines["region_id"]],
        "group": lines["group"],
        "province": lines["province"],
    }
    for code in codes:
        regions[code] = [scores.get(code) for scores in lines["components"]]
    for name in plain:
        regions[name] = lines[name]
    components: dict[str, list[Any]] = {c: [] for c in ("region", "component", "weight", "score")}
    if item_level:
        components |= {"items_scored": [], "items_expected": [], "coverage": []}
    for i, pk in enumerate(lines["region_id"]):
        if region_id is not None and pk != region_id:
            continue
        scores, items = lines["components"][i], lines["component_items"][i]
        for code, weight in framework.weights_for(lines["group"][i]).items():
            components["region"].append(names[pk])
            components["component"].append(code)
            components["weight"].append(weight)
            components["score"].append(scores.get(code))
            if item_level:
                scored, expected = items.get(code, [0, 0])
                components["items_scored"].append(scored)
                components["items_expected"].append(expected)
                components["coverage"].append(scored / expected if expected else None)
    return ScoreResult(
        framework_code=framework.code,
        framework_hash=run.framework_digest,
        level="item" if item_level else "component",
        parameters=MappingProxyType(dict(run.parameters)),
        regions=pl.DataFrame(regions, schema=_regions_schema(regions)).sort(
            pl.col("final"), pl.col("region"), descending=[True, False]
        ),
        components=pl.DataFrame(components, schema=_long_schema(components)),
        dimensions=_dimensions(run, names, region_id) if item_level else None,
    )


def _regions_schema(columns: dict[str, list[Any]]) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for name in columns:
        if name in ("region", "group", "province"):
            schema[name] = pl.String
        elif name in ("rank_national", "rank_province"):
            schema[name] = pl.Int64
        elif name == "participant":
            schema[name] = pl.Boolean
        else:
            schema[name] = pl.Float64
    return schema


def _long_schema(columns: dict[str, list[Any]]) -> dict[str, Any]:
    types: dict[str, type[pl.DataType]] = {
        "region": pl.String,
        "component": pl.String,
        "dimension": pl.String,
    }
    types |= {"items_scored": pl.Int64, "items_expected": pl.Int64}
    return {name: types.get(name, pl.Float64) for name in columns}


def _dimensions(run: ResultRun, names: dict[int, str], region_id: int | None) -> pl.DataFrame:
    rows = DimensionResult.objects.filter(run=run)
    if region_id is not None:
        rows = rows.filter(region_id=region_id)
    data: dict[str, list[Any]] = {
        c: [] for c in ("region", "dimension", "score", "items_scored", "items_expected")
    }
    for region, dimension, score, scored, expected in rows.values_list(
        "region_id", "dimension", "score", "items_scored", "items_expected"
    ):
        for column, value in zip(data, (names[region], dimension, score, scored, expected), strict=True):
            data[column].append(value)
    return pl.DataFrame(data, schema=_long_schema(data))
