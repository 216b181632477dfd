"""The optional inputs of the uncertainty analysis: survey answer counts and weight sets.

**Survey counts**: one row per region and statement, either wide — ``region, statement,
count_0, count_1, count_2, count_3, count_4`` (the shape of the survey statistics' output) — or
long — ``region, statement, answer, count`` with answers 0–4. ``item`` (a survey item's code)
may stand for ``statement``. Each row applies to the region's survey items linked to that
statement.

**Weight sets**: ``set, group, component, weight`` (percent, as in framework files). A set
gives the weights of the groups it names, which must be every component of that group and sum
to 100; groups a set does not name keep the framework's weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import WEIGHT_TOTAL, Framework
from cityeval.engine.tables import ROW, first_row, parse_numbers, require_columns, text_column, with_rows

__all__ = ["SurveyCounts", "WeightSets", "survey_counts", "weight_sets"]

ANSWER_VALUES = (0, 1, 2, 3, 4)
_COUNT_COLUMNS = tuple(f"count_{k}" for k in ANSWER_VALUES)
_WEIGHT_TOLERANCE = 1e-6
_SAMPLER_ROWS = 512  # survey rows sampled at a time: small arrays reuse freed memory
_GUIDE_CELLS = 1  # guide cells per point of the distribution (a power of two)
_GUIDE_STEPS = 2  # steps forward from the guide's start before the rest are counted directly


@dataclass(frozen=True)
class SurveyCounts:
    """Answer counts of the statements behind survey items, as arrays (one row per item)."""

    region: np.ndarray  # region index of each row (order of the scored regions)
    item: np.ndarray  # item index (order of framework.items_by_code)
    counts: np.ndarray  # (S, 5)

    # Cached: the Monte Carlo asks for them once per block of draws.
    @cached_property
    def means(self) -> np.ndarray:
        return (self.counts @ np.asarray(ANSWER_VALUES, dtype=np.float64)) / self.counts.sum(axis=1)

    @cached_property
    def respondents(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def totals(self, rng: np.random.Generator, draws: int) -> np.ndarray:
        """The sum ``T`` of ``n`` answers resampled with replacement, ``draws × rows``.

        ``T`` has the ``n``-fold convolution of the answer shares as its law, computed by FFT
        as the survey statistics do, and is drawn from it by inverse transform sampling, so the
        draws are exact in law without drawing ``n`` answers one by one.
        """
        n = self.respondents.astype(np.int64)
        dtype = np.uint16 if (len(ANSWER_VALUES) - 1) * int(n.max(initial=0)) < 2**16 else np.int32
        # Held rows × draws (each row's draws side by side, as they are drawn) and handed out
        # transposed: a view, no copy.
        out = np.empty((len(n), draws), dtype=dtype)
        lengths = 1 << np.ceil(np.log2((len(ANSWER_VALUES) - 1) * n + 1)).astype(np.int64)
        # Rows in blocks keep the working arrays small; the uniforms are drawn block by block
        # in row order, so the result depends on the seed only.
        for first in range(0, len(n), _SAMPLER_ROWS):
            last = min(first + _SAMPLER_ROWS, len(n))
            uniform = rng.random((last - first, draws))
            sizes = np.unique(lengths[first:last])
            for length in sizes:
                if len(sizes) == 1:  # one support size in the block: every row at once
                    rows: slice | np.ndarray = slice(first, last)
                    drawn = uniform
                else:
                    rows = first + np.flatnonzero(lengths[first:last] == length)
                    drawn = uniform[rows - first]
                cdf = _sum_cdf(self.counts[rows] / n[rows, None], n[rows], int(length))
                top = (len(ANSWER_VALUES) - 1) * n[rows]
                index = _inverse_cdf(cdf, drawn)
                out[rows] = np.minimum(index, top[:, None], out=index)
        return out.T

    def deviation(self, totals: np.ndarray) -> np.ndarray:
        """``x̄* − x̄``: each drawn mean ``T / n`` less the observed mean."""
        return totals / self.respondents[None, :] - self.means[None, :]

    def deviation_by_row(self, totals: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """:meth:`deviation` of ``totals`` (``draws × rows``), rows × draws, for ``rows`` only
        (all by default): the same numbers, laid out as the sampler holds them."""
        if rows is None:
            out = totals.T / self.respondents[:, None]
            out -= self.means[:, None]
        else:
            out = totals.T[rows] / self.respondents[rows, None]
            out -= self.means[rows, None]
        return out


def _sum_cdf(shares: np.ndarray, n: np.ndarray, length: int) -> np.ndarray:
    """Distribution function of the sum of ``n`` answers drawn from ``shares``, per row:
    ``pmf = IFFT(FFT(p)^n)`` on ``length`` points (at least the support ``0 … 4n``)."""
    spectrum = np.fft.rfft(shares, n=length, axis=1) ** n[:, None]
    cdf = np.cumsum(np.clip(np.fft.irfft(spectrum, n=length, axis=1), 0.0, None), axis=1)
    return cdf / cdf[:, -1:]


def _inverse_cdf(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """For each row ``j`` of ``cdf`` (rows × K, K a power of two) and draw ``u`` of ``uniform``
    (rows × draws), the smallest ``k`` with ``cdf[j, k] > u``: inverse transform sampling.

    A guide table (Chen & Asau 1974) of ``G`` cells (``G`` a power of two, one per point)
    holds, per row and cell ``g``, ``#{k : cdf[j, k] <= g/G}``, where a draw in
    ``[g/G, (g+1)/G)`` starts; a step or two forward finishes it (none for most draws), and the
    few draws still short (far in a tail, where the cdf is nearly flat) are counted directly.
    ``G`` being a power of two, ``cdf·G`` and ``u·G`` are exact in floating point, so the start
    never passes the answer. Draws are laid out row by row so that the look-ups of one row stay
    in the same few cache lines.
    """
    rows, size = cdf.shape
    grid = _GUIDE_CELLS * size  # cells of the guide, a power of two
    cells = np.minimum(np.ceil(cdf * grid).astype(np.int64), grid)  # smallest g: g/G >= cdf[j, k]
    offsets = np.arange(rows)[:, None] * (grid + 1)
    histogram = np.bincount((offsets + cells).ravel(), minlength=rows * (grid + 1))
    # The guide as flat positions in ``cdf``, capped at the row's last point: capping the small
    # table spares a pass over the draws.
    start = np.arange(rows)[:, None] * size
    guide = np.minimum(np.cumsum(histogram.reshape(rows, grid + 1), axis=1), size - 1)
    guide += start
    cell = (uniform * grid).astype(np.intp)
    cell += offsets
    index = guide.ravel()[cell].ravel()  # flat position in cdf
    del cell
    flat, u = cdf.ravel(), uniform.ravel()
    todo = np.flatnonzero(flat[index] <= u)
    for _step in range(_GUIDE_STEPS):
        index[todo] += 1
        last = (todo // uniform.shape[1]) * size + size - 1
        todo = todo[(index[todo] < last) & (flat[np.minimum(index[todo], last)] <= u[todo])]
    if todo.size:
        # The few draws still short, far in a tail of nearly flat cdf: the answer is the number
        # of the row's points at or below the draw (cdf does not decrease), at most the last.
        row = todo // uniform.shape[1]
        below = np.count_nonzero(cdf[row] <= u[todo, None], axis=1)
        index[todo] = row * size + np.minimum(below, size - 1)
    index = index.reshape(uniform.shape)
    index -= start
    return index


def survey_counts(table: pl.DataFrame, framework: Framework, regions: pl.DataFrame) -> SurveyCounts:
    """Check a survey-count table against the framework and the scored ``regions``."""
    table = with_rows(table)
    key = "statement" if "statement" in table.columns else "item"
    require_columns(table, ("region", key), what="survey-count table")
    table = text_column(text_column(table, "region"), key)
    table = _wide_counts(table, key)
    region_index = {r: i for i, r in enumerate(regions.get_column("region"))}
    group_of = dict(zip(regions.get_column("region"), regions.get_column("group"), strict=True))
    item_index = {code: i for i, code in enumerate(framework.items_by_code)}
    links: dict[tuple[str, str], list[str]] = {}
    for group in framework.group_codes:
        for _component, item in framework.items_for(group):
            if item.kind == "survey" and item.statement is not None:
                code = item.statement if key == "statement" else item.code
                links.setdefault((group, code), []).append(item.code)
    # One row per (row, linked item), rows in file order and a row's items in framework order.
    link_rows = [
        (g, code, item_index[item], k) for (g, code), items in links.items() for k, item in enumerate(items)
    ]
    linked = pl.DataFrame(
        link_rows,
        schema={"_group": pl.String, key: pl.String, "_item": pl.Int64, "_order": pl.Int64},
        orient="row",
    )
    table = table.select(ROW, "region", key, *_COUNT_COLUMNS).sort(ROW).with_row_index("_pos")
    table = table.with_columns(
        pl.col("region").replace_strict(group_of, default=None, return_dtype=pl.String).alias("_group")
    )
    joined = table.join(linked, on=["_group", key], how="left").sort("_pos", "_order")
    missing = joined.filter(pl.col("_item").is_null())
    if missing.height:
        row = missing.row(0, named=True)
        if row["region"] not in region_index:
            raise InputError(f"region {row['region']!r} is not in the scores", row=row[ROW], column="region")
        raise InputError(
            f"no survey item of group {group_of[row['region']]!r} is linked to {key} {row[key]!r}",
            row=row[ROW],
            column=key,
        )
    return SurveyCounts(
        region=joined.get_column("region").replace_strict(region_index, return_dtype=pl.Int64).to_numpy(),
        item=joined.get_column("_item").to_numpy(),
        counts=joined.select(pl.col(c).cast(pl.Float64) for c in _COUNT_COLUMNS)
        .to_numpy()
        .reshape(-1, len(ANSWER_VALUES)),
    )


def _wide_counts(table: pl.DataFrame, key: str) -> pl.DataFrame:
    """Counts as ``count_0 … count_4`` per (region, key), checked whole and not negative."""
    if not all(c in table.columns for c in _COUNT_COLUMNS):
        require_columns(table, ("answer", "count"), what="survey-count table")
        table = parse_numbers(table, ["answer", "count"])
        bad = first_row(table, ~pl.col("answer").is_in(list(ANSWER_VALUES)))
        if bad is not None:
            raise InputError("answers must be whole numbers 0–4", row=bad[ROW], column="answer")
        _check_counts(table, ["count"])
        table = table.group_by("region", key).agg(
            pl.col(ROW).min(),
            *(pl.col("count").filter(pl.col("answer") == k).sum().alias(f"count_{k}") for k in ANSWER_VALUES),
        )
    else:
        table = parse_numbers(table, list(_COUNT_COLUMNS))
        _check_counts(table, list(_COUNT_COLUMNS))
    duplicate = first_row(table, pl.len().over("region", key) > 1)
    if duplicate is not None:
        raise InputError(
            f"{key} {duplicate[key]!r} of {duplicate['region']!r} appears twice",
            row=duplicate[ROW],
            column=key,
        )
    empty = first_row(table, pl.sum_horizontal(_COUNT_COLUMNS) <= 0)
    if empty is not None:
        raise InputError("a statement needs at least one answer", row=empty[ROW], column="count_0")
    return table


def _check_counts(table: pl.DataFrame, columns: list[str]) -> None:
    for column in columns:
        bad = first_row(
            table,
            pl.col(column).is_null() | (pl.col(column) < 0) | (pl.col(column).round(0) != pl.col(column)),
        )
        if bad is not None:
            raise InputError("counts must be whole numbers, 0 or more", row=bad[ROW], column=column)


@dataclass(frozen=True)
class WeightSets:
    """Alternative weight sets: per set, group → component → weight as a fraction."""

    sets: tuple[dict[str, dict[str, float]], ...]

    def __len__(self) -> int:
        return len(self.sets)

    def array(self, framework: Framework) -> np.ndarray:
        """``sets × groups × components``, the framework's weights where a set is silent."""
        components = framework.component_codes
        out = np.zeros((len(self.sets), len(framework.group_codes), len(components)))
        for s, chosen in enumerate(self.sets):
            for g, group in enumerate(framework.group_codes):
                weights = chosen.get(group, framework.weights_for(group))
                for code, weight in weights.items():
                    out[s, g, components.index(code)] = weight
        return out


def weight_sets(table: pl.DataFrame, framework: Framework) -> WeightSets:
    """Check a ``set, group, component, weight`` table (weights in percent)."""
    table = with_rows(table)
    require_columns(table, ("set", "group", "component", "weight"), what="weight-set table")
    for column in ("set", "group", "component"):
        table = text_column(table, column)
    table = parse_numbers(table, ["weight"])
    bad = first_row(table, pl.col("weight").is_null() | (pl.col("weight") < 0))
    if bad is not None:
        raise InputError("weights must be numbers, 0 or more", row=bad[ROW], column="weight")
    bad = first_row(table, ~pl.col("group").is_in(list(framework.group_codes)))
    if bad is not None:
        raise InputError(f"unknown group {bad['group']!r}", row=bad[ROW], column="group")
    duplicate = first_row(table, pl.len().over("set", "group", "component") > 1)
    if duplicate is not None:
        raise InputError(
            "a component appears twice in one set and group", row=duplicate[ROW], column="component"
        )
    sets: dict[str, dict[str, dict[str, float]]] = {}
    for row in table.sort(ROW).iter_rows(named=True):
        if row["component"] not in framework.weights_for(row["group"]):
            raise InputError(
                f"group {row['group']!r} has no component {row['component']!r}",
                row=row[ROW],
                column="component",
            )
        sets.setdefault(row["set"], {}).setdefault(row["group"], {})[row["component"]] = row["weight"]
    out = []
    for name, groups in sets.items():
        for group, weights in groups.items():
            missing = set(framework.weights_for(group)) - set(weights)
            total = sum(weights.values())
            if missing or abs(total - WEIGHT_TOTAL) > _WEIGHT_TOLERANCE:
                problem = f"lacks {', '.join(sorted(missing))}" if missing else f"sums to {total:g}, not 100"
                raise InputError(f"weight set {name!r}, group {group!r}: {problem}", column="weight")
        out.append({g: {c: w / WEIGHT_TOTAL for c, w in ws.items()} for g, ws in groups.items()})
    if not out:
        raise InputError("the weight-set table has no rows")
    return WeightSets(sets=tuple(out))
