"""Checks of scoring input tables, item-level and component-level.

Each check refuses the first bad row with an :class:`InputError` naming its row and column.
The item-level checks first ask only whether a table has any problem, with a few counts in one
lazy plan that also groups the scores the scoring needs (:func:`_checked_at_once`): a good
table, the usual case, is read once and no row is looked for. Only a table those counts cannot
vouch for is checked row by row (:func:`_checked_row_by_row`): every check is a flag column,
and the first problem is picked in the order the checks are listed in :func:`check_item_table`,
so a table with several problems is refused for the same one whichever way it is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.tables import (
    ROW,
    first_row,
    number_parse,
    number_values,
    parse_numbers,
    require_columns,
    with_rows,
)

__all__ = [
    "ITEM_COLUMNS",
    "ITEM_KEY",
    "REGION_NUMBER",
    "CheckedItems",
    "canonical_groups",
    "catalogue",
    "check_component_presence",
    "check_item_scores",
    "check_item_table",
    "check_scale",
    "check_unique_regions",
    "with_group",
]

ITEM_COLUMNS = ("region", "group", "item", "assessor", "score")
_TEXT = ("region", "group", "item", "assessor")
_POS = "__position__"  # table order: "first" row means first in the table as given
_CODE = "__group_code__"
# Duplicate (region, item, assessor) keys are found by marking each key seen in a table of all
# possible keys (a bit each) when there are at most this many per row, or this many in all; else
# by counting distinct keys, which takes several times longer.
_MARKED_PER_ROW = 16
_MARKED_ANYWAY = 2**20
# A region's number (its place among the table's distinct regions) and a (region, item) pair as
# one number: region number × number of framework items + the item's place in the framework.
REGION_NUMBER = "__region__"
ITEM_KEY = "__key__"


def catalogue(framework: Framework) -> pl.DataFrame:
    """One row per (group, expected item) with its component, weight and dimension."""
    rows: dict[str, list[Any]] = {k: [] for k in ("group", "component", "weight", "item", "dimension")}
    for group in framework.group_codes:
        weights = framework.weights_for(group)
        for component, item in framework.items_for(group):
            rows["group"].append(group)
            rows["component"].append(component.code)
            rows["weight"].append(weights[component.code])
            rows["item"].append(item.code)
            rows["dimension"].append(framework.item_dimension(item))
    return pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "component": pl.String,
            "weight": pl.Float64,
            "item": pl.String,
            "dimension": pl.String,
        },
    )


def check_item_table(
    scores: pl.DataFrame, framework: Framework, *, default_group: str | None
) -> pl.DataFrame:
    """The item-score table checked: text columns stripped, groups as codes, scores as floats.

    Refused, in this order (the first check with a bad row decides, and its first row):
    an empty region, group, item or assessor; an unknown group; a score that is not a number;
    a score outside the scale; an item the framework does not have; an item its group does not
    score; a region with two groups or two provinces; an assessor scoring a region's item twice.
    """
    checked = check_item_scores(scores, framework, default_group=default_group, keep_table=True)
    assert checked.table is not None
    return checked.table


@dataclass(frozen=True)
class CheckedItems:
    """What :func:`check_item_scores` collected in the one pass over a good table.

    ``regions``: ``region, group, [province]`` of each region's first row, groups as codes, and
    its number (:data:`REGION_NUMBER`).
    ``per_item``: one row per (region, item), named by :data:`ITEM_KEY`, with the caller's
    aggregations of the checked rows.
    ``table``: the checked table itself, when asked for.
    """

    regions: pl.DataFrame
    per_item: pl.DataFrame
    table: pl.DataFrame | None


def check_item_scores(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    default_group: str | None,
    per_item: Sequence[pl.Expr] = (),
    keep_table: bool = False,
) -> CheckedItems:
    """Check an item-score table as :func:`check_item_table` does, and in the same plan group
    its checked rows by (region, item) with the ``per_item`` aggregations (of ``score``, the
    scores as numbers).

    The scoring needs only those groups, so on good input the table is read once and no
    checked copy of it is made unless ``keep_table`` asks for one. A good table is told from a
    bad one by a few counts (:func:`_checked_at_once`); only a table that fails one of them
    (or has values to strip) is checked row by row, to name its first bad row.
    """
    table = with_group(with_rows(scores), framework, default_group)
    require_columns(table, ITEM_COLUMNS, what="item-score table")
    checked = _checked_at_once(table, framework, per_item, keep_table)
    if checked is not None:
        return checked
    return _checked_row_by_row(table, framework, per_item, keep_table)


def _checked_at_once(
    table: pl.DataFrame, framework: Framework, per_item: Sequence[pl.Expr], keep_table: bool
) -> CheckedItems | None:
    """The checked groups of a table that passes every check, or None if it may fail one.

    Nothing here looks for a bad row: each check is a count or a comparison over the whole
    table, computed in one plan with the groups the scoring needs: how many items are not the
    framework's (an empty item is none of them), whether a (region, item, assessor) key comes
    twice, whether each region has one group and one province (:func:`_region_runs`). Groups
    and provinces are then checked once per region, regions and assessors among their distinct
    values. None of these can miss a problem; a table they cannot vouch for goes to the row by
    row checks, which find the problem or pass it (two spellings of one group in a region, say).
    """
    attributes = ["group", *(["province"] if "province" in table.columns else [])]
    if any(table.schema[c] != pl.String for c in [*_TEXT, *attributes]):
        return None  # numbers as text: the row by row checks cast them
    text_scores = table.schema["score"] == pl.String
    looked_at = ["assessor", *(["score"] if text_scores else [])]
    frames = pl.collect_all(
        [_region_runs(table, attributes), *[table.lazy().select(pl.col(c).unique()) for c in looked_at]]
    )
    runs, assessors = frames[0], frames[1].to_series()
    regions = runs.get_column("region").unique(maintain_order=True)
    if not (_clean(regions) and _clean(assessors)):
        return None
    # A table sorted by region has one run per region: its regions are numbered by their runs,
    # in the order they come (else by their place among the distinct regions, a dearer lookup).
    region_number = (
        pl.col("region").rle_id().cast(pl.Int64).alias(REGION_NUMBER)
        if runs.height == regions.len()
        else _numbered("region", regions)
    )
    items = pl.Series(list(framework.items_by_code), dtype=pl.String)
    scores = _score_values(table, frames[2].to_series()) if text_scores else number_parse(table, "score")
    if scores is None:
        return None
    value, refused = scores
    lazy = table.lazy().with_columns(
        value.alias("__score__"),
        region_number,
        _numbered("item", items),  # null for an empty or unknown item
        _numbered("assessor", assessors),
    )
    lazy = lazy.with_columns((pl.col(REGION_NUMBER) * items.len() + pl.col("__item__")).alias(ITEM_KEY))
    space = regions.len() * items.len() * assessors.len()
    marked = space <= max(_MARKED_PER_ROW * table.height, _MARKED_ANYWAY)
    summary = lazy.select(
        pl.len().alias("rows"),
        pl.col("__item__").null_count().alias("unknown items"),
        refused.any().alias("not a number"),
        _outside(framework).any().alias("outside"),
        *([] if marked else [_distinct_keys(regions.len() * items.len(), assessors.len())]),
    )
    per_key = lazy.select(ITEM_KEY, pl.col("__score__").alias("score")).group_by(ITEM_KEY).agg(*per_item)
    keys = [lazy.select(_assessor_key(assessors.len()))] if marked else []
    found, per_item_table, *key_table = pl.collect_all([summary, per_key, *keys])
    counts = found.row(0, named=True)
    if counts["unknown items"] or counts["not a number"] or counts["outside"]:
        return None
    if marked:  # every key is a number below space (no unknown item): mark each one seen
        seen = pl.zeros(space, pl.Boolean, eager=True).scatter(key_table[0].to_series(), True)
        counts["distinct"] = seen.sum()
    if counts["distinct"] < counts["rows"]:
        return None
    if runs.n_unique(["region", *attributes]) > regions.len():
        return None  # a region with two groups or two provinces (a null counts as one)
    per_region = runs.unique("region", keep="first", maintain_order=True).select(
        _numbered("region", regions), pl.col("region", *attributes)
    )
    return _checked_groups(table, per_region, per_item_table, framework, keep_table)


def _region_runs(table: pl.DataFrame, attributes: list[str]) -> pl.LazyFrame:
    """The first row of each run of rows with the same region and attributes (group, province),
    in table order: a region's first row is its first run's, and the region has one value of
    each attribute if all its runs have the same. A table sorted by region has one run per
    region, so a region's values are compared among a few rows, not among all of its rows."""
    columns = ["region", *attributes]
    run = pl.struct(columns).rle_id()
    return table.lazy().select(columns).filter(run.diff().fill_null(1) != 0)


def _checked_groups(
    table: pl.DataFrame,
    per_region: pl.DataFrame,
    per_item: pl.DataFrame,
    framework: Framework,
    keep_table: bool,
) -> CheckedItems | None:
    """The last checks, per region (its group) and per (region, item) (its group scores the
    item), and what :func:`_checked_at_once` returns; or None if one of them fails."""
    spellings = per_region.get_column("group")
    if not _clean(spellings) or (
        "province" in per_region.columns and not _clean(per_region.get_column("province"), optional=True)
    ):
        return None
    resolved = {value: framework.resolve_group(value) for value in spellings.unique()}
    codes = {value: code for value, code in resolved.items() if code is not None}
    if len(codes) < len(resolved):
        return None  # an unknown group
    groups = list(framework.group_codes)
    items = list(framework.items_by_code)
    scored = [{item.code for _, item in framework.items_for(group)} for group in groups]
    applies = pl.Series([item in group_items for group_items in scored for item in items])
    first = per_region.sort(REGION_NUMBER).get_column("group").to_list()  # region by region
    region_group = pl.Series([groups.index(codes[value]) for value in first], dtype=pl.Int64)
    group_of_key = pl.lit(region_group).gather(pl.col(ITEM_KEY) // len(items))
    if not per_item.select(
        pl.lit(applies).gather(group_of_key * len(items) + pl.col(ITEM_KEY) % len(items)).all()
    ).item():
        return None  # an item its group does not score
    as_codes = pl.col("group").replace_strict(codes, return_dtype=pl.String)
    kept = None
    if keep_table:
        value, _ = number_parse(table, "score")
        kept = table.with_columns(as_codes, value.alias("score"))
    return CheckedItems(regions=per_region.with_columns(as_codes), per_item=per_item, table=kept)


def _score_values(table: pl.DataFrame, texts: pl.Series) -> tuple[pl.Expr, pl.Expr] | None:
    """The scores as numbers, from ``texts``, their distinct values: each decoded once and
    looked up by its place among them (no text is refused: None if one is). With many distinct
    texts, each row is decoded as :func:`number_parse` does."""
    texts = texts.drop_nulls()
    if texts.len() > max(table.height // 8, 64):
        return number_parse(table, "score")
    values, refused = number_values(texts)
    if refused.any():
        return None
    return pl.lit(values).gather(pl.col("score").cast(pl.Enum(texts)).to_physical()), pl.lit(False)


def _outside(framework: Framework) -> pl.Expr:
    scale = framework.scale
    return (pl.col("__score__") < scale.min) | (pl.col("__score__") > scale.max)


def _clean(values: pl.Series, *, optional: bool = False) -> bool:
    """No value needs stripping, and unless ``optional`` none is empty."""
    present = values.drop_nulls()
    if not optional and (present.len() < values.len() or (present == "").any()):
        return False
    return present.equals(present.str.strip_chars())


def _assessor_key(assessors: int) -> pl.Expr:
    """A (region, item, assessor) key as one number, below (region, item) pairs × assessors."""
    return pl.col(ITEM_KEY) * assessors + pl.col("__assessor__")


def _distinct_keys(pairs: int, assessors: int) -> pl.Expr:
    """How many distinct (region, item, assessor) keys: fewer than rows means a duplicate.

    The numbered key is exact; only where (region, item) pairs × assessors could overflow it
    are the text keys hashed instead (equal keys hash alike, so a duplicate is never missed;
    a collision only sends the table to the row by row checks).
    """
    if pairs * assessors < 2**62:
        key = _assessor_key(assessors)
    else:
        key = pl.struct("region", "item", "assessor").hash()
    return key.n_unique().alias("distinct")


def _checked_row_by_row(
    table: pl.DataFrame, framework: Framework, per_item: Sequence[pl.Expr], keep_table: bool
) -> CheckedItems:
    """The checks, each flagging its bad rows, for a table that may fail one: raise for its
    first bad row (or return the checked groups if it passes after all)."""
    has_province = "province" in table.columns
    table, distinct = _stripped(table, [*_TEXT, *(["province"] if has_province else [])])
    codes = {value: framework.resolve_group(value) for value in distinct["group"].drop_nulls().to_list()}
    score, score_problem = number_parse(table, "score")
    checks = _row_checks(framework, distinct["item"], score_problem)
    # Regions, items and assessors as numbers (their place among the distinct values): grouping
    # and counting by one integer key is several times faster than by two or three text columns.
    known = {
        "region": distinct["region"].drop_nulls(),
        "item": pl.Series(list(framework.items_by_code), dtype=pl.String),  # an unknown item is refused
        "assessor": distinct["assessor"].drop_nulls(),
    }
    lazy = table.lazy().with_columns(
        pl.col("group").replace_strict(codes, default=None, return_dtype=pl.String).alias(_CODE),
        score.alias("__score__"),
        *[_numbered(c, values) for c, values in known.items()],
    )
    key = pl.col(REGION_NUMBER) * known["item"].len() + pl.col("__item__")
    lazy = lazy.with_columns(key.alias(ITEM_KEY))
    flagged = (
        lazy.with_row_index(_POS)
        .filter(pl.any_horizontal(checks.values()))
        .select(_POS, ROW, *[check.alias(name) for name, check in checks.items()])
    )
    province = [pl.col("province")] if has_province else []
    regions = lazy.group_by(REGION_NUMBER, maintain_order=True).agg(
        pl.col("region").first(),
        pl.col(_CODE).first().alias("group"),
        *[column.first() for column in province],
        pl.col(_CODE).n_unique().alias("__groups__"),
        *[column.n_unique().alias("__provinces__") for column in province],
    )
    # The checked rows: groups as codes, scores as numbers.
    checked = lazy.with_columns(pl.col(_CODE).alias("group"), pl.col("__score__").alias("score"))
    items = checked.group_by(ITEM_KEY).agg(*per_item)
    twice = lazy.select(
        pl.len(), _distinct_keys(known["region"].len() * known["item"].len(), known["assessor"].len())
    )
    numbered = ["__region__", "__item__", "__assessor__", ITEM_KEY, _CODE, "__score__"]
    frames = pl.collect_all(
        [flagged, regions, items, twice, *([checked.drop(numbered)] if keep_table else [])]
    )
    found, per_region, per_item_table, counts = frames[:4]
    if found.height:
        _raise_row_problem(table, found, framework)
    for column, count in (("group", "__groups__"), ("province", "__provinces__")):
        if count in per_region.columns and (per_region.get_column(count).max() or 0) > 1:  # type: ignore[operator]
            inconsistent = per_region.filter(pl.col(count) > 1).get_column("region")
            _raise_inconsistent(table, codes, column, inconsistent)
    if counts.item(0, "distinct") < counts.item(0, "len"):
        _raise_twice(table)
    return CheckedItems(
        regions=per_region.drop("__groups__", "__provinces__", strict=False),
        per_item=per_item_table,
        table=frames[4] if keep_table else None,
    )


def _numbered(column: str, values: pl.Series) -> pl.Expr:
    """The column as each value's place among ``values`` (null where it is none of them)."""
    places = pl.col(column).cast(pl.Enum(values), strict=False).to_physical().cast(pl.Int64)
    return places.alias(f"__{column}__")


def _row_checks(framework: Framework, items: pl.Series, score_problem: pl.Expr) -> dict[str, pl.Expr]:
    """One flag per row check, true where a row breaks it, in the order they are reported."""
    scale = framework.scale
    applies = pl.lit(False)
    for group in framework.group_codes:
        codes = [item.code for _, item in framework.items_for(group)]
        applies = pl.when(pl.col(_CODE) == group).then(pl.col("item").is_in(codes)).otherwise(applies)
    known_item = pl.col("item").is_in(list(framework.items_by_code))
    if items.drop_nulls().is_in(list(framework.items_by_code)).all():
        known_item = pl.lit(True)  # every distinct item is known: no need to look row by row
    checks = {
        **{f"empty {c}": pl.col(c).is_null() | (pl.col(c) == "") for c in _TEXT},
        "unknown group": pl.col("group").is_not_null() & pl.col(_CODE).is_null(),
        "not a number": score_problem,
        "outside the scale": (pl.col("__score__") < scale.min) | (pl.col("__score__") > scale.max),
        "unknown item": ~known_item,
        "misplaced item": known_item & ~applies,
    }
    return {name: check.fill_null(False) for name, check in checks.items()}


def _stripped(table: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """The columns as text without surrounding blanks, stripped only where a value has them,
    and each column's distinct (stripped) values.

    Looking at the distinct values (a few hundred regions, items, assessors) is much cheaper
    than stripping every cell of a large table that is usually clean already.
    """
    table = table.with_columns(pl.col(c).cast(pl.String) for c in columns)
    frames = pl.collect_all([table.lazy().select(pl.col(c).unique()) for c in columns])
    distinct = {c: frame.to_series() for c, frame in zip(columns, frames, strict=True)}
    dirty = [c for c, values in distinct.items() if not values.equals(values.str.strip_chars())]
    if dirty:
        table = table.with_columns(pl.col(c).str.strip_chars() for c in dirty)
        distinct |= {c: distinct[c].str.strip_chars().unique() for c in dirty}
    return table, distinct


def _group_codes(table: pl.DataFrame, framework: Framework) -> dict[str, str | None]:
    values = table.get_column("group").drop_nulls().unique().to_list()
    return {value: framework.resolve_group(value) for value in values}


def _raise_row_problem(table: pl.DataFrame, flagged: pl.DataFrame, framework: Framework) -> None:
    """Raise for the first check that any row breaks, naming that check's first row: in table
    order, except items, which are named by spreadsheet row."""
    for name in flagged.columns[2:]:
        hits = flagged.filter(pl.col(name))
        if not hits.height:
            continue
        position = hits.sort(ROW if name.endswith(" item") else _POS).get_column(_POS)[0]
        row = table.row(position, named=True)
        if name.startswith("empty "):
            raise InputError(
                "the value is empty", row=row[ROW], column=name.removeprefix("empty "), code="empty_value"
            )
        if name == "unknown group":
            raise InputError(
                f"unknown group {row['group']!r} (groups in {framework.code}: "
                f"{', '.join(framework.group_codes)})",
                row=row[ROW],
                column="group",
            )
        if name == "unknown item":
            message = f"unknown item {row['item']!r} for framework {framework.code}"
            raise InputError(message, row=row[ROW], column="item")
        if name == "misplaced item":
            group = framework.resolve_group(row["group"])
            raise InputError(
                f"item {row['item']!r} is not scored for group {group!r}", row=row[ROW], column="item"
            )
        # The shared number checks word the message, on that one row.
        check_scale(parse_numbers(table.slice(position, 1), ["score"]), "score", framework)


def _raise_inconsistent(
    table: pl.DataFrame, codes: dict[str, str | None], column: str, regions: pl.Series
) -> None:
    """A region has one group (or province) across all its rows: name the first row that differs."""
    rows = table.with_row_index(_POS).filter(pl.col("region").is_in(regions.implode()))
    if column == "group":
        rows = rows.with_columns(pl.col("group").replace_strict(codes, return_dtype=pl.String))
    first = rows.group_by("region").agg(pl.col(column).sort_by(ROW).first().alias("__first__"))
    clash = first_row(
        rows.join(first, on="region").sort(_POS), pl.col(column).ne_missing(pl.col("__first__"))
    )
    if clash is not None:
        raise InputError(
            f"region {clash['region']!r} has {column} {clash[column]!r} here but "
            f"{clash['__first__']!r} on an earlier row",
            row=clash[ROW],
            column=column,
        )


def _raise_twice(table: pl.DataFrame) -> None:
    """Name the first row whose assessor scored the region's item already, if there is one."""
    duplicate = first_row(table, pl.len().over("region", "item", "assessor") > 1)
    if duplicate is not None:
        raise InputError(
            f"assessor {duplicate['assessor']!r} scored item {duplicate['item']!r} of "
            f"{duplicate['region']!r} more than once",
            row=duplicate[ROW],
            column="assessor",
        )


def with_group(table: pl.DataFrame, framework: Framework, default_group: str | None) -> pl.DataFrame:
    """The table with a group column: its own, or ``default_group`` (or the framework's only group)."""
    if "group" in table.columns:
        return table
    if default_group is None and len(framework.groups) == 1:
        default_group = framework.groups[0].code
    if default_group is None:
        raise InputError(
            "the table has no column 'group' and no default group was given "
            f"(groups: {', '.join(framework.group_codes)})",
            column="group",
        )
    code = framework.resolve_group(default_group)
    if code is None:
        raise InputError(f"unknown group {default_group!r} (groups: {', '.join(framework.group_codes)})")
    return table.with_columns(pl.lit(code).alias("group"))


def canonical_groups(table: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """The group column in the framework's codes, aliases (``R``, ``KPPN & IKN``) resolved."""
    codes = _group_codes(table, framework)
    bad = first_row(table, pl.col("group").is_in([v for v, code in codes.items() if code is None]))
    if bad is not None:
        raise InputError(
            f"unknown group {bad['group']!r} (groups in {framework.code}: "
            f"{', '.join(framework.group_codes)})",
            row=bad[ROW],
            column="group",
        )
    return table.with_columns(pl.col("group").replace_strict(codes, return_dtype=pl.String))


def check_scale(table: pl.DataFrame, column: str, framework: Framework) -> None:
    scale = framework.scale
    bad = first_row(table, (pl.col(column) < scale.min) | (pl.col(column) > scale.max))
    if bad is not None:
        raise InputError(
            f"{bad[column]:g} is outside the scale {scale.min:g}–{scale.max:g}",
            row=bad[ROW],
            column=column,
        )


def check_unique_regions(table: pl.DataFrame) -> None:
    duplicate = first_row(table, pl.len().over("region") > 1)
    if duplicate is not None:
        later = table.filter(pl.col("region") == duplicate["region"]).sort(ROW).row(1, named=True)
        raise InputError(
            f"region {duplicate['region']!r} appears twice (first at row {duplicate[ROW]})",
            row=later[ROW],
            column="region",
        )


def check_component_presence(table: pl.DataFrame, framework: Framework, present: list[str]) -> None:
    """Each participating region has every component of its group, and none of another's.

    A region whose components are all 0 or blank did not take part: it is listed as a
    non-participant rather than refused.
    """
    took_part = (
        pl.any_horizontal(pl.col(c).fill_null(0.0) != 0 for c in present) if present else pl.lit(False)
    )
    for group in framework.group_codes:
        of_group = (pl.col("group") == group) & took_part
        for component in framework.components:
            code = component.code
            if component.applies_to(group):
                if code not in present:
                    row = first_row(table, of_group)
                    if row is not None:
                        raise InputError(
                            f"no column for component {code!r}, which group {group!r} needs",
                            row=row[ROW],
                            column=code,
                        )
                    continue
                row = first_row(table, of_group & pl.col(code).is_null())
                if row is not None:
                    raise InputError(
                        f"component {code!r} is missing; group {group!r} needs it",
                        row=row[ROW],
                        column=code,
                    )
            elif code in present:
                row = first_row(table, of_group & pl.col(code).is_not_null())
                if row is not None:
                    raise InputError(
                        f"group {group!r} has no component {code!r}: leave it blank",
                        row=row[ROW],
                        column=code,
                    )
