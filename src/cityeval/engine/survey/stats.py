"""Statement statistics with bootstrap intervals, and Cronbach's alpha with Feldt's interval.

**Statement means.** For each group (``by``) and statement: the number of answers ``n``, the
mean on the 0–4 scale, the answer distribution ``count_0 … count_4`` and a bootstrap
percentile interval (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13). The
respondents are a purposive, non-probability sample (docs/domain.md §5), so the interval describes
resampling variability of *these* respondents' answers, not a design-based margin of error;
every row says so in ``method``.

The bootstrap works on answer **counts**, not rows. Resampling ``n`` answers with replacement
from a group whose answers have shares ``p_0 … p_4`` gives counts ~ Multinomial(n, p), and the
resampled mean is ``S / n`` with ``S = Σ k·X_k``. Two ways to get the percentiles of ``S / n``:

- ``n_boot=None`` (default): **exactly**, the "ideal bootstrap" that ``n_boot → ∞``
  approaches (Efron & Tibshirani 1993, §6.2). ``S`` is the sum of ``n`` independent draws from
  ``p``, so its distribution is the ``n``-fold convolution of ``p``, computed for all groups
  at once with one batched FFT: ``pmf_S = IFFT(FFT(p)^n)``. No Monte Carlo error, no seed, and
  fast: 30,000 groups of 50 answers take well under a second.
- ``n_boot=B``: **Monte Carlo**, ``B`` multinomial draws per group from one batched
  ``numpy.random.Generator.multinomial`` call (reproducible with ``seed``). Exact in law for
  the mean of an iid resample, but it costs ``B × groups`` draws — about 30 s for the national
  run with B = 2000 on the benchmark machine, against well under 1 s for the exact method.

Both take the percentiles as the inverse of the distribution function (the smallest value
whose cumulative share reaches ``(1 − confidence)/2`` and ``(1 + confidence)/2``).

**Weights.** With ``weights`` (e.g. from :func:`rake`), the mean is the weighted mean
``Σ w·x / Σ w`` and ``p`` is the weighted answer share. The interval resamples
``n_effective`` answers from that weighted distribution, where ``n_effective = (Σ w)² / Σ w²``
is Kish's effective sample size (Kish 1965, *Survey Sampling*, §11.7) rounded to the nearest
whole answer: unequal weights widen the interval as a smaller sample would. It is an
approximation that ignores the uncertainty of the weights themselves. ``count_*`` stay
unweighted.

**Cronbach's alpha** (Cronbach 1951) of ``k`` items on the ``n`` complete cases:
``α = k / (k − 1) · (1 − Σ s²_i / s²_total)``, with sample variances of the items and of their
sum. Feldt's interval (Feldt, Woodruff & Salih 1987, *Applied Psychological Measurement* 11,
93–103, formulas 6–7): ``(1 − α)/(1 − α̂)`` follows ``F(n − 1, (n − 1)(k − 1))``, so the
bounds are ``1 − (1 − α̂)·F_{1−γ/2}`` and ``1 − (1 − α̂)·F_{γ/2}`` with ``γ = 1 − confidence``.

Nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from cityeval.engine.distributions import f_distribution
from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.survey.forms import ANSWERS, FormSpec, question_name, statement_code

__all__ = [
    "BOOTSTRAP_METHOD",
    "cronbach_alpha",
    "feldt_interval",
    "form_alphas",
    "pooled_counts",
    "pooled_means",
    "statement_stats",
]

BOOTSTRAP_METHOD = "bootstrap percentile, non-probability sample"
_K = len(ANSWERS)
_VALUES = np.asarray(ANSWERS, dtype=np.float64)
_EPS = 1e-9  # tolerance on cumulative shares, which the FFT computes to about 1e-13
_MC_CHUNK = 20_000_000  # multinomial counts held in memory at once (8 bytes each)


def statement_stats(
    responses: pl.DataFrame,
    *,
    statements: Sequence[str] | None = None,
    by: Sequence[str] = ("form",),
    confidence: float = 0.95,
    n_boot: int | None = None,
    seed: int = 0,
    weights: str | None = None,
    exclude_rejected: bool = True,
) -> pl.DataFrame:
    """Per group and statement: n, mean, bootstrap percentile interval and the 0–4 distribution.

    ``responses``: valid responses (e.g. :attr:`QualityReport.valid`), one ``s_*`` column per
    statement (Int, 0–4 or null). ``statements``: statement codes (``"service.1"``) or
    question names; by default every ``s_*`` column. ``by``: grouping columns (``()`` for one
    group). ``n_boot``: None for the exact bootstrap distribution, or a number of Monte Carlo
    resamples drawn with ``seed``. ``weights``: a column of non-negative weights.
    ``exclude_rejected``: leave out rows whose ``review_state`` is "rejected" (a reviewer
    rejected them in KoboToolbox or ODK Central), so that even a table passed straight from
    :func:`read_responses` does not count them.

    Output, sorted by ``*by, statement``: ``*by, statement`` (the statement code), ``n``
    (answers), ``n_effective`` (Kish; = n without weights), ``mean``, ``ci_low``, ``ci_high``,
    ``method``, ``count_0 … count_4``. Groups without answers to a statement have no row.

    Example: answers 4, 4, 3, 2 → n 4, mean 3.25, counts 0, 0, 1, 1, 2.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if n_boot is not None and n_boot < 1:
        raise ValueError(f"n_boot must be at least 1 (or None for the exact bootstrap), not {n_boot}")
    by = list(by)
    questions = _questions(responses, statements)
    for column in [*by, *([weights] if weights else [])]:
        if column not in responses.columns:
            raise InputError(f"the responses have no column {column!r}", column=column)
    table = responses
    if exclude_rejected and "review_state" in table.columns:
        table = table.filter((pl.col("review_state") != "rejected").fill_null(True))
    if weights:
        table = _checked_weights(table, weights)
    counts = _counts(table, questions, by, weights)
    if counts.height == 0:
        return _empty_output(responses, by)
    shares = counts.select([f"w_{k}" for k in ANSWERS]).to_numpy()
    totals = shares.sum(axis=1, keepdims=True)
    p = np.divide(shares, totals, out=np.zeros_like(shares), where=totals > 0)
    if weights:
        w_sum, w_sq = counts.get_column("w_sum").to_numpy(), counts.get_column("w_sq").to_numpy()
        n_eff = np.divide(w_sum**2, w_sq, out=np.zeros_like(w_sum, dtype=np.float64), where=w_sq > 0)
    else:
        n_eff = counts.get_column("n").to_numpy().astype(np.float64)
    draws = np.maximum(np.rint(n_eff), 1).astype(np.int64)
    lower_q, upper_q = (1 - confidence) / 2, (1 + confidence) / 2
    # A group whose weights are all zero has no estimate (not a mean of 0); give the interval
    # code a harmless distribution for it and blank the results below.
    empty = totals[:, 0] <= 0
    q = np.where(empty[:, None], 1.0 / len(ANSWERS), p)
    if n_boot is None:
        low, high = _exact_interval(q, draws, lower_q, upper_q)
    else:
        low, high = _monte_carlo_interval(q, draws, lower_q, upper_q, n_boot=n_boot, seed=seed)
    mean = np.where(empty, np.nan, p @ _VALUES)
    low, high = np.where(empty, np.nan, low), np.where(empty, np.nan, high)
    return counts.select(
        *by,
        pl.col("statement").replace_strict({q: statement_code(q) for q in questions}, return_dtype=pl.String),
        pl.col("n"),
        pl.Series("n_effective", n_eff),
        pl.Series("mean", mean).fill_nan(None),
        pl.Series("ci_low", low).fill_nan(None),
        pl.Series("ci_high", high).fill_nan(None),
        pl.lit(BOOTSTRAP_METHOD).alias("method"),
        *[pl.col(f"count_{k}") for k in ANSWERS],
    )


def pooled_counts(
    responses: pl.DataFrame, *, statements: Sequence[str], by: Sequence[str] = ()
) -> pl.DataFrame:
    """The answer counts of each statement over every response of a group (``by``; ``()`` for
    one group), whichever form asked it, rejected reviews left out: what :func:`pooled_means`
    averages and what the uncertainty analysis's survey source resamples
    (:func:`cityeval.engine.uncertainty_inputs.survey_counts`, wide form).
    ``statements``: statement codes; one without a column, or without answers, has no row.

    Output, sorted by ``*by`` then the statements' order: ``*by, statement`` (the statement
    code), ``n``, ``count_0 … count_4``.

    Example: answers 4, 4, 3 in one form and 2 in another → n 4, counts 0, 0, 1, 1, 2.
    """
    by = list(by)
    for column in by:
        if column not in responses.columns:
            raise InputError(f"the responses have no column {column!r}", column=column)
    schema: dict[str, pl.DataType] = {c: responses.schema[c] for c in by}
    schema |= {"statement": pl.String(), "n": pl.Int64()} | {f"count_{k}": pl.Int64() for k in ANSWERS}
    present = [s for s in statements if responses.schema.get(question_name(s), pl.Null) != pl.Null]
    if not present:
        return pl.DataFrame(schema=schema)
    table = responses
    if "review_state" in table.columns:
        table = table.filter((pl.col("review_state") != "rejected").fill_null(True))
    counts = _counts(table, [question_name(s) for s in present], by, None)
    return counts.filter(pl.col("n") > 0).select(
        *by,
        pl.col("statement").replace_strict({question_name(s): s for s in present}, return_dtype=pl.String),
        "n",
        *[f"count_{k}" for k in ANSWERS],
    )


def pooled_means(responses: pl.DataFrame, *, statements: Sequence[str]) -> dict[str, float]:
    """The unweighted mean answer (0–4) of each statement over every response, whichever form
    asked it: the survey's proposed level shown to assessors. ``statements``: statement codes.

    The same mean as :func:`statement_stats` with ``by=()`` (the count-weighted mean of the
    answers of :func:`pooled_counts`, rejected reviews left out), without its interval. A
    statement with no column, or no answer, has no entry.

    Example: answers 4, 4, 3 in one form and 2 in another → 13/4 = 3.25.
    """
    means = {}
    for row in pooled_counts(responses, statements=statements).iter_rows(named=True):
        total = sum(k * row[f"count_{k}"] for k in ANSWERS)
        means[row["statement"]] = total / row["n"]
    return means


def _questions(responses: pl.DataFrame, statements: Sequence[str] | None) -> list[str]:
    if statements is None:
        found = [c for c in responses.columns if c.startswith("s_") and responses.schema[c].is_integer()]
        if not found:
            raise InputError("the responses have no statement columns (s_…)")
        return found
    questions = [s if s.startswith("s_") else question_name(s) for s in statements]
    for question in questions:
        if question not in responses.columns:
            raise InputError(f"the responses have no column {question!r}", column=question)
        if not responses.schema[question].is_integer():
            raise InputError(f"column {question!r} must hold whole answers 0–4", column=question)
    return questions


def _checked_weights(table: pl.DataFrame, weights: str) -> pl.DataFrame:
    table = table.with_columns(pl.col(weights).cast(pl.Float64))
    bad = table.with_row_index("__row__", offset=2).filter(
        pl.col(weights).is_null() | pl.col(weights).is_nan() | (pl.col(weights) < 0)
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise InputError(
            f"weight {row[weights]!r} is not a non-negative number", row=row["__row__"], column=weights
        )
    return table


def _counts(table: pl.DataFrame, questions: list[str], by: list[str], weights: str | None) -> pl.DataFrame:
    """One row per (group, statement): n, count_k, weighted shares w_k (= count_k unweighted)."""
    keys = by or ["__all__"]
    lazy = table.lazy() if by else table.lazy().with_columns(pl.lit(0).alias("__all__"))
    w = pl.col(weights) if weights else pl.lit(1.0)
    frames = []
    for question in questions:
        answer = pl.col(question)
        for_out_of_range = (answer < ANSWERS[0]) | (answer > ANSWERS[-1])
        frames.append(
            lazy.filter(answer.is_not_null())
            .group_by(keys)
            .agg(
                pl.lit(question).alias("statement"),
                pl.len().cast(pl.Int64).alias("n"),
                *[(answer == k).sum().cast(pl.Int64).alias(f"count_{k}") for k in ANSWERS],
                *[w.filter(answer == k).sum().cast(pl.Float64).alias(f"w_{k}") for k in ANSWERS],
                w.sum().cast(pl.Float64).alias("w_sum"),
                (w * w).sum().cast(pl.Float64).alias("w_sq"),
                for_out_of_range.any().alias("__bad__"),
            )
        )
    counts = pl.concat(pl.collect_all(frames))
    bad = counts.filter(pl.col("__bad__"))
    if bad.height:
        column = bad.get_column("statement")[0]
        raise InputError(f"column {column!r} holds an answer outside 0–4", column=column)
    order = [pl.col("statement").replace_strict(questions, list(range(len(questions))))]
    return counts.sort([*by, *order]) if by else counts.sort(order)


def _empty_output(responses: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {c: responses.schema[c] for c in by}
    schema |= {"statement": pl.String(), "n": pl.Int64(), "n_effective": pl.Float64(), "mean": pl.Float64()}
    schema |= {"ci_low": pl.Float64(), "ci_high": pl.Float64(), "method": pl.String()}
    schema |= {f"count_{k}": pl.Int64() for k in ANSWERS}
    return pl.DataFrame(schema=schema)


def _exact_interval(
    p: np.ndarray, draws: np.ndarray, lower_q: float, upper_q: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of S/m, S the sum of m iid draws from p over 0–4, by FFT convolution.

    Groups are batched by FFT length (the next power of two above the support 0…4m).
    """
    low = np.empty(len(p))
    high = np.empty(len(p))
    lengths = 1 << np.ceil(np.log2((_K - 1) * draws + 1)).astype(np.int64)
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        spectrum = np.fft.rfft(p[rows], n=int(length), axis=1) ** draws[rows, None]
        pmf = np.clip(np.fft.irfft(spectrum, n=int(length), axis=1), 0.0, None)
        cdf = np.cumsum(pmf, axis=1)
        cdf /= cdf[:, -1:]
        low[rows] = np.argmax(cdf >= lower_q - _EPS, axis=1) / draws[rows]
        high[rows] = np.argmax(cdf >= upper_q - _EPS, axis=1) / draws[rows]
    return low, high


def _monte_carlo_interval(
    p: np.ndarray, draws: np.ndarray, lower_q: float, upper_q: float, *, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of ``n_boot`` multinomial resamples per group (one batched draw per chunk)."""
    rng = np.random.default_rng(seed)
    low = np.empty(len(p))
    high = np.empty(len(p))
    chunk = max(1, _MC_CHUNK // (n_boot * _K))
    for start in range(0, len(p), chunk):
        part = slice(start, start + chunk)
        counts = rng.multinomial(draws[part], p[part], size=(n_boot, len(p[part])))
        means = (counts @ _VALUES) / draws[part]
        bounds = np.quantile(means, [lower_q, upper_q], axis=0, method="inverted_cdf")
        low[part], high[part] = bounds[0], bounds[1]
    return low, high


def feldt_interval(alpha: float, *, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt, Woodruff & Salih (1987) interval of Cronbach's alpha from ``n`` cases, ``k`` items.

    ``(1 − α̂·F_{1−γ/2}, …)`` with ``F`` quantiles of ``F(n − 1, (n − 1)(k − 1))``; see the
    module docstring. Example (C. Evans, MRC CBU statistics wiki): α̂ = 0.913, n = 873, k = 20
    → 0.9044024 to 0.9211588.
    """
    if n < 2 or k < 2:
        return float("nan"), float("nan")
    df1, df2 = n - 1, (n - 1) * (k - 1)
    gamma = 1 - confidence
    lower = 1 - (1 - alpha) * f_distribution().ppf(1 - gamma / 2, df1, df2)
    upper = 1 - (1 - alpha) * f_distribution().ppf(gamma / 2, df1, df2)
    return float(lower), float(upper)


def cronbach_alpha(
    responses: pl.DataFrame,
    *,
    items: Sequence[str],
    by: Sequence[str] = (),
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Cronbach's alpha of ``items`` per group, with Feldt's (1987) F-based interval.

    ``items``: statement codes or question names (at least 2). Rows with any item missing are
    left out (complete cases). Output: ``*by, alpha, n, k, ci_low, ci_high``; alpha is null
    when fewer than 2 complete cases remain or the sum of items does not vary.

    Example (by hand): items a = (1, 2, 3, 4), b = (2, 3, 3, 4), c = (3, 3, 4, 5) → item
    variances 5/3, 2/3, 11/12 (sum 13/4); totals 6, 8, 10, 13 with variance 107/12;
    α = 3/2 · (1 − (13/4)/(107/12)) = 3/2 · (1 − 39/107) = 102/107 ≈ 0.9533.
    """
    if len(items) < 2:
        raise ValueError("Cronbach's alpha needs at least 2 items")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    by = list(by)
    questions = [s if s in responses.columns or s.startswith("s_") else question_name(s) for s in items]
    for column in [*questions, *by]:
        if column not in responses.columns:
            raise InputError(f"the responses have no column {column!r}", column=column)
    k = len(questions)
    complete = responses.drop_nulls(questions).with_columns(
        pl.col(questions).cast(pl.Float64), pl.sum_horizontal(questions).cast(pl.Float64).alias("__total__")
    )
    keys = by or ["__all__"]
    if not by:
        complete = complete.with_columns(pl.lit(0).alias("__all__"))
    grouped = complete.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("n"),
        pl.sum_horizontal([pl.col(q).var() for q in questions]).alias("__item_var__"),
        pl.col("__total__").var().alias("__total_var__"),
    )
    if not by and grouped.height == 0:
        grouped = pl.DataFrame({"__all__": [0], "n": [0], "__item_var__": [None], "__total_var__": [None]})
    grouped = grouped.with_columns(
        pl.when((pl.col("n") >= 2) & (pl.col("__total_var__") > 0))
        .then(k / (k - 1) * (1 - pl.col("__item_var__") / pl.col("__total_var__")))
        .cast(pl.Float64)
        .alias("alpha"),
        pl.lit(k, dtype=pl.Int64).alias("k"),
    )
    alphas = grouped.get_column("alpha").to_numpy()
    ns = grouped.get_column("n").to_numpy()
    df1 = np.maximum(ns - 1, 1).astype(np.float64)
    gamma = 1 - confidence
    f_high = f_distribution().ppf(1 - gamma / 2, df1, df1 * (k - 1))
    f_low = f_distribution().ppf(gamma / 2, df1, df1 * (k - 1))
    grouped = grouped.with_columns(
        pl.Series("ci_low", 1 - (1 - alphas) * f_high, nan_to_null=True),
        pl.Series("ci_high", 1 - (1 - alphas) * f_low, nan_to_null=True),
    )
    out = grouped.select(*by, "alpha", "n", "k", "ci_low", "ci_high")
    return out.sort(by) if by else out


_ALPHA_SCHEMA = {
    "form": pl.String,
    "subdimension": pl.String,
    "alpha": pl.Float64,
    "n": pl.Int64,
    "k": pl.Int64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}


def form_alphas(
    responses: pl.DataFrame, *, forms: Sequence[FormSpec], framework: Framework, confidence: float = 0.95
) -> pl.DataFrame:
    """Cronbach's alpha (:func:`cronbach_alpha`) per form and sub-dimension: the statements of
    each sub-dimension of the form's dimension that the form asks, on the form's responses
    (the ``form`` column holds the form code).

    A sub-dimension with fewer than 2 of its statements in the form, or a form with fewer than
    2 responses, has no row. Output: ``form, subdimension, alpha, n, k, ci_low, ci_high``.
    """
    frames = []
    for form in forms:
        asked = set(form.statements)
        subdimensions = next(d for d in framework.dimensions if d.code == form.dimension).subdimensions
        part = responses.filter(pl.col("form") == form.code)
        for sub in subdimensions:
            items = [question_name(s.code) for s in sub.statements if s.code in asked]
            if len(items) < 2 or part.height < 2:
                continue
            alpha = cronbach_alpha(part.select(items), items=items, confidence=confidence)
            frames.append(alpha.with_columns(form=pl.lit(form.code), subdimension=pl.lit(sub.code)))
    if not frames:
        return pl.DataFrame(schema=_ALPHA_SCHEMA)
    return pl.concat(frames, how="diagonal_relaxed").select(*_ALPHA_SCHEMA)
