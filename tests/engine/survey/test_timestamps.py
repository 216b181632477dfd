"""Timestamps of survey exports: the one-pass layout and the format-by-format fallback agree.

Expected instants are worked out by hand: local time minus the offset (09:15 at +07:00 is 02:15
UTC; 09:15 at −03:30 is 12:45 UTC); a value without an offset, or with ``Z``, is already UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from cityeval.engine.survey.timestamps import parse_timestamps

MIXED = {
    "2024-10-01 09:15:00+07:00": datetime(2024, 10, 1, 2, 15, tzinfo=UTC),
    "2024-10-01T09:15:00-03:30": datetime(2024, 10, 1, 12, 45, tzinfo=UTC),
    "2024-10-01 09:15:00Z": datetime(2024, 10, 1, 9, 15, tzinfo=UTC),
    "2024-10-01 09:15:00": datetime(2024, 10, 1, 9, 15, tzinfo=UTC),
    # Not in the first value's layout: read by the formats one by one.
    "2024-10-01 09:15:00.250+07:00": datetime(2024, 10, 1, 2, 15, 0, 250000, tzinfo=UTC),
    "2024-10-01 09:15:00+0700": datetime(2024, 10, 1, 2, 15, tzinfo=UTC),
    "2024-10-01T09:15": datetime(2024, 10, 1, 9, 15, tzinfo=UTC),
    # Not timestamps at all (no 30 February, no 24-hour offset): left blank to be reported.
    "2024-02-30 09:15:00+07:00": None,
    "2024-10-01 09:15:00+24:00": None,
    "2024-10-01X09:15:00+07:00": None,
    "1 Oktober 2024": None,
    None: None,
}


def _parsed(values: list[str | None]) -> list[datetime | None]:
    return parse_timestamps(pl.Series("start", values, dtype=pl.String)).to_list()


def test_a_column_in_one_layout_and_its_odd_values_are_all_read_to_utc() -> None:
    """Whichever value comes first (so whichever layout is tried in one pass), each value gets
    its hand-worked instant, and the column is Datetime(us, UTC)."""
    values = list(MIXED)
    for first in ("2024-10-01 09:15:00+07:00", "2024-10-01T09:15:00-03:30", "2024-10-01T09:15", None):
        column = [first, *values]
        series = parse_timestamps(pl.Series("start", column, dtype=pl.String))
        assert series.dtype == pl.Datetime("us", "UTC")
        assert series.to_list() == [MIXED[v] for v in column]


def test_a_blank_or_unreadable_column_stays_blank() -> None:
    """No value to take a layout from: nothing is parsed, nothing fails."""
    assert _parsed([None, None]) == [None, None]
    assert _parsed(["", "not a timestamp at all"]) == [None, None]


def test_a_column_whose_values_all_end_alike_is_read_to_utc() -> None:
    """Every value with the same ending (an export's usual case, read with the ending as part of
    the layout): each gets its hand-worked instant; a date that does not exist, a value in the
    other layout (``T`` for a space) and one with a stray letter are told apart as before."""
    for ending, minutes in (("+07:00", 7 * 60), ("-03:30", -(3 * 60 + 30)), ("Z", 0), ("", 0)):
        local = {
            "2024-10-01 09:15:00": datetime(2024, 10, 1, 9, 15),
            "2024-12-31 23:59:59": datetime(2024, 12, 31, 23, 59, 59),
            "2024-10-01T09:15:00": datetime(2024, 10, 1, 9, 15),  # other layout: read all the same
            "2024-02-30 09:15:00": None,
            "2024-10-01 09:15:0X": None,
        }
        column = [stamp + ending for stamp in local]
        expected = [
            None if at is None else (at - timedelta(minutes=minutes)).replace(tzinfo=UTC)
            for at in local.values()
        ]
        assert _parsed([*column, None]) == [*expected, None], ending
