"""Uncertainty of the final and of the rank: Monte Carlo over assessors, survey and weights.

Each draw re-scores every region exactly as :func:`cityeval.engine.scoring.score_items` does
(item score = the panel's scores consolidated by mean or median; component = mean of the scored
items, or unscored items counted as 0 with ``unscored="zero"``; final = Σ weight × component;
competition ranks on the final rounded to 9 decimals, among the regions that took part), with
the inputs of three switchable sources drawn at random:

- ``assessors``: each region's panel is resampled with replacement (the bootstrap of panel
  members: a region with ``m`` assessors gets ``m`` draws from its ``m`` assessors, the same
  draw for all its items). An item none of the drawn assessors scored is unscored in that draw,
  and the coverage rule applies to it.
- ``survey``: for an Impact item whose statement has answer counts ``c_0 … c_4`` (``n``
  respondents), ``n`` answers are resampled with replacement and their mean ``x̄*`` taken. The
  survey mean is the level proposed to the assessors unchanged (no conversion), so the item
  score of the draw is the panel's score moved by the survey's sampling deviation,
  ``clip(panel + x̄* − x̄, scale)``. ``x̄*`` is drawn exactly: the sum of ``n`` answers has the
  ``n``-fold convolution of the answer shares as its law (computed by FFT), sampled by its
  inverse distribution function.
- ``weights``: each component weight of each group is multiplied by a factor uniform in
  ``[1 − r, 1 + r]`` (default ``r = 0.2``) and the group's weights renormalised to sum to 1; or
  one weight set is picked at random, with equal chance, from a given list.

With every source off, or with one assessor per region and weights fixed, each draw is the
point result. Percentiles are the inverse of the empirical distribution function (the smallest
draw whose cumulative share reaches 5 % or 95 %), so rank bounds are ranks.

**Variance shares** are first-order Sobol indices of the final, per region, with the sources as
three groups of inputs, by the estimator of Saltelli et al. (2010), *Variance based sensitivity
analysis of model output. Design and estimator for the total sensitivity index*, Comput. Phys.
Commun. 181:259–270, Table 2 (b): with ``A`` and ``B`` two independent sets of ``N`` draws and
``A_B^i`` the draws of ``A`` with source ``i`` taken from ``B``,
``S_i = (1/N) Σ_j f(B)_j (f(A_B^i)_j − f(A)_j) / V(Y)``, ``V(Y)`` the variance of ``f`` over
``A`` and ``B`` together. This is the approach of the JRC/OECD *Handbook on Constructing
Composite Indicators* (2008), §1.7 and Step 7. The shares sum to 1 when the sources act
additively; what falls short of 1 is interaction. The intervals, ranks and ``p_top10`` come
from the ``N`` draws of ``A``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.scoring import RANK_DECIMALS, Consolidation, Unscored, score_items
from cityeval.engine.uncertainty_inputs import SurveyCounts, WeightSets, survey_counts
from cityeval.engine.uncertainty_model import Model, Sample, components, drawn, model_of

__all__ = ["SOURCES", "SURVEY_SOURCE", "UncertaintyResult", "competition_ranks", "uncertainty"]

SOURCES = ("assessors", "survey", "weights")
SURVEY_SOURCE = "survey counts"  # names the survey table in its errors; callers may rename it
TOP = 10


@dataclass(frozen=True)
class UncertaintyResult:
    """``regions``: one row per region — ``region, group, [province], final, final_lo, final_hi,
    rank_national, rank_lo, rank_hi, [rank_province, rank_province_lo, rank_province_hi],
    p_top10`` and ``share_<source>`` per active source. ``shares``: the sources' share of the
    variance of all finals together (Σ over regions of each region's partial variance over
    Σ of its variance). ``finals``: the draws, ``draws × regions``, in the order of ``regions``.
    """

    parameters: MappingProxyType[str, Any]
    regions: pl.DataFrame
    shares: Mapping[str, float | None]
    finals: np.ndarray = field(repr=False)


def uncertainty(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    draws: int = 1000,
    seed: int = 0,
    sources: Sequence[str] = ("assessors", "weights"),
    weight_range: float = 0.2,
    weight_sets: WeightSets | None = None,
    survey: pl.DataFrame | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
    variance_shares: bool = True,
) -> UncertaintyResult:
    """Monte Carlo of finals and ranks of item-level ``scores`` (see the module's docstring).

    ``survey``: answer counts per region and statement (see :func:`survey_counts`); the survey
    source needs it. ``weight_sets`` replaces the ±``weight_range`` perturbation by a list.
    ``variance_shares=False`` skips the shares (and the extra draws they cost); the intervals
    are the same either way. Deterministic for a given ``seed``.
    """
    active = _check_options(sources, draws, weight_range, survey)
    point = score_items(
        scores, framework, default_group=default_group, consolidation=consolidation, unscored=unscored
    )
    regions = point.regions
    model = model_of(
        scores,
        framework,
        regions,
        default_group=default_group,
        consolidation=consolidation,
        unscored=unscored,
    )
    counts = None
    if "survey" in active and survey is not None:
        try:
            counts = survey_counts(survey, framework, regions)
        except InputError as exc:
            raise exc.with_source(SURVEY_SOURCE) from None
    rng = np.random.default_rng(seed)
    sample_a = _sample(rng, model, framework, draws, active, weight_range, weight_sets, counts)
    components_a = components(model, sample_a, counts)
    finals_a = _weighted(model, components_a, sample_a)
    partial: dict[str, np.ndarray] = {}
    variance = np.zeros(regions.height)
    if active and variance_shares:
        sample_b = _sample(rng, model, framework, draws, active, weight_range, weight_sets, counts)
        partial, variance = _sobol(model, sample_a, sample_b, components_a, counts, active)
    table = _summary(regions, finals_a, partial, variance)
    spread = float(variance.sum())
    total = {s: float(partial[s].sum()) / spread if spread > 0 else None for s in partial}
    parameters = {
        "draws": draws,
        "seed": seed,
        "sources": list(active),
        "variance_shares": variance_shares,
        "weight_range": weight_range if weight_sets is None else None,
        "weight_sets": None if weight_sets is None else len(weight_sets),
        "consolidation": consolidation,
        "unscored": unscored,
        "framework": framework.code,
        "framework_hash": framework.hash,
    }
    return UncertaintyResult(
        parameters=MappingProxyType(parameters),
        regions=table,
        shares=MappingProxyType(total),
        finals=finals_a,
    )


def _check_options(
    sources: Sequence[str], draws: int, weight_range: float, survey: pl.DataFrame | None
) -> tuple[str, ...]:
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source {unknown[0]!r} (sources: {', '.join(SOURCES)})")
    if draws < 2:
        raise ValueError("draws must be at least 2")
    if not 0 <= weight_range < 1:
        raise ValueError("weight_range must be at least 0 and below 1")
    if "survey" in sources and survey is None:
        raise ValueError("the survey source needs answer counts (survey=...)")
    return tuple(s for s in SOURCES if s in sources)


# --- drawing the inputs ----------------------------------------------------------------------


def _sample(
    rng: np.random.Generator,
    model: Model,
    framework: Framework,
    draws: int,
    active: tuple[str, ...],
    weight_range: float,
    weight_sets: WeightSets | None,
    counts: SurveyCounts | None,
) -> Sample:
    picks = survey = weights = counted = None
    if "assessors" in active:
        n_regions, n_assessors, _ = model.scores.shape
        uniform = rng.random((draws, n_regions, n_assessors))
        picks = np.floor(uniform * model.panel[None, :, None]).astype(np.int64)
        picks[:, np.arange(n_assessors)[None, :] >= model.panel[:, None]] = -1
        if model.consolidation == "mean":  # counted once: the variance shares reuse the picks
            counted = drawn(picks)
    if "survey" in active and counts is not None:
        survey = counts.totals(rng, draws)
    if "weights" in active:
        if weight_sets is not None:
            chosen = rng.integers(len(weight_sets), size=draws)
            weights = weight_sets.array(framework)[chosen]
        else:
            factors = rng.uniform(1 - weight_range, 1 + weight_range, (draws, *model.weights.shape))
            raw = model.weights[None] * factors
            weights = raw / raw.sum(axis=2, keepdims=True)
    return Sample(picks=picks, survey=survey, weights=weights, draws=draws, drawn=counted)


def _mix(a: Sample, b: Sample, source: str) -> Sample:
    """``A_B^i``: the draws of ``a`` with ``source`` taken from ``b``."""
    return Sample(
        picks=b.picks if source == "assessors" else a.picks,
        drawn=b.drawn if source == "assessors" else a.drawn,
        survey=b.survey if source == "survey" else a.survey,
        weights=b.weights if source == "weights" else a.weights,
        draws=a.draws,
    )


def _finals(model: Model, sample: Sample, counts: SurveyCounts | None) -> np.ndarray:
    """Finals of every draw, ``draws × regions``."""
    return _weighted(model, components(model, sample, counts), sample)


def _weighted(model: Model, scores: np.ndarray, sample: Sample) -> np.ndarray:
    """Σ weight × component per draw and region, with the draw's weights if they vary."""
    if sample.weights is None:
        return np.einsum("drc,rc->dr", scores, model.weights[model.region_group])
    return np.einsum("drc,drc->dr", scores, sample.weights[:, model.region_group, :])


# --- variance shares -------------------------------------------------------------------------


def _sobol(
    model: Model,
    a: Sample,
    b: Sample,
    components_a: np.ndarray,
    counts: SurveyCounts | None,
    active: tuple[str, ...],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per source, the partial variance ``V_i`` of each region's final (Saltelli et al. 2010,
    Table 2 (b)), and the variance ``V(Y)`` over the draws of A and B together."""
    finals_a = _weighted(model, components_a, a)
    finals_b = _finals(model, b, counts)
    both = np.concatenate([finals_a, finals_b])
    variance = np.var(both, axis=0)
    # Centring leaves the estimator's expectation unchanged (E[f(A_B^i) − f(A)] = 0) but
    # removes the noise of multiplying by a large mean, as SALib does by standardising Y.
    centre = both.mean(axis=0)
    partial = {}
    for source in active:
        mixed = _mix(a, b, source)
        if source == "weights":
            # Weights do not change component scores: reuse A's instead of re-scoring the items.
            finals_ab = _weighted(model, components_a, mixed)
        else:
            finals_ab = _finals(model, mixed, counts)
        partial[source] = np.mean((finals_b - centre) * (finals_ab - finals_a), axis=0)
    return partial, variance


# --- summaries -------------------------------------------------------------------------------


def competition_ranks(finals: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Competition ranks ("1, 2, 2, 4") of each row of ``finals`` (draws × regions), highest
    first, on finals rounded to 9 decimals as the engine ranks; 0 where ``mask`` is False."""
    if mask is not None:
        ranks = np.zeros(finals.shape, dtype=np.int64)
        if mask.any():
            ranks[:, mask] = competition_ranks(finals[:, mask])
        return ranks
    key = -np.round(finals, RANK_DECIMALS)
    order = np.argsort(key, axis=1, kind="stable")
    ordered = np.take_along_axis(key, order, axis=1)
    position = np.arange(finals.shape[1])[None, :].repeat(finals.shape[0], axis=0)
    starts = np.ones(ordered.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(starts, position, 0), axis=1) + 1
    ranks = np.empty_like(first)
    np.put_along_axis(ranks, order, first, axis=1)
    return ranks


def _summary(
    regions: pl.DataFrame, finals: np.ndarray, partial: Mapping[str, np.ndarray], variance: np.ndarray
) -> pl.DataFrame:
    took_part = regions.get_column("participant").to_numpy()
    national = competition_ranks(finals, took_part)
    low, high = _percentiles(finals)
    columns: dict[str, Any] = {"final_lo": low, "final_hi": high}
    rank_low, rank_high = _percentiles(national)
    columns |= {"rank_lo": rank_low, "rank_hi": rank_high}
    if "province" in regions.columns:
        provincial = np.zeros_like(national)
        province = regions.get_column("province").fill_null("").to_numpy()
        for name in np.unique(province):
            members = (province == name) & took_part
            provincial[:, members] = competition_ranks(finals[:, members])
        rank_low, rank_high = _percentiles(provincial)
        columns |= {"rank_province_lo": rank_low, "rank_province_hi": rank_high}
    columns["p_top10"] = np.mean((national >= 1) & (national <= TOP), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        for source, values in partial.items():
            columns[f"share_{source}"] = np.where(variance > 0, values / variance, np.nan)
    table = regions.select(
        "region",
        "group",
        *(["province"] if "province" in regions.columns else []),
        "final",
        "rank_national",
        *(["rank_province"] if "province" in regions.columns else []),
        "participant",
    ).with_columns(pl.Series(name, values) for name, values in columns.items())
    integer = [c for c in table.columns if c.startswith("rank_")]
    table = table.with_columns(
        pl.when(pl.col("participant")).then(pl.col(c).cast(pl.Int64)).alias(c) for c in integer
    ).with_columns(pl.col(c).fill_nan(None) for c in table.columns if c.startswith("share_"))
    order = ["region", "group", "final", "final_lo", "final_hi", "rank_national", "rank_lo", "rank_hi"]
    if "province" in regions.columns:
        order += ["province", "rank_province", "rank_province_lo", "rank_province_hi"]
    order += ["p_top10", *(f"share_{s}" for s in partial), "participant"]
    return table.select(order)


def _percentiles(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """5th and 95th percentiles over the draws, as the inverse of the empirical distribution."""
    bounds = np.quantile(values, [0.05, 0.95], axis=0, method="inverted_cdf")
    return bounds[0], bounds[1]
