"""Panel agreement: Krippendorff's alpha and the intraclass correlation (ICC).

Agreement is reported per panel and per component. Krippendorff's alpha (ordinal by default)
copes with assessors who skipped items; the ICC needs every assessor to have scored every item,
so :func:`agreement_by` reports it only for groups whose data are complete.

Both are written here from the published formulas (Krippendorff 2011; Shrout & Fleiss 1979;
McGraw & Wong 1996) because the packages that implement them are GPL. Nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import polars as pl

from cityeval.engine.distributions import f_distribution
from cityeval.engine.errors import InputError
from cityeval.engine.tables import ROW, first_row, require_columns, with_rows

__all__ = ["LEVELS", "AlphaResult", "agreement_by", "icc", "krippendorff_alpha"]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

_ICC_TYPES = (
    ("ICC1", "ICC(1,1), McGraw & Wong ICC(1): one-way random, single rater"),
    ("ICC2", "ICC(2,1), McGraw & Wong ICC(A,1): two-way random, absolute agreement, single rater"),
    ("ICC3", "ICC(3,1), McGraw & Wong ICC(C,1): two-way mixed, consistency, single rater"),
    ("ICC1k", "ICC(1,k), McGraw & Wong ICC(k): one-way random, mean of k raters"),
    ("ICC2k", "ICC(2,k), McGraw & Wong ICC(A,k): two-way random, absolute agreement, mean of k raters"),
    ("ICC3k", "ICC(3,k), McGraw & Wong ICC(C,k): two-way mixed, consistency, mean of k raters"),
)
_ICC_SCHEMA = {
    "type": pl.String,
    "description": pl.String,
    "icc": pl.Float64,
    "f": pl.Float64,
    "df1": pl.Int64,
    "df2": pl.Int64,
    "p_value": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
}


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha and the data it rests on.

    ``alpha`` is NaN when it is undefined: no unit has two values (nothing to pair), or every
    pairable value is the same (no variation, so the expected disagreement is 0 and alpha is
    0/0). ``n_units`` and ``n_values`` count pairable units (two values or more) and their
    values; ``n_coders`` counts the coders who gave at least one pairable value.
    """

    alpha: float
    level: Level
    n_units: int
    n_values: int
    n_coders: int


# --- Krippendorff's alpha --------------------------------------------------------------------


def krippendorff_alpha(
    table: pl.DataFrame,
    *,
    unit: str = "unit",
    coder: str = "coder",
    value: str = "value",
    level: Level = "ordinal",
) -> AlphaResult:
    """Krippendorff's alpha of a long table, one row per (unit, coder) value.

    A missing value is a row left out or a null (or NaN) value; units with fewer than two
    values cannot be paired and are ignored. Values are numbers; the value set is the distinct
    values observed in pairable units, so consolidated (non-whole) values are fine.

    Formula (Krippendorff 2011), from the coincidence matrix of the pairable units::

        o_ck  = Σ_u  n_uc (n_uk − [c = k]) / (m_u − 1)     n_uc: values c in unit u, m_u = Σ_c n_uc
        n_c   = Σ_k o_ck,  n = Σ_c n_c
        alpha = 1 − (n − 1) Σ_ck o_ck δ²_ck / Σ_ck n_c n_k δ²_ck

    with the difference function δ²_ck of the level: nominal ``[c ≠ k]``; ordinal
    ``(Σ_{g=c..k} n_g − (n_c + n_k)/2)²`` (ranks from the marginal frequencies n_g); interval
    ``(c − k)²``; ratio ``((c − k)/(c + k))²`` (values must not be negative). alpha is 1 for
    perfect agreement, 0 for agreement at chance level, and NaN when undefined (see
    :class:`AlphaResult`).

    References: K. Krippendorff (2011), *Computing Krippendorff's Alpha-Reliability*,
    Annenberg School for Communication, University of Pennsylvania; K. Krippendorff (2004),
    *Content Analysis: An Introduction to Its Methodology*, 2nd ed., ch. 11.

    Example (Krippendorff 2011, binary data of two observers over ten units)::

        >>> t = pl.DataFrame({"unit": list(range(10)) * 2, "coder": ["A"] * 10 + ["B"] * 10,
        ...                   "value": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0]})
        >>> krippendorff_alpha(t, level="nominal").alpha  # 1 − 19 × 4 / (14 × 6)
        0.09523809523809523
    """
    checked = _check_level(level)
    prepared = _prepare(
        table, keys=[], unit=unit, coder=coder, value=value, what="reliability data", level=checked
    )
    units = prepared.get_column("__unit__").to_numpy()
    coders = prepared.get_column("__coder__").to_numpy()
    values = prepared.get_column("__value__").to_numpy()
    alpha, n_units, n_values, n_coders = _alpha(units, coders, values, checked)
    return AlphaResult(alpha=alpha, level=checked, n_units=n_units, n_values=n_values, n_coders=n_coders)


def _alpha(
    units: np.ndarray, coders: np.ndarray, values: np.ndarray, level: Level
) -> tuple[float, int, int, int]:
    """alpha, pairable units, pairable values, coders; missing values are NaN."""
    present = ~np.isnan(values)
    units, coders, values = units[present], coders[present], values[present]
    _, unit_index, per_unit = np.unique(units, return_inverse=True, return_counts=True)
    pairable = per_unit[unit_index] >= 2
    if not pairable.any():
        return float("nan"), 0, 0, 0
    unit_index, coders, values = unit_index[pairable], coders[pairable], values[pairable]
    _, unit_index = np.unique(unit_index, return_inverse=True)
    distinct, value_index = np.unique(values, return_inverse=True)
    n_units, n_kinds = int(unit_index.max()) + 1, len(distinct)
    # counts[u, c] = n_uc, the number of values c in unit u.
    counts = np.bincount(unit_index * n_kinds + value_index, minlength=n_units * n_kinds)
    counts = counts.reshape(n_units, n_kinds).astype(np.float64)
    weights = 1.0 / (counts.sum(axis=1) - 1.0)
    coincidences = (counts * weights[:, None]).T @ counts
    coincidences -= np.diag((counts * weights[:, None]).sum(axis=0))
    marginals = coincidences.sum(axis=1)
    n = marginals.sum()
    delta = _delta2(distinct, marginals, level)
    expected = float((np.outer(marginals, marginals) * delta).sum())
    n_coders = len(np.unique(coders))
    if expected == 0.0:
        return float("nan"), n_units, len(values), n_coders
    observed = float((coincidences * delta).sum())
    return 1.0 - (float(n) - 1.0) * observed / expected, n_units, len(values), n_coders


def _delta2(distinct: np.ndarray, marginals: np.ndarray, level: Level) -> np.ndarray:
    """The squared difference δ²_ck between every two values of the (sorted) value set."""
    c, k = distinct[:, None], distinct[None, :]
    if level == "nominal":
        return (c != k).astype(np.float64)
    if level == "interval":
        return np.asarray((c - k) ** 2, dtype=np.float64)
    if level == "ratio":
        total = c + k
        # Both values 0 is the only way to get c + k = 0 (negatives are refused): no difference.
        safe = np.where(total == 0, 1.0, total)
        return np.asarray(((c - k) / safe) ** 2, dtype=np.float64)
    # Ordinal: the values between c and k, inclusive, counted by their marginal frequencies.
    cumulative = np.concatenate(([0.0], np.cumsum(marginals)))
    index = np.arange(len(distinct))
    low, high = np.minimum.outer(index, index), np.maximum.outer(index, index)
    between = cumulative[high + 1] - cumulative[low]
    return np.asarray((between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2)


# --- intraclass correlation ------------------------------------------------------------------


def icc(
    table: pl.DataFrame,
    *,
    target: str = "target",
    rater: str = "rater",
    value: str = "value",
    confidence: float = 0.95,
) -> pl.DataFrame:
    """The six intraclass correlations of Shrout & Fleiss (1979) with F tests and intervals.

    ``table`` is long, one row per (target, rater); every rater must rate every target exactly
    once (an absent row or a null/NaN value is refused, naming the target and rater), with at
    least 2 targets and 2 raters. Returns one row per type ``ICC1, ICC2, ICC3, ICC1k, ICC2k,
    ICC3k`` with ``type, description, icc, f, df1, df2, p_value, ci_low, ci_high``.

    Formula: from the two-way ANOVA of n targets × k raters, the mean squares between targets
    BMS, between raters JMS, residual EMS, and within targets WMS = (SS_raters + SS_residual) /
    (n(k − 1))::

        ICC1  = (BMS − WMS) / (BMS + (k − 1) WMS)          ICC1k = (BMS − WMS) / BMS
        ICC2  = (BMS − EMS) / (BMS + (k − 1) EMS + k (JMS − EMS) / n)
        ICC2k = (BMS − EMS) / (BMS + (JMS − EMS) / n)
        ICC3  = (BMS − EMS) / (BMS + (k − 1) EMS)          ICC3k = (BMS − EMS) / BMS

    F tests (H0: ICC = 0, one-sided): ICC1/ICC1k F = BMS/WMS on (n − 1, n(k − 1)) df; the others
    F = BMS/EMS on (n − 1, (n − 1)(k − 1)) df. Intervals are F-based: for ICC1 and ICC3 with
    F_L = F / F_{1−α/2}(df1, df2) and F_U = F × F_{1−α/2}(df2, df1), bounds (F − 1)/(F + k − 1)
    and, for the means of k raters, 1 − 1/F; ICC2 uses Satterthwaite's approximate df (Shrout &
    Fleiss eq. for case 2) and ICC2k the Spearman–Brown step-up of ICC2's bounds (McGraw &
    Wong 1996, Table 7). An ICC, F or bound is NaN where its formula divides 0 by 0 (no
    variation at all), and so are ICC2's and ICC2k's bounds when the residual is 0.

    References: P. E. Shrout & J. L. Fleiss (1979), Intraclass correlations: uses in assessing
    rater reliability, *Psychological Bulletin* 86(2), 420–428; K. O. McGraw & S. P. Wong
    (1996), Forming inferences about some intraclass correlation coefficients, *Psychological
    Methods* 1(1), 30–46.

    Example (Shrout & Fleiss 1979, Table 2: 6 targets × 4 judges): ICC2 = 0.29, ICC3 = 0.71,
    F(ICC3) = 11.03 on (5, 15) df.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    ratings = _icc_matrix(table, target=target, rater=rater, value=value)
    return _icc_table(ratings, confidence=confidence)


def _icc_matrix(table: pl.DataFrame, *, target: str, rater: str, value: str) -> np.ndarray:
    """The n targets × k raters matrix of a complete long table, or an InputError."""
    prepared = _prepare(table, keys=[], unit=target, coder=rater, value=value, what="rating table")
    targets = prepared.get_column("__unit__").to_numpy()
    raters = prepared.get_column("__coder__").to_numpy()
    values = prepared.get_column("__value__").to_numpy()
    target_keys, target_index = np.unique(targets, return_inverse=True)
    rater_keys, rater_index = np.unique(raters, return_inverse=True)
    if len(target_keys) < 2 or len(rater_keys) < 2:
        raise InputError(
            f"the ICC needs at least 2 targets and 2 raters (found {len(target_keys)} target(s) "
            f"and {len(rater_keys)} rater(s))"
        )
    ratings = np.full((len(target_keys), len(rater_keys)), np.nan)
    ratings[target_index, rater_index] = values
    if np.isnan(ratings).any():
        _raise_missing(prepared, ratings, target_keys, rater_keys, target=target, rater=rater, value=value)
    return ratings


def _raise_missing(
    prepared: pl.DataFrame,
    ratings: np.ndarray,
    target_keys: np.ndarray,
    rater_keys: np.ndarray,
    *,
    target: str,
    rater: str,
    value: str,
) -> None:
    """Name the first (target, rater) cell without a value, in the table's own labels."""
    t, r = (int(i) for i in np.argwhere(np.isnan(ratings))[0])
    of_target, of_rater = pl.col("__unit__") == target_keys[t], pl.col("__coder__") == rater_keys[r]
    row = first_row(prepared, of_target & of_rater)
    if row is not None:  # the row is there but its value is null or NaN
        raise InputError(
            f"rater {row[rater]!r} has no value for target {row[target]!r}: "
            "the ICC needs every rater to rate every target",
            row=row[ROW],
            column=value,
        )
    target_label = prepared.filter(of_target).get_column(target)[0]
    rater_label = prepared.filter(of_rater).get_column(rater)[0]
    raise InputError(
        f"rater {rater_label!r} did not rate target {target_label!r}: "
        "the ICC needs every rater to rate every target",
        column=rater,
    )


def _mean_squares(ratings: np.ndarray) -> tuple[float, float, float, float]:
    """BMS (targets), JMS (raters), EMS (residual) and WMS (within targets) of the two-way ANOVA."""
    n, k = ratings.shape
    grand = ratings.mean()
    ss_total = float(((ratings - grand) ** 2).sum())
    ss_targets = k * float(((ratings.mean(axis=1) - grand) ** 2).sum())
    ss_raters = n * float(((ratings.mean(axis=0) - grand) ** 2).sum())
    # The residual is a difference of sums; clip the float noise that can make it slightly < 0.
    ss_error = max(ss_total - ss_targets - ss_raters, 0.0)
    return (
        ss_targets / (n - 1),
        ss_raters / (k - 1),
        ss_error / ((n - 1) * (k - 1)),
        (ss_raters + ss_error) / (n * (k - 1)),
    )


def _div(a: float, b: float) -> float:
    """a / b in IEEE terms (±inf, NaN for 0/0), without Python's ZeroDivisionError."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def _icc2(bms: float, jms: float, ems: float, n: int, k: int) -> tuple[float, float]:
    """ICC(2,1) and ICC(2,k)."""
    return (
        _div(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
        _div(bms - ems, bms + (jms - ems) / n),
    )


def _icc_table(ratings: np.ndarray, *, confidence: float) -> pl.DataFrame:
    n, k = ratings.shape
    bms, jms, ems, wms = _mean_squares(ratings)
    alpha = 1.0 - confidence
    icc2, icc2k = _icc2(bms, jms, ems, n, k)
    one_way = (n - 1, n * (k - 1))
    two_way = (n - 1, (n - 1) * (k - 1))
    f1, f3 = _div(bms, wms), _div(bms, ems)

    def f_bounds(f: float, df: tuple[int, int]) -> tuple[float, float]:
        return (
            _div(f, float(f_distribution().ppf(1 - alpha / 2, df[0], df[1]))),
            f * float(f_distribution().ppf(1 - alpha / 2, df[1], df[0])),
        )

    def single(f: float) -> float:  # (F − 1)/(F + k − 1), written so that F = inf gives 1.
        return 1.0 - _div(k, f + k - 1)

    f1_low, f1_high = f_bounds(f1, one_way)
    f3_low, f3_high = f_bounds(f3, two_way)
    icc2_low, icc2_high = _icc2_bounds(bms, jms, ems, n, k, icc2, alpha)
    rows = [
        (_div(bms - wms, bms + (k - 1) * wms), f1, one_way, single(f1_low), single(f1_high)),
        (icc2, f3, two_way, icc2_low, icc2_high),
        (_div(bms - ems, bms + (k - 1) * ems), f3, two_way, single(f3_low), single(f3_high)),
        (_div(bms - wms, bms), f1, one_way, 1.0 - _div(1.0, f1_low), 1.0 - _div(1.0, f1_high)),
        (icc2k, f3, two_way, _step_up(icc2_low, k), _step_up(icc2_high, k)),
        (_div(bms - ems, bms), f3, two_way, 1.0 - _div(1.0, f3_low), 1.0 - _div(1.0, f3_high)),
    ]
    records = [
        {
            "type": name,
            "description": description,
            "icc": value,
            "f": f,
            "df1": df[0],
            "df2": df[1],
            "p_value": float(f_distribution().sf(f, df[0], df[1])),
            "ci_low": low,
            "ci_high": high,
        }
        for (name, description), (value, f, df, low, high) in zip(_ICC_TYPES, rows, strict=True)
    ]
    return pl.DataFrame(records, schema=_ICC_SCHEMA)


def _icc2_bounds(
    bms: float, jms: float, ems: float, n: int, k: int, icc2: float, alpha: float
) -> tuple[float, float]:
    """ICC(2,1) bounds with Satterthwaite's approximate df (Shrout & Fleiss 1979, case 2)."""
    fj = _div(jms, ems)
    spread = n * (1 + (k - 1) * icc2) - k * icc2
    df = _div(
        (k - 1) * (n - 1) * (k * icc2 * fj + spread) ** 2,
        (n - 1) * k**2 * icc2**2 * fj**2 + spread**2,
    )
    if not np.isfinite(df) or df <= 0:
        return float("nan"), float("nan")
    f_upper = float(f_distribution().ppf(1 - alpha / 2, n - 1, df))
    f_lower = float(f_distribution().ppf(1 - alpha / 2, df, n - 1))
    pooled = k * jms + (k * n - k - n) * ems
    return (
        _div(n * (bms - f_upper * ems), f_upper * pooled + n * bms),
        _div(n * (f_lower * bms - ems), pooled + n * f_lower * bms),
    )


def _step_up(single: float, k: int) -> float:
    """Spearman–Brown: the reliability of the mean of k raters from that of one."""
    return _div(k * single, 1 + (k - 1) * single)


# --- per group -------------------------------------------------------------------------------


def agreement_by(
    table: pl.DataFrame,
    *,
    by: list[str],
    unit: str,
    coder: str,
    value: str,
    level: str = "ordinal",
) -> pl.DataFrame:
    """Krippendorff's alpha and ICC(2,1)/ICC(2,k) for each group of the ``by`` columns.

    Returns one row per group, sorted by ``by``: ``*by, alpha, n_units, n_values, n_coders,
    icc2, icc2k, complete``. alpha is :func:`krippendorff_alpha` of the group (NaN when
    undefined). ``complete`` says every coder of the group gave a value for every unit of the
    group; ``icc2`` and ``icc2k`` (as in :func:`icc`, units as targets, coders as raters) are
    null when it is not, or when the group has fewer than 2 units or 2 coders.

    Example: ``agreement_by(scores, by=["panel", "component"], unit="unit",
    coder="assessor", value="score")`` with ``unit`` = region + item gives one row per panel
    and component.
    """
    checked = _check_level(level)
    if not by:
        raise ValueError("by must name at least one column")
    prepared = _prepare(
        table, keys=by, unit=unit, coder=coder, value=value, what="score table", level=checked
    )
    # The rows come sorted by the keys, so each group is a contiguous slice: numpy sees it as a
    # view of three arrays.
    groups = prepared.group_by("__group__", maintain_order=True).agg(
        *(pl.col(c).first() for c in by), pl.len().alias("__rows__")
    )
    units = prepared.get_column("__unit__").to_numpy()
    coders = prepared.get_column("__coder__").to_numpy()
    values = prepared.get_column("__value__").to_numpy()
    results = []
    start = 0
    for end in np.cumsum(groups.get_column("__rows__").to_numpy()).tolist():
        part = slice(start, end)
        start = end
        alpha = _alpha(units[part], coders[part], values[part], checked)
        results.append((*alpha, *_group_icc2(units[part], coders[part], values[part])))
    schema = {
        "alpha": pl.Float64,
        "n_units": pl.Int64,
        "n_values": pl.Int64,
        "n_coders": pl.Int64,
        "icc2": pl.Float64,
        "icc2k": pl.Float64,
        "complete": pl.Boolean,
    }
    return groups.select(by).hstack(pl.DataFrame(results, schema=schema, orient="row"))


def _group_icc2(
    units: np.ndarray, coders: np.ndarray, values: np.ndarray
) -> tuple[float | None, float | None, bool]:
    """ICC(2,1), ICC(2,k) and completeness of one group; the ICCs are None when not computable."""
    unit_keys, unit_index = np.unique(units, return_inverse=True)
    coder_keys, coder_index = np.unique(coders, return_inverse=True)
    n, k = len(unit_keys), len(coder_keys)
    # Rows are unique per (unit, coder), so the group is complete when it fills the n × k grid
    # with values.
    complete = len(values) == n * k and not np.isnan(values).any()
    if not complete or n < 2 or k < 2:
        return None, None, complete
    ratings = np.empty((n, k))
    ratings[unit_index, coder_index] = values
    bms, jms, ems, _ = _mean_squares(ratings)
    icc2, icc2k = _icc2(bms, jms, ems, n, k)
    return icc2, icc2k, complete


# --- input -----------------------------------------------------------------------------------


def _check_level(level: str) -> Level:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    return cast(Level, level)


def _prepare(
    table: pl.DataFrame,
    *,
    keys: Sequence[str],
    unit: str,
    coder: str,
    value: str,
    what: str,
    level: Level | None = None,
) -> pl.DataFrame:
    """Check a long table and add integer codes ``__unit__``, ``__coder__`` and ``__value__``.

    Rows come sorted by (keys, unit); ``__unit__`` numbers the (keys, unit) pairs in that order,
    ``__group__`` (with keys) the keys, ``__coder__`` the coder labels; values are Float64 with
    missing values (null or NaN) as NaN. Refuses empty labels and a coder giving
    two values to one unit, and negative values at the ratio level.
    """
    table = with_rows(table)
    require_columns(table, [*keys, unit, coder, value], what=what)
    for column in (unit, coder):
        blank = first_row(table, pl.col(column).is_null())
        if blank is not None:
            raise InputError("the value is empty", row=blank[ROW], column=column, code="empty_value")
    dtype = table.schema[value]
    if not (dtype.is_numeric() or dtype == pl.Null):
        raise InputError(f"values must be numbers, not {dtype}", column=value)
    if level == "ratio":
        negative = first_row(table, pl.col(value) < 0)
        if negative is not None:
            raise InputError("ratio-level values cannot be negative", row=negative[ROW], column=value)
    # As many distinct key hashes as rows proves no coder gave a unit two values; fewer (such a
    # pair, or a hash collision) is settled by the exact search.
    counts = table.select(pl.len(), pl.struct(*keys, unit, coder).hash().n_unique().alias("distinct"))
    if counts.item(0, "distinct") < counts.item(0, "len"):
        duplicate = first_row(table, pl.len().over(*keys, unit, coder) > 1)
        if duplicate is not None:
            raise InputError(
                f"{coder} {duplicate[coder]!r} has more than one value for {unit} {duplicate[unit]!r}",
                row=duplicate[ROW],
                column=coder,
            )

    # Sorted by keys and unit, a new unit (or group) starts wherever one of its columns changes:
    # one sort instead of ranking structs.
    def starts(columns: Sequence[str]) -> pl.Expr:
        return pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift()) for c in columns).cum_sum()

    numbers = pl.col(value).cast(pl.Float64)
    return table.sort(*keys, unit).with_columns(
        starts([*keys, unit]).alias("__unit__"),
        *([starts(keys).alias("__group__")] if keys else []),
        pl.col(coder).rank("dense").alias("__coder__"),
        pl.when(numbers.is_nan()).then(None).otherwise(numbers).fill_null(float("nan")).alias("__value__"),
    )
