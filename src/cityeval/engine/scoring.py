"""Scoring: from assessors' item scores, or from component scores, to finals and ranks.

Formulas (docs/domain.md §3):

- item score = the panel's scores of that item consolidated by ``mean`` (default) or ``median``;
- component score = arithmetic mean of the component's item scores;
- final (*Indeks Pencapaian*) = Σ weight × component score, weights of the region's group;
- improvement (*Indeks Peningkatan*) = final − previous final, blank without a previous final;
- ranks: competition ranking ("1, 2, 2, 4") on the unrounded final, national and per province.

Nothing is rounded here: presentation rounds. Every intermediate table is returned with the
parameters that produced it and the framework's hash, so a result can be re-run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.scoring_checks import (
    ITEM_COLUMNS,
    ITEM_KEY,
    REGION_NUMBER,
    canonical_groups,
    catalogue,
    check_component_presence,
    check_item_scores,
    check_scale,
    check_unique_regions,
    with_group,
)
from cityeval.engine.tables import (
    ROW,
    first_row,
    parse_numbers,
    require_columns,
    text_column,
    with_rows,
)

__all__ = [
    "ITEM_COLUMNS",
    "ScoreResult",
    "detect_level",
    "previous_finals",
    "score",
    "score_components",
    "score_items",
]

RANK_DECIMALS = 9
Consolidation = Literal["mean", "median"]
Unscored = Literal["skip", "zero"]


@dataclass(frozen=True)
class ScoreResult:
    """Everything a scoring run produced.

    ``regions``: one row per region — ``region, group, [province], <component codes>, final,
    previous_final, improvement, rank_national, [rank_province], participant, coverage``.
    ``components``: long — ``region, component, weight, score, items_scored, items_expected,
    coverage``. ``items`` and ``dimensions`` exist for item-level input only.
    """

    framework_code: str
    framework_hash: str
    level: Literal["item", "component"]
    parameters: MappingProxyType[str, Any]
    regions: pl.DataFrame
    components: pl.DataFrame
    items: pl.DataFrame | None = None
    dimensions: pl.DataFrame | None = None
    non_participants: tuple[str, ...] = field(default=())

    @property
    def has_province(self) -> bool:
        return "province" in self.regions.columns

    def summary(self, component_codes: tuple[str, ...]) -> pl.DataFrame:
        """The published-letter shape: region, group, components, final, improvement, ranks."""
        columns = ["region", "group", *component_codes, "final", "improvement", "rank_national"]
        if self.has_province:
            columns += ["province", "rank_province"]
        if self.level == "item":
            columns.append("coverage")
        return self.regions.select(columns)


def detect_level(columns: list[str], framework: Framework) -> Literal["item", "component"]:
    """Tell item-level input (one score per assessor) from component-level input."""
    if {"item", "assessor", "score"} <= set(columns):
        return "item"
    if "region" in columns and any(c in columns for c in framework.component_codes):
        return "component"
    raise InputError(
        "cannot tell what this table holds: item scores need the columns "
        f"{', '.join(ITEM_COLUMNS)}; component scores need region and component columns "
        f"({', '.join(framework.component_codes)})"
    )


def score(
    table: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
    rank_non_participants: bool = False,
) -> ScoreResult:
    """Score a table of either level, telling which by its columns."""
    if detect_level(table.columns, framework) == "item":
        return score_items(
            table,
            framework,
            previous=previous,
            default_group=default_group,
            consolidation=consolidation,
            unscored=unscored,
            rank_non_participants=rank_non_participants,
        )
    return score_components(
        table,
        framework,
        previous=previous,
        default_group=default_group,
        rank_non_participants=rank_non_participants,
    )


# --- item level ------------------------------------------------------------------------------


def score_items(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
    rank_non_participants: bool = False,
    overrides: pl.DataFrame | None = None,
) -> ScoreResult:
    """Score a long table ``region, group, item, assessor, score[, province]``.

    ``consolidation`` turns a panel's scores of an item into the item score. ``unscored`` says
    what an expected item nobody scored does to its component: ``skip`` (the component is the
    mean of the scored items; coverage shows what is missing) or ``zero`` (it counts as 0). A
    component with no scored item at all contributes 0 to the final either way. A blank score
    is "not scored", not 0.

    ``overrides`` (``region, item, score``) are consolidated scores a panel chair recorded: they
    replace the consolidated panel score of that item. The items table keeps both
    (``panel_score`` and ``score``) and flags ``consolidated``.

    Example (hand-checkable): two assessors give item ``baseline.legal_basis`` 3 and 4 → item
    score 3.5; if it is the only scored baseline item, baseline = 3.5.
    """
    if consolidation not in ("mean", "median"):
        raise ValueError(f"consolidation must be 'mean' or 'median', not {consolidation!r}")
    if unscored not in ("skip", "zero"):
        raise ValueError(f"unscored must be 'skip' or 'zero', not {unscored!r}")
    panel = getattr(pl.col("score"), consolidation)()
    # The aggregations skip blank scores: no filtered copy of the table.
    checked = check_item_scores(
        scores,
        framework,
        default_group=default_group,
        per_item=[
            panel.alias("score"),
            pl.col("score").count().alias("n_assessors"),
            pl.col("score").min().alias("score_min"),
            pl.col("score").max().alias("score_max"),
        ],
    )
    regions = checked.regions
    expected = _expected_items(regions, framework)
    # Each expected item's aggregations, looked up by its key: a number below regions × items,
    # so a table of them all finds a row's place (cheaper than a join). Kept in the expected
    # items' order (each region's items in the framework's order): the means below add the
    # scores up in that order.
    per_item = checked.per_item
    keys = pl.repeat(None, regions.height * len(framework.items_by_code), dtype=pl.UInt32, eager=True)
    place = pl.lit(keys.scatter(per_item.get_column(ITEM_KEY), pl.int_range(per_item.height, eager=True)))
    items = (
        expected.lazy()
        .with_columns(
            pl.lit(per_item.get_column(c)).gather(place.gather(pl.col(ITEM_KEY)))
            if per_item.height
            # No rows: polars (1.44) takes two empty literal columns for one expression and gives
            # both the first's type, even cast (n_assessors came out Float64; a review).
            else pl.lit(None, dtype=per_item.schema[c]).alias(c)
            for c in per_item.columns
            if c != ITEM_KEY
        )
        .with_columns(pl.col("n_assessors").fill_null(0))
    )
    items = _apply_overrides(items, expected, overrides, framework)
    scored_value = pl.col("score") if unscored == "skip" else pl.col("score").fill_null(0.0)
    # Components and dimensions are grouped by a number (the region's place by name, then the
    # component's or dimension's in the framework), which also sorts them: cheaper than by text.
    span = len(framework.items_by_code)
    components = (
        items.group_by(pl.col("__order__") // span)
        .agg(
            pl.col("region", "component", "weight").first(),
            scored_value.mean().alias("score"),
            pl.col("score").is_not_null().sum().alias("items_scored"),
            pl.len().alias("items_expected"),
        )
        .sort("__order__")
        .drop("__order__")
        # A component with no scored item counts 0 in the final; say so in its score too (its
        # coverage of 0 shows why), so that the component-level table re-scores to the same final.
        # Sorted by region, and marked so: polars then adds up each region's weighted components
        # (its final, in _finish) one after the other, in the framework's order, as it does for
        # a table sorted by region and component (see score_components).
        .with_columns(
            pl.col("region").set_sorted(),
            pl.col("score").fill_null(0.0),
            (pl.col("items_scored") / pl.col("items_expected")).alias("coverage"),
        )
    )
    dimension = pl.col("__order__") // (span * len(framework.component_codes)) * _dimension_count(
        framework
    ) + pl.col("__dimension__")
    dimensions = (
        items.filter(pl.col("dimension").is_not_null())
        .group_by(dimension.alias("__dimension__"))
        .agg(
            pl.col("region", "dimension").first(),
            pl.col("score").mean().alias("score"),
            pl.col("score").is_not_null().sum().alias("items_scored"),
            pl.len().alias("items_expected"),
        )
        .sort("__dimension__")
        .select(pl.col("region").set_sorted(), pl.exclude("region", "__dimension__"))
    )
    in_order = items.sort("__order__").select(
        "region", "component", "item", "dimension", "n_assessors",
        "panel_score", "consolidated", "score", "score_min", "score_max",
    )  # fmt: skip
    components_table, dimensions_table, items_table = pl.collect_all([components, dimensions, in_order])
    return _finish(
        framework,
        level="item",
        regions=regions.drop(REGION_NUMBER),
        components=components_table,
        items=items_table,
        dimensions=dimensions_table,
        previous=previous,
        rank_non_participants=rank_non_participants,
        parameters={"consolidation": consolidation, "unscored": unscored},
    )


def _expected_items(regions: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """One row per (region, item) its group scores, with the item's catalogue entry, its
    :data:`ITEM_KEY`, its place in the items table (``__order__``: by region, component in
    the framework's order, item code) and its dimension's place (``__dimension__``, see
    :func:`_dimension_places`), all as numbers so that joining and sorting stay cheap. Each
    region's items are in the catalogue's order."""
    codes = list(framework.items_by_code)
    place = {code: i for i, code in enumerate(codes)}
    alphabetical = {code: i for i, code in enumerate(sorted(codes))}
    components = {code: i for i, code in enumerate(framework.component_codes)}
    items = catalogue(framework).with_columns(
        pl.col("item").replace_strict(place, return_dtype=pl.Int64).alias("__item__"),
        (
            pl.col("component").replace_strict(components, return_dtype=pl.Int64) * len(codes)
            + pl.col("item").replace_strict(alphabetical, return_dtype=pl.Int64)
        ).alias("__within__"),
        pl.col("dimension")
        .replace_strict(_dimension_places(framework), default=None, return_dtype=pl.Int64)
        .alias("__dimension__"),
    )
    span = len(components) * len(codes)
    numbered = regions.select(
        "region", "group", REGION_NUMBER, pl.col("region").rank("ordinal").cast(pl.Int64).alias("__rank__")
    )
    return (
        numbered.join(items, on="group", maintain_order="left_right")
        .with_columns(
            (pl.col(REGION_NUMBER) * len(codes) + pl.col("__item__")).alias(ITEM_KEY),
            (pl.col("__rank__") * span + pl.col("__within__")).alias("__order__"),
        )
        .drop(REGION_NUMBER, "__rank__", "__item__", "__within__")
    )


def _dimension_places(framework: Framework) -> dict[str, int]:
    """Each dimension of an item: its place in the framework's order (any other after them,
    by name)."""
    places = {d.code: i for i, d in enumerate(framework.dimensions)}
    named = {framework.item_dimension(item) for _, item in framework.items_by_code.values()}
    others = sorted(code for code in named if code is not None and code not in places)
    return places | {code: len(places) + i for i, code in enumerate(others)}


def _dimension_count(framework: Framework) -> int:
    return max(len(_dimension_places(framework)), 1)


def _apply_overrides(
    items: pl.LazyFrame, expected: pl.DataFrame, overrides: pl.DataFrame | None, framework: Framework
) -> pl.LazyFrame:
    """Replace panel scores by the consolidated scores given for (region, item); ``expected``
    has each region's expected items."""
    items = items.with_columns(pl.col("score").alias("panel_score"))
    if overrides is None or overrides.height == 0:
        return items.with_columns(pl.lit(False).alias("consolidated"))
    table = with_rows(overrides)
    require_columns(table, ("region", "item", "score"), what="consolidated-score table")
    table = parse_numbers(text_column(text_column(table, "region"), "item"), ["score"])
    check_scale(table, "score", framework)
    duplicate = first_row(table, pl.len().over("region", "item") > 1)
    if duplicate is not None:
        raise InputError(
            f"item {duplicate['item']!r} of {duplicate['region']!r} has two consolidated scores",
            row=duplicate[ROW],
            column="item",
        )
    stray = table.join(expected.select("region", "item"), on=["region", "item"], how="anti")
    if stray.height:
        bad = stray.sort(ROW).row(0, named=True)
        raise InputError(
            f"no item {bad['item']!r} is expected of region {bad['region']!r}", row=bad[ROW], column="item"
        )
    chosen = table.select("region", "item", pl.col("score").alias("__override__"))
    return (
        items.join(chosen.lazy(), on=["region", "item"], how="left", maintain_order="left")
        .with_columns(
            pl.col("__override__").is_not_null().alias("consolidated"),
            pl.coalesce("__override__", "score").alias("score"),
        )
        .drop("__override__")
    )


def _region_attributes(table: pl.DataFrame) -> pl.DataFrame:
    columns = ["region", "group"] + (["province"] if "province" in table.columns else [])
    return table.select(columns).unique(subset="region", keep="first", maintain_order=True)


# --- component level -------------------------------------------------------------------------


def score_components(
    table: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    rank_non_participants: bool = False,
) -> ScoreResult:
    """Score a table like the ministry's letters: ``region, group, <component codes>``.

    Every component weighted for a region's group must have a value; a component the group
    does not have must be blank. Columns that are not components (e.g. a published final) are
    ignored.
    """
    table = with_group(with_rows(table), framework, default_group)
    require_columns(table, ("region", "group"), what="component-score table")
    table = text_column(table, "region")
    table = text_column(table, "group")
    if "province" in table.columns:
        table = text_column(table, "province", required=False)
    table = canonical_groups(table, framework)
    check_unique_regions(table)
    present = [c for c in framework.component_codes if c in table.columns]
    table = parse_numbers(table, present)
    for code in present:
        check_scale(table, code, framework)
    check_component_presence(table, framework, present)

    regions = _region_attributes(table)
    weights = pl.DataFrame(
        [
            {"group": g, "component": c, "weight": w}
            for g in framework.group_codes
            for c, w in framework.weights_for(g).items()
        ],
        schema={"group": pl.String, "component": pl.String, "weight": pl.Float64},
    )
    long = table.select("region", "group", *present).unpivot(
        index=["region", "group"], variable_name="component", value_name="score"
    )
    components = (
        weights.join(regions.select("region", "group"), on="group")
        .join(long.drop("group"), on=["region", "component"], how="left")
        .drop("group")
        .sort("region", _component_order(framework))
    )
    return _finish(
        framework,
        level="component",
        regions=regions,
        components=components,
        previous=previous,
        rank_non_participants=rank_non_participants,
        parameters={},
    )


def previous_finals(table: pl.DataFrame) -> pl.DataFrame:
    """Check a previous cycle's table (a ``score`` output or any table with region and final).

    Returns ``region, previous_final``; a table already in that shape is returned as it is,
    so a caller can check the file first (to name it in errors) and then pass the result on.
    """
    if set(table.columns) == {"region", "previous_final"}:
        return table
    table = with_rows(table)
    require_columns(table, ("region", "final"), what="previous-cycle table")
    table = text_column(table, "region")
    table = parse_numbers(table, ["final"])
    check_unique_regions(table)
    # A final of 0 is a non-participant's (all components 0 or missing): no previous result.
    return table.filter(pl.col("final").is_not_null() & (pl.col("final") != 0)).select(
        "region", pl.col("final").alias("previous_final")
    )


def _component_order(framework: Framework) -> pl.Expr:
    order = {code: i for i, code in enumerate(framework.component_codes)}
    return pl.col("component").replace_strict(order, return_dtype=pl.Int32)


def _finish(
    framework: Framework,
    *,
    level: Literal["item", "component"],
    regions: pl.DataFrame,
    components: pl.DataFrame,
    previous: pl.DataFrame | None,
    rank_non_participants: bool,
    parameters: dict[str, Any],
    items: pl.DataFrame | None = None,
    dimensions: pl.DataFrame | None = None,
) -> ScoreResult:
    """Finals, improvement, ranks and non-participants, shared by both input levels."""
    per_region = components.group_by("region").agg(
        (pl.col("weight") * pl.col("score").fill_null(0.0)).sum().alias("final"),
        (pl.col("score").fill_null(0.0) > 0).any().alias("participant"),
        *(
            [(pl.col("items_scored").sum() / pl.col("items_expected").sum()).alias("coverage")]
            if level == "item"
            else []
        ),
    )
    wide = components.pivot(on="component", index="region", values="score")
    missing = [c for c in framework.component_codes if c not in wide.columns]
    wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in missing)
    table = regions.join(wide.select("region", *framework.component_codes), on="region").join(
        per_region, on="region"
    )

    if previous is not None:
        table = table.join(previous_finals(previous), on="region", how="left")
    else:
        table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias("previous_final"))
    table = table.with_columns((pl.col("final") - pl.col("previous_final")).alias("improvement"))

    # Ranks compare finals to RANK_DECIMALS places: two regions with the same published
    # components can differ in the 16th digit of a float sum taken in another order, and that
    # noise must not break a tie. (The final itself stays unrounded.)
    key = pl.col("final").round(RANK_DECIMALS)
    rankable = key if rank_non_participants else pl.when(pl.col("participant")).then(key)
    ranks = [rankable.rank("min", descending=True).cast(pl.Int64).alias("rank_national")]
    if "province" in table.columns:
        ranks.append(
            rankable.rank("min", descending=True).over("province").cast(pl.Int64).alias("rank_province")
        )
    table = table.with_columns(ranks).sort(pl.col("final"), pl.col("region"), descending=[True, False])
    columns = ["region", "group", *(["province"] if "province" in table.columns else [])]
    columns += [
        *framework.component_codes,
        "final",
        "previous_final",
        "improvement",
        "rank_national",
    ]
    columns += ["rank_province"] if "province" in table.columns else []
    columns += ["participant"] + (["coverage"] if level == "item" else [])
    table = table.select(columns)
    non_participants = tuple(table.filter(~pl.col("participant")).get_column("region").sort())
    return ScoreResult(
        framework_code=framework.code,
        framework_hash=framework.hash,
        level=level,
        parameters=MappingProxyType(
            {**parameters, "rank_non_participants": rank_non_participants, "level": level}
        ),
        regions=table,
        components=components,
        items=items,
        dimensions=dimensions,
        non_participants=non_participants,
    )
