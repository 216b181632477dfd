"""The scoring engine's item-level rules as arrays, re-run on many draws at once.

Used by :mod:`cityeval.engine.uncertainty`. The arrays are regions × assessors × items; a draw
of the assessors is, per region, the indices of the panel members drawn (``picks``). The rules
are those of :func:`cityeval.engine.scoring.score_items`: item = panel mean (or median) of the
scores present; component = mean of the scored items (``skip``) or sum over the expected items
(``zero``), 0 without a scored item; final = Σ weight × component.

Two ways give the same numbers. The general one computes every item of every draw. The fast one
serves the common case — mean consolidation and complete panels (each assessor of a region
scored the same items) — where the set of scored items cannot change from draw to draw, so a
component is linear in the assessors' draw counts: ``Σ_a count_a · (Σ_{i∈c} x_ai) / m``,
a regions × assessors × components product; only survey-moved items, whose clipping to the
scale is not linear, are computed one by one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

from cityeval.engine.framework import Framework
from cityeval.engine.scoring_checks import catalogue, check_item_table
from cityeval.engine.uncertainty_inputs import SurveyCounts

__all__ = ["Model", "Sample", "components", "drawn", "model_of"]

_CHUNK_CELLS = 250_000  # region × item cells per block of draws: small blocks reuse freed memory
# The fast way works on region × (component + survey item) cells, a few arrays of each: blocks
# this large keep the per-block overhead small for the few tens of MB they take.
_FAST_CHUNK_CELLS = 1_000_000


@dataclass(frozen=True)
class Model:
    """The item-level input as arrays."""

    scores: np.ndarray  # (R, A, I) scores, 0 where not scored
    scored: np.ndarray  # (R, A, I) 1.0 where scored
    panel: np.ndarray  # (R,) number of assessors
    expected: np.ndarray  # (R, I) bool
    item_component: np.ndarray  # (I, C) 0/1
    region_group: np.ndarray  # (R,) index into groups
    weights: np.ndarray  # (G, C) fractions
    low: float
    high: float
    consolidation: str
    unscored: str
    complete: bool  # each region's assessors all scored the same items


@dataclass(frozen=True)
class Sample:
    """One set of ``draws`` random inputs; ``None`` where a source is off (its nominal value)."""

    picks: np.ndarray | None  # (D, R, A) assessor indices drawn per region, -1 past the panel
    survey: np.ndarray | None  # (D, S) survey totals drawn per count row
    weights: np.ndarray | None  # (D, G, C)
    draws: int
    # (D, R, A) how often each assessor was drawn (see :func:`drawn`); counted from
    # ``picks`` when needed if not given
    drawn: np.ndarray | None = None


def model_of(
    scores: pl.DataFrame,
    framework: Framework,
    regions: pl.DataFrame,
    *,
    default_group: str | None,
    consolidation: str,
    unscored: str,
) -> Model:
    """Arrays of a checked item-level table, regions in the order of ``regions``."""
    table = check_item_table(scores, framework, default_group=default_group).filter(
        pl.col("score").is_not_null()
    )
    region_index = {r: i for i, r in enumerate(regions.get_column("region"))}
    item_index = {code: i for i, code in enumerate(framework.items_by_code)}
    component_index = {c: i for i, c in enumerate(framework.component_codes)}
    group_index = {g: i for i, g in enumerate(framework.group_codes)}
    table = table.with_columns(
        pl.col("region").replace_strict(region_index, return_dtype=pl.Int64).alias("r"),
        pl.col("item").replace_strict(item_index, return_dtype=pl.Int64).alias("i"),
        pl.col("assessor").rank("dense").over("region").cast(pl.Int64).sub(1).alias("a"),
    )
    n_regions, n_items = len(region_index), len(item_index)
    n_assessors = max(int(table.get_column("a").max() or 0) + 1, 1)  # type: ignore[arg-type]
    r, a, i = (table.get_column(c).to_numpy() for c in ("r", "a", "i"))
    values = np.zeros((n_regions, n_assessors, n_items))
    scored = np.zeros_like(values)
    values[r, a, i] = table.get_column("score").to_numpy()
    scored[r, a, i] = 1.0
    panel = np.zeros(n_regions, dtype=np.int64)
    np.maximum.at(panel, r, a + 1)
    group_of = regions.get_column("group").to_list()
    group_items = {
        key[0]: [item_index[c] for c in members.get_column("item")]
        for key, members in catalogue(framework).group_by("group")
    }
    expected = np.zeros((n_regions, n_items), dtype=bool)
    for row, group in enumerate(group_of):
        expected[row, group_items.get(group, [])] = True
    item_component = np.zeros((n_items, len(component_index)))
    for code, (component, _item) in framework.items_by_code.items():
        item_component[item_index[code], component_index[component.code]] = 1.0
    weights = np.zeros((len(group_index), len(component_index)))
    for group, g in group_index.items():
        for code, w in framework.weights_for(group).items():
            weights[g, component_index[code]] = w
    return Model(
        scores=values,
        scored=scored,
        panel=panel,
        expected=expected,
        item_component=item_component,
        region_group=np.array([group_index[g] for g in group_of], dtype=np.int64),
        weights=weights,
        low=framework.scale.min,
        high=framework.scale.max,
        consolidation=consolidation,
        unscored=unscored,
        complete=_complete(scored, panel),
    )


def _complete(scored: np.ndarray, panel: np.ndarray) -> bool:
    members = np.arange(scored.shape[1])[None, :] < panel[:, None]  # (R, A)
    any_scored = scored.any(axis=1, keepdims=True)
    return bool(np.all((scored > 0) == (any_scored & members[:, :, None])))


def components(model: Model, sample: Sample, counts: SurveyCounts | None) -> np.ndarray:
    """Component scores of every draw, ``draws × regions × components``."""
    n_regions, _, n_items = model.scores.shape
    fast = model.complete and model.consolidation == "mean"
    moved_items = 0 if counts is None else len(np.unique(counts.item))
    cells = n_regions * (model.item_component.shape[1] + moved_items if fast else n_items)
    step = max(1, (_FAST_CHUNK_CELLS if fast else _CHUNK_CELLS) // max(1, cells))
    out = np.empty((sample.draws, n_regions, model.item_component.shape[1]))
    survey = sample.survey if counts is not None else None
    parts = _linear_parts(model, counts) if fast else None
    # Counted once for all the draws (the median way reads the picks themselves).
    counted = sample.drawn
    if counted is None and sample.picks is not None and model.consolidation != "median":
        counted = drawn(sample.picks)
    spare: dict[int, np.ndarray] = {}  # the fast way's clipping changes, kept between blocks
    for start in range(0, sample.draws, step):
        block = slice(start, min(start + step, sample.draws))
        draws = block.stop - start
        if counted is None:
            multiplicity = _members(model, draws)
        else:  # floats for the products, block by block (the counts are kept small)
            multiplicity = counted[block].astype(np.float64).transpose(1, 0, 2)
        if parts is not None:
            moved = None
            if survey is not None and counts is not None:
                moved = counts.deviation_by_row(survey[block], parts.moved_rows)
            out[block] = _linear(model, parts, multiplicity, moved, spare)
        else:
            picks = sample.picks[block] if sample.picks is not None else None
            items = _items(model, picks, multiplicity, draws)  # (R, d, I)
            if survey is not None and counts is not None:
                rows, columns = counts.region, counts.item
                shifted = items[rows, :, columns] + counts.deviation_by_row(survey[block])
                items[rows, :, columns] = np.clip(shifted, model.low, model.high)
            out[block] = _aggregate(model, items).transpose(1, 0, 2)
    return out


def _members(model: Model, draws: int) -> np.ndarray:
    """Each panel member once in every draw (the assessors not drawn), ``regions × draws ×
    assessors``."""
    n_regions, n_assessors, _ = model.scores.shape
    members = (np.arange(n_assessors)[None, :] < model.panel[:, None]).astype(np.float64)
    return np.broadcast_to(members[:, None, :], (n_regions, draws, n_assessors))


def drawn(picks: np.ndarray) -> np.ndarray:
    """How often each assessor was drawn, ``draws × regions × assessors``: one count over all
    the draws, as small integers (a block's ``regions × draws × assessors`` floats are its
    transposed copy)."""
    draws, n_regions, n_assessors = picks.shape
    size = draws * n_regions * n_assessors
    cell = (np.arange(draws * n_regions, dtype=np.int64) * n_assessors).reshape(draws, n_regions, 1) + picks
    cell[picks < 0] = size  # past the panel: counted in a last cell, dropped
    tally = np.bincount(cell.ravel(), minlength=size + 1)[:size]
    small = np.uint8 if n_assessors < 2**8 else np.int64  # whole counts, exact in either
    return tally.reshape(draws, n_regions, n_assessors).astype(small)


@dataclass(frozen=True)
class _Linear:
    """What the fast way needs, computed once per run rather than per block of draws."""

    sums: np.ndarray  # (R, A, C): each assessor's scores summed per component
    divisor: np.ndarray  # (R, 1, C): panel size × items counted in the component (1 if none)
    rows: np.ndarray  # survey-moved rows whose item is scored: region index
    keep: np.ndarray  # which rows of the survey counts those are
    moved_rows: np.ndarray | None  # ``keep``, or None when it keeps every row
    cell: np.ndarray  # their (region, item) cell among the R × I_s survey-moved cells
    survey_scores: np.ndarray  # (R, I_s, A) the assessors' scores of the survey-moved items
    survey_component: np.ndarray  # (I_s, C)


def _linear_parts(model: Model, counts: SurveyCounts | None) -> _Linear:
    panel = np.maximum(model.panel, 1)[:, None, None].astype(np.float64)
    present = model.scored.any(axis=1) & model.expected  # (R, I): scored in every draw
    counted = (present if model.unscored == "skip" else model.expected).astype(np.float64)
    per_component = (counted @ model.item_component)[:, None, :]
    keep = np.zeros(0, dtype=bool) if counts is None else present[counts.region, counts.item]
    moved = np.zeros(0, dtype=np.int64) if counts is None else counts.item[keep]
    items, position = np.unique(moved, return_inverse=True)
    return _Linear(
        sums=(model.scores * present[:, None, :]) @ model.item_component,
        # A component without a counted item has a sum of 0: dividing by 1 keeps it 0.
        divisor=panel * np.maximum(per_component, 1.0),
        rows=np.zeros(0, dtype=np.int64) if counts is None else counts.region[keep],
        keep=keep,
        moved_rows=None if keep.all() else keep,
        cell=(np.zeros(0, dtype=np.int64) if counts is None else counts.region[keep]) * len(items) + position,
        survey_scores=(model.scores[:, :, items] / panel).transpose(0, 2, 1).copy(),
        survey_component=model.item_component[items],
    )


def _linear(
    model: Model,
    parts: _Linear,
    multiplicity: np.ndarray,
    moved: np.ndarray | None,
    spare: dict[int, np.ndarray],
) -> np.ndarray:
    """The fast way (complete panels, mean): ``draws × regions × components``. ``moved``: the
    survey deviations of the kept rows, ``rows × draws``. ``spare``: arrays of the changes by
    number of draws, reused from block to block (only the kept rows' cells are ever written,
    so the others stay 0)."""
    totals = np.matmul(multiplicity, parts.sums)  # (R, d, C), times the panel size
    if moved is not None and parts.rows.size:
        # The panel's score of each survey-moved item in each draw, then the change clipping
        # makes, summed into the components through the item → component matrix.
        # Laid out region × item × draw, so that a row's draws are side by side.
        panel_scores = np.matmul(parts.survey_scores, multiplicity.transpose(0, 2, 1))  # (R, I_s, d)
        n_regions, n_moved, draws = panel_scores.shape
        item = panel_scores.reshape(n_regions * n_moved, draws)[parts.cell]  # (S, d)
        shifted = np.add(item, moved, out=moved)
        np.clip(shifted, model.low, model.high, out=shifted)
        shifted -= item
        changes = spare.get(draws)
        if changes is None:
            changes = spare[draws] = np.zeros_like(panel_scores)
        changes.reshape(n_regions * n_moved, draws)[parts.cell] = shifted
        panel = np.maximum(model.panel, 1)[:, None, None]
        totals += np.matmul(changes.transpose(0, 2, 1), parts.survey_component) * panel
    return (totals / parts.divisor).transpose(1, 0, 2)


def _items(model: Model, picks: np.ndarray | None, multiplicity: np.ndarray, draws: int) -> np.ndarray:
    """Item scores (NaN where unscored), ``regions × draws × items``."""
    if model.consolidation == "median":
        return _median_items(model, picks, draws)
    # (R, d, A) @ (R, A, I): each region's draws of panel members weight its assessors' scores.
    weighted = np.matmul(multiplicity, model.scores)
    counted = np.matmul(multiplicity, model.scored)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted > 0, weighted / counted, np.nan)


def _median_items(model: Model, picks: np.ndarray | None, draws: int) -> np.ndarray:
    n_regions, n_assessors, _ = model.scores.shape
    if picks is None:
        members = np.arange(n_assessors)[None, :] < model.panel[:, None]
        picks = np.broadcast_to(
            np.where(members, np.arange(n_assessors), -1)[None], (draws, n_regions, n_assessors)
        )
    values = np.where(model.scored > 0, model.scores, np.nan)  # (R, A, I)
    gathered = values[np.arange(n_regions)[None, :, None], np.maximum(picks, 0)]  # (d, R, A, I)
    gathered[picks < 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: an item nobody drawn scored
        return np.nanmedian(gathered, axis=2).transpose(1, 0, 2)


def _aggregate(model: Model, items: np.ndarray) -> np.ndarray:
    """Component scores (``regions × draws × components``) by the engine's coverage rule."""
    scored = ~np.isnan(items) & model.expected[:, None, :]
    totals = np.where(scored, items, 0.0) @ model.item_component
    if model.unscored == "zero":
        counts = (model.expected.astype(np.float64) @ model.item_component)[:, None, :]
    else:
        counts = scored.astype(np.float64) @ model.item_component
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, totals / counts, 0.0)
