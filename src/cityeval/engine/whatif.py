"""What-if planner: which items would raise a region's final most, and what a set of changes gives.

A change sets an item of the region to a level: every score its panel gave that item becomes
the level, and an item nobody scored gets that level from each of the region's assessors. So
the item score becomes the level under either consolidation, and the coverage rule applies as
it does to any input: with ``unscored="skip"`` raising a scored item adds
``weight × (level − current) / items scored in its component`` to the final, while scoring an
unscored item changes the component's mean (and may lower it if the level is below that mean);
with ``"zero"`` every item adds ``weight × (level − current) / items expected``.

Nothing is approximated: each change is re-scored by :func:`~cityeval.engine.scoring.score_items`
(all changes in one run, each as a copy of the region), so ``gain_final`` is exactly the final of
the changed input less the current final. ``new_rank`` is the competition rank the new final
would have against the current finals of the other participating regions (as the engine ranks:
finals rounded to 9 decimals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.scoring import (
    RANK_DECIMALS,
    Consolidation,
    ScoreResult,
    Unscored,
    detect_level,
    score_items,
)
from cityeval.engine.scoring_checks import check_item_table
from cityeval.engine.tables import ROW

__all__ = ["Plan", "plan", "simulate"]

_COPY = "\x1f"  # joins a region and a change into the name of the copy that carries it


@dataclass(frozen=True)
class Plan:
    """``items``: one row per candidate item, best first — ``item, component, weight, current,
    target, gain_final, new_final, new_rank``. ``final`` and ``rank``: the region's now."""

    region: str
    final: float
    rank: int | None
    items: pl.DataFrame


def plan(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    region: str,
    target_level: float | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
) -> Plan:
    """Every item of ``region`` below ``target_level`` (default: the top of the scale), with the
    gain in final of raising it alone to that level, best first (ties by item code)."""
    table, current = _checked(scores, framework, region, default_group, consolidation, unscored)
    target = framework.scale.max if target_level is None else float(target_level)
    if not framework.scale.contains(target):
        raise InputError(
            f"level {target:g} is outside the scale {framework.scale.min:g}–{framework.scale.max:g}"
        )
    items = current.items
    assert items is not None  # item-level results always have items
    candidates = items.filter(
        (pl.col("region") == region) & (pl.col("score").is_null() | (pl.col("score") < target))
    )
    codes = candidates.get_column("item").to_list()
    finals = _rescored(table, framework, region, [{code: target} for code in codes], consolidation, unscored)
    now = _final_of(current, region)
    rows = candidates.select(
        "item",
        "component",
        pl.col("score").alias("current"),
        pl.lit(target).alias("target"),
    ).with_columns(pl.Series("new_final", finals, dtype=pl.Float64))
    weights = framework.weights_for(_group_of(current, region))
    rows = rows.with_columns(
        pl.col("component").replace_strict(weights, return_dtype=pl.Float64).alias("weight"),
        (pl.col("new_final") - now).alias("gain_final"),
        pl.Series("new_rank", [_rank_against(current, region, f) for f in finals], dtype=pl.Int64),
    ).sort(["gain_final", "item"], descending=[True, False])
    columns = ["item", "component", "weight", "current", "target", "gain_final", "new_final", "new_rank"]
    return Plan(region=region, final=now, rank=_rank_of(current, region), items=rows.select(columns))


def simulate(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    region: str,
    changes: Mapping[str, float],
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
) -> tuple[float, int | None]:
    """The final and rank of ``region`` with all ``changes`` (item → level) made together."""
    table, current = _checked(scores, framework, region, default_group, consolidation, unscored)
    expected = set(current.items.filter(pl.col("region") == region).get_column("item"))  # type: ignore[union-attr]
    for code, level in changes.items():
        if code not in expected:
            raise InputError(f"item {code!r} is not expected of region {region!r}")
        if not framework.scale.contains(float(level)):
            raise InputError(f"level {level:g} for {code!r} is outside the scale")
    (final,) = _rescored(table, framework, region, [dict(changes)], consolidation, unscored)
    return final, _rank_against(current, region, final)


def _checked(
    scores: pl.DataFrame,
    framework: Framework,
    region: str,
    default_group: str | None,
    consolidation: Consolidation,
    unscored: Unscored,
) -> tuple[pl.DataFrame, ScoreResult]:
    if detect_level(scores.columns, framework) != "item":
        raise InputError(
            "the what-if planner needs item-level input (region, group, item, assessor, score): "
            "a component score cannot tell which item to raise"
        )
    table = check_item_table(scores, framework, default_group=default_group).drop(ROW)
    current = score_items(table, framework, consolidation=consolidation, unscored=unscored)
    if region not in set(current.regions.get_column("region")):
        raise InputError(f"no region {region!r} in the input")
    return table, current


def _rescored(
    table: pl.DataFrame,
    framework: Framework,
    region: str,
    changes: list[dict[str, float]],
    consolidation: Consolidation,
    unscored: Unscored,
) -> list[float]:
    """The final of ``region`` under each set of changes, by one scoring run over copies."""
    if not changes:
        return []
    own = table.filter(pl.col("region") == region)
    assessors = own.get_column("assessor").unique(maintain_order=True).to_list()
    copies = []
    for number, change in enumerate(changes):
        name = f"{region}{_COPY}{number}"
        copy = own.with_columns(pl.lit(name).alias("region"))
        levels = pl.DataFrame(
            {"item": list(change), "__level__": [float(v) for v in change.values()]},
            schema={"item": pl.String, "__level__": pl.Float64},
        )
        copy = (
            copy.join(levels, on="item", how="left")
            .with_columns(pl.coalesce("__level__", "score").alias("score"))
            .drop("__level__")
        )
        scored = set(copy.filter(pl.col("item").is_in(list(change))).get_column("item"))
        added = [
            {**copy.row(0, named=True), "item": code, "assessor": a, "score": float(change[code])}
            for code in change
            if code not in scored
            for a in assessors
        ]
        if added:
            copy = pl.concat([copy, pl.DataFrame(added, schema=copy.schema)])
        copies.append(copy)
    result = score_items(pl.concat(copies), framework, consolidation=consolidation, unscored=unscored)
    finals = dict(zip(result.regions.get_column("region"), result.regions.get_column("final"), strict=True))
    return [float(finals[f"{region}{_COPY}{n}"]) for n in range(len(changes))]


def _final_of(result: ScoreResult, region: str) -> float:
    return float(result.regions.filter(pl.col("region") == region).get_column("final")[0])


def _group_of(result: ScoreResult, region: str) -> str:
    return str(result.regions.filter(pl.col("region") == region).get_column("group")[0])


def _rank_of(result: ScoreResult, region: str) -> int | None:
    value = result.regions.filter(pl.col("region") == region).get_column("rank_national")[0]
    return None if value is None else int(value)


def _rank_against(result: ScoreResult, region: str, final: float) -> int | None:
    """Competition rank of ``final`` among the other participating regions' current finals."""
    if final == 0:
        return None  # all components 0: not a participant, not ranked
    others = result.regions.filter(pl.col("participant") & (pl.col("region") != region))
    key = pl.Series([final]).round(RANK_DECIMALS)[0]  # rounded as the engine rounds
    return 1 + int((others.get_column("final").round(RANK_DECIMALS) > key).sum())
