"""Raking (iterative proportional fitting) of respondents to known population margins.

Raking (Deming & Stephan 1940; Kalton & Flores-Cervantes 2003, "Weighting methods", *Journal
of Official Statistics* 19(2), §2.3) adjusts weights one variable at a time so that the
weighted share of each category matches its population share, and repeats until all margins
hold at once. Purposive samples (DOMAIN.md §5) may over-represent, say, young men who use an
app; weighting to BPS age × sex margins shows how much the means move.

The fitting is done by **weightipy** (MIT; maintained, releases in 2026; a modernised
descendant of quantipy's RIM weighting used in market research). Chosen over *samplics* (MIT,
but its 0.6 release declares itself "Development Status :: 7 - Inactive" and publishes no
licence metadata; it would also bring statsmodels and pyarrow) and *ipfn* (MIT, small, but
last released in 2021). weightipy brings pandas, scipy and a few small packages (requests,
watchdog, decorator), all under permissive licences compatible with Apache-2.0.

cityeval validates the input itself (errors name the row and the column), runs weightipy until
its change between iterations stops shrinking or ``max_iter`` is reached, then checks that
every weighted margin is within ``tol`` of its target and raises otherwise — convergence is
checked on the result, not trusted.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping

import polars as pl

from cityeval.engine.errors import CityevalError, InputError

__all__ = ["RakingError", "rake", "weighted_margins"]


class RakingError(CityevalError):
    """Raking did not reach the margins within ``max_iter`` iterations and ``tol``."""


def rake(
    responses: pl.DataFrame,
    *,
    margins: Mapping[str, Mapping[str, float]],
    max_iter: int = 100,
    tol: float = 1e-8,
) -> pl.Series:
    """Weights (a Float64 Series named ``weight``, mean 1) whose weighted margins match ``margins``.

    ``margins`` maps a column to its categories' population shares or counts (each variable is
    normalised to sum to 1), e.g. ``{"sex": {"f": 50.3, "m": 49.7}, "age_band": {...}}``.
    Category values are compared as text. Every respondent needs a value with a positive
    share in every margin column; every category with a positive share needs at least one
    respondent. ``tol`` bounds the largest gap between a weighted share and its target.

    Example: sexes f, m, m, m raked to ``{"f": 1, "m": 1}`` → weights 2, 2/3, 2/3, 2/3.
    """
    if not margins:
        raise ValueError("margins must name at least one column")
    if max_iter < 1 or tol <= 0:
        raise ValueError("max_iter must be at least 1 and tol positive")
    if responses.height == 0:
        raise InputError("there are no responses to weight")
    table = _categories(responses, margins)
    targets = _normalised(margins)
    _check_coverage(table, targets)
    weights = _fit(table, targets, max_iter=max_iter)
    gap_column, gap_category, gap = _largest_gap(table, weights, targets)
    if gap > tol:
        raise RakingError(
            f"raking did not converge in {max_iter} iterations: the weighted share of "
            f"{gap_column} = {gap_category!r} is {gap:.2e} away from its target (tolerance {tol:g})"
        )
    return (weights / weights.mean()).alias("weight")


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
            raise InputError(f"the responses have no column {column!r} to weight by", column=column)
    table = responses.select(pl.col(list(margins)).cast(pl.String)).with_row_index("__row__", offset=2)
    for column in margins:
        missing = table.filter(pl.col(column).is_null())
        if missing.height:
            raise InputError(
                "the value is empty; raking needs every respondent's category (drop or impute it first)",
                row=int(missing.get_column("__row__")[0]),
                column=column,
            )
    return table


def _normalised(margins: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    targets: dict[str, dict[str, float]] = {}
    for column, shares in margins.items():
        values = {str(k): float(v) for k, v in shares.items()}
        if any(not v >= 0 for v in values.values()):
            raise ValueError(f"margins[{column!r}]: shares must be non-negative numbers")
        total = sum(values.values())
        if total <= 0:
            raise ValueError(f"margins[{column!r}]: shares must not all be zero")
        targets[column] = {k: v / total for k, v in values.items()}
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
            )
        present = set(table.get_column(column).unique().to_list())
        empty = [k for k in positive if k not in present]
        if empty:
            raise InputError(
                f"no respondent has {column} = {empty[0]!r}, so its share of {shares[empty[0]]:.4g} "
                "cannot be reached; merge it with a neighbouring category",
                column=column,
            )


def _fit(table: pl.DataFrame, targets: dict[str, dict[str, float]], *, max_iter: int) -> pl.Series:
    import pandas as pd  # type: ignore[import-untyped]  # weightipy works on pandas
    import weightipy  # type: ignore[import-untyped]

    frame = pd.DataFrame({c: table.get_column(c).to_list() for c in targets})
    scheme = weightipy.scheme_from_dict(
        {c: {k: v * 100 for k, v in shares.items() if v > 0} for c, shares in targets.items()},
        name="cityeval",
        rim_params={"max_iterations": max_iter, "convcrit": 0.0},
    )
    # weightipy prints convergence notes; the result is checked against the margins instead.
    with contextlib.redirect_stdout(io.StringIO()):
        result = weightipy.weight(frame, scheme)
    return pl.Series("weight", result.to_numpy(dtype="float64"))


def _largest_gap(
    table: pl.DataFrame, weights: pl.Series, targets: dict[str, dict[str, float]]
) -> tuple[str, str, float]:
    worst = ("", "", 0.0)
    total = float(weights.sum())
    for column, shares in targets.items():
        sums = (
            table.select(pl.col(column), weights.alias("__w__"))
            .group_by(column)
            .agg(pl.col("__w__").sum())
            .iter_rows()
        )
        achieved = {str(k): float(w) / total for k, w in sums}
        for category, share in shares.items():
            gap = abs(achieved.get(category, 0.0) - share)
            if gap > worst[2]:
                worst = (column, category, gap)
    return worst
