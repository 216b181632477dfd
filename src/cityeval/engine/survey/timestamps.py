"""Timestamps of survey exports: ISO-like text to UTC datetimes.

Formats: with an offset or ``Z`` (KoboToolbox, ODK Central: converted to UTC), without one
(read as UTC), with or without seconds and fractions, ``T`` or a space between date and time.
Unparseable values stay null for the import's checks to report.

An export writes every timestamp the same way (``2024-10-01 09:15:00+07:00``), so the common
case is read in one pass: the first 19 characters as a plain date and time, in the layout the
first value shows, and the rest (the offset, ``Z`` or nothing) looked up among the few distinct
endings the column has. Only values that do not fit that layout (fractions of a second, an
offset without a colon, a missing second…) go through the formats one by one, which costs
about ten times as much per value.
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["fill_unparsed", "parse_timestamps", "timestamps_expr"]

_ISO_OFFSET = "%Y-%m-%dT%H:%M:%S%.f%z"
_ISO_ZULU = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.fz")
_ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")
_OFFSET = re.compile(r"([+-])([01]\d|2[0-3]):([0-5]\d)")
_STAMP = 19  # characters of "2024-10-01 09:15:00"


def parse_timestamps(text: pl.Series) -> pl.Series:
    """The column as ``Datetime(us, UTC)``; null where blank or unparseable."""
    named = text.alias("text")
    parsed = named.to_frame().select(timestamps_expr(named)).to_series()
    return fill_unparsed(parsed, named).alias(text.name)


def timestamps_expr(text: pl.Series) -> pl.Expr:
    """An expression on the column ``text.name`` (of a frame holding ``text``) reading the values
    laid out like the first one (date, ``T`` or space, time to the second, then an offset, ``Z``
    or nothing); null elsewhere, for :func:`fill_unparsed`. Lazy, so that a frame's timestamp
    columns are read side by side with its other columns."""
    first = next((value for value in text.head(1000).drop_nulls() if value), None)
    if first is None or len(first) < _STAMP or first[10] not in "T ":
        return pl.repeat(None, pl.len(), dtype=pl.Datetime("us", "UTC")).alias(text.name)
    endings = _endings(text, first)
    minutes = {ending: _offset_minutes(ending) for ending in endings}
    column = pl.col(text.name)
    if len(endings) == 1 and (only := minutes[endings[0]]) is not None:
        # Every value ends alike (an export's usual case): the ending is read as a literal part
        # of the layout, with no per-value copy of the first 19 characters nor lookup of the
        # ending. The same values are read, to the same instants: polars' parser, and chrono's
        # where polars' gives up, take the first 19 characters as the shorter layout would,
        # and a literal offset, "Z" or nothing holds no digit or blank that they could
        # otherwise take into the seconds.
        local = column.str.to_datetime(
            f"%Y-%m-%d{first[10]}%H:%M:%S{endings[0]}", time_unit="us", strict=False
        )
        return (local - pl.duration(minutes=only)).dt.replace_time_zone("UTC").alias(text.name)
    local = column.str.slice(0, _STAMP).str.to_datetime(
        f"%Y-%m-%d{first[10]}%H:%M:%S", time_unit="us", strict=False
    )
    offset = column.str.slice(_STAMP).replace_strict(minutes, default=None, return_dtype=pl.Int64)
    # A value with an ending that is not an offset gets a null offset, so a null result.
    utc = (local - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    return pl.when(offset.is_not_null()).then(utc).alias(text.name)


def _endings(text: pl.Series, first: str) -> list[str]:
    """The distinct endings (what follows the first 19 characters) of the column's values; when
    every value has the first one's, seen without copying each value's ending."""
    ending = first[_STAMP:]
    if ending.isascii():
        column = pl.col(text.name)
        # As many characters as the first value, its (ASCII) ending as the last bytes.
        alike = (column.str.len_chars() == len(first)) & column.str.ends_with(ending)
        if text.to_frame().select(alike.all()).item():
            return [ending]
    return text.str.slice(_STAMP).unique().drop_nulls().to_list()


def fill_unparsed(parsed: pl.Series, text: pl.Series) -> pl.Series:
    """``parsed`` with the values :func:`timestamps_expr` left null read format by format."""
    missed = parsed.is_null() & text.is_not_null()
    if missed.any():
        parsed = parsed.scatter(missed.arg_true(), _by_format(text.filter(missed)))
    return parsed


def _offset_minutes(ending: str) -> int | None:
    """``+07:00`` → 420, ``Z`` or nothing → 0 (UTC); None for anything else."""
    if ending in ("", "Z", "z"):
        return 0
    match = _OFFSET.fullmatch(ending)
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    return sign * (int(match[2]) * 60 + int(match[3]))


def _by_format(text: pl.Series) -> pl.Series:
    """Try the formats in turn on the values still unparsed."""
    iso = text.str.replace(" ", "T", literal=True)
    parsed = iso.str.to_datetime(_ISO_OFFSET, time_unit="us", time_zone="UTC", strict=False)
    # A trailing Z (or z) is UTC: a format of its own, tried only on values still unparsed,
    # rather than a regex rewriting every value before the first try.
    for form in (*_ISO_ZULU, *_ISO_NAIVE):
        if not (parsed.is_null() & iso.is_not_null()).any():
            break
        naive = iso.str.to_datetime(form, time_unit="us", strict=False).dt.replace_time_zone("UTC")
        parsed = parsed.fill_null(naive)
    return parsed
