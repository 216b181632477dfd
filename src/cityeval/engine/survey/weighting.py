"""Raking (iterative proportional fitting) of respondents to known population margins.

Raking (Deming & Stephan 1940; Kalton & Flores-Cervantes 2003, "Weighting methods", *Journal
of Official Statistics* 19(2), §2.3) adjusts weights one variable at a time so that the
weighted share of each category matches its population share, and repeats until all margins
hold at once. Purposive samples (docs/domain.md §5) may over-represent, say, young men who use an
app; weighting to BPS age × sex margins shows how much the means move.

The loop is cityeval's own, a few lines of numpy: each sweep scales the weights to every
margin in turn, and the sweeps stop when the largest *relative* gap between a weighted
category total and its target is below ``tol``. (An earlier version delegated to weightipy
0.4.2, whose ``Rim`` builds its ``Rake`` without the convergence criterion it is given, so it
stopped after a handful of sweeps and problems that plain IPF solves were refused.)

When IPF converges the result is the unique set of weights ``w_i = Π_v f_v(category of i)``
(one factor per category of each margin) that meets every margin; it exists exactly when the
margins can be met with positive weight on the sample's own category combinations (Bishop,
Fienberg & Holland 1975, *Discrete Multivariate Analysis*, §3.5). Before iterating,
:func:`rake` refuses the problems that have no solution and says why: margins given as counts
with different totals, a category with a target but no respondent, and two margins that
cannot both be met because some combination of their categories has no respondent ("every
respondent with sex = 'f' is aged 15-24 or 25-34, which hold 46 % of the population, but sex
= 'f' must hold 50 %"). Problems that still fail after ``max_iter`` sweeps name every margin
that is still off.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import polars as pl

from cityeval.engine.errors import CityevalError, InputError

__all__ = ["RakingError", "rake", "weighted_margins"]

# Margins given as counts whose totals differ by more than this share are taken to describe
# different populations; smaller differences are rounding (percentages summing to 99.9).
TOTALS_TOLERANCE = 0.01
# Pairs of margins are checked for conflicts by enumerating category subsets of the smaller one
# (2^k subsets); beyond this many categories the check is left to the iterations' own report.
_MAX_SUBSET_CATEGORIES = 12
# Shares (normalised to sum 1) this close are equal: a subset needing within this of what its
# linked categories hold leaves the respondents outside it weights IPF cannot reach in practice.
_TIGHT = 1e-9


class RakingError(CityevalError):
    """The margins cannot be met on these respondents (the message says which conflict), or
    raking did not reach them within ``max_iter`` sweeps and ``tol``.

    Like :class:`~cityeval.engine.errors.InputError`, ``code`` and ``params`` say the same as
    the English message (``reason``) in a form the web translates.
    """

    def __init__(self, message: str, *, code: str, params: Mapping[str, object] | None = None) -> None:
        self.reason = message
        self.code = code
        self.params = dict(params or {})
        super().__init__(message)


def rake(
    responses: pl.DataFrame,
    *,
    margins: Mapping[str, Mapping[str, float]],
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> pl.Series:
    """Weights (a Float64 Series named ``weight``, mean 1) whose weighted margins match ``margins``.

    ``margins`` maps a column to its categories' population shares or counts, e.g.
    ``{"sex": {"f": 50.3, "m": 49.7}, "age_band": {...}}``; each variable is normalised to sum
    to 1, after checking that the variables' totals agree within :data:`TOTALS_TOLERANCE`.
    Category values are compared as text. Every respondent needs a value with a positive
    share in every margin column; every category with a positive share needs at least one
    respondent. ``tol`` bounds the largest relative gap ``|weighted total − target| / target``
    over every category; ``max_iter`` bounds the sweeps (one sweep scales to every margin).

    Raises :class:`RakingError` when no weights can meet the margins (naming the conflict) or
    when they are not met within ``max_iter`` sweeps (naming every margin still off).

    Example: sexes f, m, m, m raked to ``{"f": 1, "m": 1}`` → weights 2, 2/3, 2/3, 2/3.
    """
    if not margins:
        raise ValueError("margins must name at least one column")
    if max_iter < 1 or tol <= 0:
        raise ValueError("max_iter must be at least 1 and tol positive")
    if responses.height == 0:
        raise InputError("there are no responses to weight", code="no_responses_to_weight")
    table = _categories(responses, margins)
    targets = _normalised(margins)
    _check_coverage(table, targets)
    _check_pairs(table, targets)
    codes, shares = _encoded(table, targets)
    weights, gaps = _ipf(codes, shares, max_iter=max_iter, tol=tol)
    if max(gaps.values()) > tol:
        raise _still_off(table, weights, targets, gaps, max_iter=max_iter, tol=tol)
    return pl.Series("weight", weights / weights.mean(), dtype=pl.Float64)


def weighted_margins(responses: pl.DataFrame, *, weights: pl.Series, columns: list[str]) -> pl.DataFrame:
    """Unweighted and weighted shares of each category of ``columns``, side by side.

    Output: ``column, category, n, share, weighted_share``.
    """
    table = responses.select(pl.col(columns).cast(pl.String)).with_columns(weights.alias("__w__"))
    frames = []
    for column in columns:
        frames.append(
            table.group_by(pl.col(column).alias("category"))
            .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("__w__").sum().alias("__ws__"))
            .with_columns(
                pl.lit(column).alias("column"),
                (pl.col("n") / pl.col("n").sum()).alias("share"),
                (pl.col("__ws__") / pl.col("__ws__").sum()).alias("weighted_share"),
            )
            .select("column", "category", "n", "share", "weighted_share")
            .sort("category", nulls_last=True)
        )
    return pl.concat(frames)


def _categories(responses: pl.DataFrame, margins: Mapping[str, Mapping[str, float]]) -> pl.DataFrame:
    for column in margins:
        if column not in responses.columns:
            raise InputError(
                f"the responses have no column {column!r} to weight by",
                column=column,
                code="no_weighting_column",
                params={"column": column},
            )
    table = responses.select(pl.col(list(margins)).cast(pl.String)).with_row_index("__row__", offset=2)
    for column in margins:
        missing = table.filter(pl.col(column).is_null())
        if missing.height:
            raise InputError(
                "the value is empty; raking needs every respondent's category (drop or impute it first)",
                row=int(missing.get_column("__row__")[0]),
                column=column,
                code="empty_category",
            )
    return table


def _normalised(margins: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    targets: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    for column, shares in margins.items():
        values = {str(k): float(v) for k, v in shares.items()}
        if any(not v >= 0 for v in values.values()):
            raise ValueError(f"margins[{column!r}]: shares must be non-negative numbers")
        totals[column] = sum(values.values())
        if totals[column] <= 0:
            raise ValueError(f"margins[{column!r}]: shares must not all be zero")
        targets[column] = {k: v / totals[column] for k, v in values.items()}
    low, high = min(totals, key=totals.__getitem__), max(totals, key=totals.__getitem__)
    if totals[high] - totals[low] > TOTALS_TOLERANCE * totals[high]:
        raise RakingError(
            f"the margins of {low} and {high} have different totals ({totals[low]:g} and "
            f"{totals[high]:g}), so no weights can meet both; give every margin as shares of the "
            "same population",
            code="margin_totals_differ",
            params={
                "low": low,
                "high": high,
                "low_total": f"{totals[low]:g}",
                "high_total": f"{totals[high]:g}",
            },
        )
    return targets


def _check_coverage(table: pl.DataFrame, targets: dict[str, dict[str, float]]) -> None:
    for column, shares in targets.items():
        positive = [k for k, v in shares.items() if v > 0]
        stray = table.filter(~pl.col(column).is_in(positive))
        if stray.height:
            value, row = stray.get_column(column)[0], int(stray.get_column("__row__")[0])
            raise InputError(
                f"category {value!r} has no positive share in the margins of {column!r}",
                row=row,
                column=column,
                code="category_without_share",
                params={"value": value, "column": column},
            )
        present = set(table.get_column(column).unique().to_list())
        empty = [k for k in positive if k not in present]
        if empty:
            target = _percent(shares[empty[0]])
            raise RakingError(
                f"no respondent has {column} = {empty[0]!r}, but its target is {target}; "
                "merge it with a neighbouring category",
                code="category_without_respondent",
                params={"column": column, "category": empty[0], "target": target},
            )


def _check_pairs(table: pl.DataFrame, targets: dict[str, dict[str, float]]) -> None:
    """Refuse two margins that no weights can meet together on this sample.

    Weights can meet the margins of A and B exactly when every set S of A's categories holds
    no more of the population than the categories of B its respondents fall in (Hall's
    condition for the transport of A's shares to B's along the sample's A × B cells).

    Raking's weights are positive, so equality is not enough: when S needs all of what its B
    categories hold, every respondent outside S who falls in one of them must get weight 0,
    which IPF only approaches and never meets (it ended in "did not converge … weighted 50 %,
    target 50 %"). So a tight S is refused too when such respondents exist.
    """
    for a, b in combinations(targets, 2):
        if len(targets[a]) > len(targets[b]):
            a, b = b, a
        cats = [k for k, v in targets[a].items() if v > 0]
        if len(cats) > _MAX_SUBSET_CATEGORIES:
            continue
        pairs = table.select(a, b).unique()
        reach = {k: set(pairs.filter(pl.col(a) == k).get_column(b).to_list()) for k in cats}
        for size in range(1, len(cats)):
            for subset in combinations(cats, size):
                linked = set().union(*(reach[k] for k in subset))
                need = sum(targets[a][k] for k in subset)
                have = sum(targets[b].get(k, 0.0) for k in linked)
                if need > have + _TIGHT:
                    raise _conflict(a, subset, b, linked, targets, need, have)
                if need > have - _TIGHT:
                    outside = [(k, c) for k in cats if k not in subset for c in sorted(reach[k] & linked)]
                    if outside:
                        raise _tight(a, subset, b, linked, have, outside)


def _conflict(
    a: str,
    subset: tuple[str, ...],
    b: str,
    linked: set[str],
    targets: dict[str, dict[str, float]],
    need: float,
    have: float,
) -> RakingError:
    missing = sorted(k for k, v in targets[b].items() if v > 0 and k not in linked)
    who = f"{a} = {subset[0]!r}" if len(subset) == 1 else f"{a} in {', '.join(map(repr, subset))}"
    cells = ", ".join(f"{b} {k!r} × {a} {c!r}" for c in subset for k in missing[:4])
    more = " …" if len(missing) > 4 else ""
    linked_text = ", ".join(map(repr, sorted(linked)))
    return RakingError(
        f"the margins of {a} and {b} conflict on these respondents: no respondent is in {cells}{more}, "
        f"so every respondent with {who} has {b} in {linked_text}, which hold "
        f"{_percent(have)} of the population, but {who} must hold {_percent(need)}; "
        "merge categories or collect the missing respondents",
        code="margins_conflict",
        params={
            "column": a,
            "categories": ", ".join(map(repr, subset)),
            "other": b,
            "cells": cells + more,
            "linked": linked_text,
            "have": _percent(have),
            "need": _percent(need),
        },
    )


def _tight(
    a: str, subset: tuple[str, ...], b: str, linked: set[str], have: float, outside: list[tuple[str, str]]
) -> RakingError:
    who = f"{a} = {subset[0]!r}" if len(subset) == 1 else f"{a} in {', '.join(map(repr, subset))}"
    cells = ", ".join(f"{a} {k!r} × {b} {c!r}" for k, c in outside[:4]) + (" …" if len(outside) > 4 else "")
    linked_text = ", ".join(map(repr, sorted(linked)))
    return RakingError(
        f"the margins of {a} and {b} conflict on these respondents: every respondent with {who} has "
        f"{b} in {linked_text}, which hold {_percent(have)} of the population, "
        f"exactly what {who} must hold, so the respondents in {cells} would need weight 0, which "
        "raking cannot give; merge categories or collect the missing respondents",
        code="margins_tight",
        params={
            "column": a,
            "categories": ", ".join(map(repr, subset)),
            "other": b,
            "cells": cells,
            "linked": linked_text,
            "have": _percent(have),
        },
    )


def _encoded(
    table: pl.DataFrame, targets: dict[str, dict[str, float]]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per margin, each respondent's category index and the categories' target shares."""
    codes, shares = [], []
    for column, wanted in targets.items():
        cats = [k for k, v in wanted.items() if v > 0]
        index = {k: i for i, k in enumerate(cats)}
        values = table.get_column(column).to_list()
        codes.append(np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values)))
        shares.append(np.array([wanted[k] for k in cats], dtype=np.float64))
    return codes, shares


def _ipf(
    codes: list[np.ndarray], shares: list[np.ndarray], *, max_iter: int, tol: float
) -> tuple[np.ndarray, dict[int, float]]:
    """Scale the weights to each margin in turn until every category total is within ``tol``
    (relative) of its target; returns the weights and each margin's largest relative gap."""
    n = len(codes[0])
    weights = np.ones(n, dtype=np.float64)
    gaps: dict[int, float] = {}
    for _ in range(max_iter):
        for code, share in zip(codes, shares, strict=True):
            totals = _totals(code, weights, len(share))
            weights = weights * (share * n / totals)[code]
        gaps = {
            v: float(np.max(np.abs(_totals(code, weights, len(share)) / (share * n) - 1)))
            for v, (code, share) in enumerate(zip(codes, shares, strict=True))
        }
        if max(gaps.values()) <= tol:
            break
    return weights, gaps


def _totals(code: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """The weight in each category of one margin."""
    return np.bincount(code, weights=weights, minlength=size)


def _still_off(
    table: pl.DataFrame,
    weights: np.ndarray,
    targets: dict[str, dict[str, float]],
    gaps: dict[int, float],
    *,
    max_iter: int,
    tol: float,
) -> RakingError:
    columns = list(targets)
    total = float(weights.sum())
    off, short = [], []
    for v, gap in gaps.items():
        if gap <= tol:
            continue
        column = columns[v]
        sums = (
            table.select(pl.col(column), pl.Series("__w__", weights))
            .group_by(column)
            .agg(pl.col("__w__").sum())
        )
        achieved = {str(k): w / total for k, w in sums.iter_rows()}
        category = max(
            (k for k, s in targets[column].items() if s > 0),
            key=lambda k: abs(achieved.get(k, 0.0) / targets[column][k] - 1),
        )
        weighted, target = _percent(achieved.get(category, 0.0)), _percent(targets[column][category])
        off.append(f"{column} (e.g. {category!r}: weighted {weighted}, target {target})")
        short.append(f"{column} {category!r} {weighted} / {target}")
    return RakingError(
        f"raking did not meet the margins in {max_iter} sweeps (tolerance {tol:g}); still off: "
        + "; ".join(off)
        + ". The sample may leave some categories nearly empty: merge categories or raise max_iter",
        code="raking_not_converged",
        params={"sweeps": max_iter, "tol": f"{tol:g}", "off": "; ".join(short)},
    )


def _percent(share: float) -> str:
    return f"{share * 100:.3g} %"
