"""A scoring run in the database and back: the one mapping between the engine's
:class:`ScoreResult` tables and the stored rows (:class:`RegionResult`, :class:`ItemResult`,
:class:`DimensionResult`). The store half (``regions_store``, ``items_store``) and the load
half (``stored_result``) sit together so that a column added to one is added to the other;
``tests/web/results/test_stored.py`` checks that a stored result loads back equal.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import polars as pl
from django.core.cache import cache

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


LINES_CACHE_SECONDS = 3600
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


def run_lines(run: ResultRun) -> list[dict[str, Any]]:
    """The run's stored lines (one per region, in the table's order: national rank, then the
    region's name), each a dict of :data:`LINE_FIELDS`: the run's own columns, never the
    region's name, slug or kind, which are read fresh by whoever needs them.

    One query, then kept in the cache under the run's public id: a run's lines are written
    once, with the run, and never changed (see :mod:`.models`), and a public id (a random
    UUID) is never given to another run, even where a database reuses a rolled-back primary key.
    """
    key = f"results:run-lines:{run.public_id}"
    lines = cache.get(key)
    if lines is None:
        rows = RegionResult.objects.filter(run=run).order_by("rank_national", "region__name")
        lines = [dict(zip(LINE_FIELDS, values, strict=True)) for values in rows.values_list(*LINE_FIELDS)]
        cache.set(key, lines, LINES_CACHE_SECONDS)
    return lines


def region_names(run: ResultRun) -> dict[int, str]:
    """The name of each region of the run, read now (names are the region's, not the run's)."""
    ids = RegionResult.objects.filter(run=run).values("region_id")
    return dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))


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
    regions: dict[str, list[Any]] = {
        "region": [names[line["region_id"]] for line in lines],
        "group": [line["group"] for line in lines],
        "province": [line["province"] for line in lines],
    }
    for code in codes:
        regions[code] = [line["components"].get(code) for line in lines]
    for name in plain:
        regions[name] = [line[name] for line in lines]
    components: dict[str, list[Any]] = {c: [] for c in ("region", "component", "weight", "score")}
    if item_level:
        components |= {"items_scored": [], "items_expected": [], "coverage": []}
    for line in lines:
        if region_id is not None and line["region_id"] != region_id:
            continue
        name = names[line["region_id"]]
        for code, weight in framework.weights_for(line["group"]).items():
            components["region"].append(name)
            components["component"].append(code)
            components["weight"].append(weight)
            components["score"].append(line["components"].get(code))
            if item_level:
                scored, expected = line["component_items"].get(code, [0, 0])
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
