"""Reading and checking input tables: CSV or XLSX, told apart by content, not extension.

Tables are read with every column as text, so that the checks below can name the row and the
column of a bad value instead of failing on a type. Headers are normalised (``Quick Win`` →
``quick_win``). Each row keeps its spreadsheet row number in the column :data:`ROW` (header =
row 1), which survives filtering, so errors point at the row a user sees in Excel.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.limits import DEFAULT_LIMITS, ReadLimits, check_bytes, check_loaded, check_size
from cityeval.engine.spreadsheet import NEUTRALISED

__all__ = [
    "ROW",
    "check_repeated_header",
    "few_distinct",
    "first_row",
    "malformed_csv",
    "normalise_header",
    "number_parse",
    "number_values",
    "parse_numbers",
    "per_distinct",
    "read_table",
    "require_columns",
    "short_row",
    "short_row_error",
    "text_column",
    "with_rows",
]

ROW = "__row__"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MISSING = ("", "-", "–", "na", "n/a", "null")
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")
# polars reads a header that names a column twice as "a", "a_duplicated_0": the second copy
# would be read under a name nobody asked for and its values lost without a word.
_DUPLICATED = re.compile(r"(.+)_duplicated_\d+")
_SAMPLE_ROWS = 1000  # rows that tell a column of few distinct values from one of many


def normalise_header(name: str) -> str:
    """``" Quick Win "`` → ``"quick_win"``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_table(source: str | Path | bytes, *, limits: ReadLimits = DEFAULT_LIMITS) -> pl.DataFrame:
    """Read a CSV or XLSX file (a path or its bytes) into a table of text columns with a
    :data:`ROW` column.

    ``limits`` bounds the file's size, its unpacked size, rows and columns; a file over one
    raises :class:`~cityeval.engine.limits.LimitError` before it is parsed, or after at most
    ``limits.max_rows + 1`` rows were loaded.
    """
    name = None if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else _read_bytes(Path(source), limits)
        check_bytes(data, limits)
        if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
            table = _read_excel(data, limits)
        else:
            table = _read_csv(data, limits)
        check_loaded(table.height, table.width, limits)
        return _tidy(table)
    except InputError as exc:
        raise (exc.with_source(name) if name else exc) from None


def _read_bytes(path: Path, limits: ReadLimits) -> bytes:
    try:
        check_size(path.stat().st_size, limits)  # before the file is read into memory
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", code="file_not_found") from None
    except OSError as exc:
        raise InputError(
            f"cannot read the file ({exc.strerror})", code="file_unreadable", params={"reason": exc.strerror}
        ) from None


def _read_excel(data: bytes, limits: ReadLimits) -> pl.DataFrame:
    import fastexcel  # imported here: only XLSX reading needs it

    try:
        reader = fastexcel.read_excel(data)
        sheet = reader.load_sheet(0, dtypes="string", n_rows=limits.max_rows + 1)
    except Exception as exc:  # fastexcel raises its own exception family
        raise InputError(
            f"not a readable spreadsheet ({exc})", code="not_a_spreadsheet", params={"detail": str(exc)}
        ) from None
    return sheet.to_polars()


def _read_csv(data: bytes, limits: ReadLimits) -> pl.DataFrame:
    """Parse the bytes as they are (polars checks UTF-8 while it reads); the text is decoded in
    Python only to describe a problem."""
    data = data.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark Excel writes
    if not data or data.isspace():
        raise InputError("the file is empty", code="empty_file")
    end = data.find(b"\n")
    header = data[:end] if end >= 0 else data
    separator = max((",", ";", "\t"), key=lambda s: header.count(s.encode()))
    try:
        table = pl.read_csv(data, separator=separator, infer_schema=False, n_rows=limits.max_rows + 1)
    except (pl.exceptions.ComputeError, pl.exceptions.DuplicateError) as exc:
        # polars names the problem but not always the line; csv tells us which line is ragged.
        text = _decoded(data)
        raise _describe_csv_problem(text, separator) or malformed_csv(str(exc)) from None
    if table.height > limits.max_rows:
        _decoded(data)  # a file both too long and not UTF-8 is refused for its encoding first
    check_repeated_header(table.columns)
    # polars pads a short row with nulls. A null in the last column may also be a blank value,
    # so only then is each row's length checked, which costs a pass in Python.
    if table.width and table.get_column(table.columns[-1]).null_count():
        problem = _describe_csv_problem(_decoded(data), separator)
        if problem:
            raise problem
    return table


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as 'CSV UTF-8' or as XLSX",
            code="not_utf8",
            params={"byte": f"0x{data[exc.start]:02x}", "line": line},
        ) from None


def check_repeated_header(columns: list[str]) -> None:
    """Refuse a CSV whose header names a column twice (code ``repeated_column``); ``columns``
    are the names polars read, which renames the second copy."""
    for name in columns:
        match = _DUPLICATED.fullmatch(name)
        if match and match[1] in columns:
            raise InputError(
                f"the header repeats column {match[1]!r}", code="repeated_column", params={"column": match[1]}
            )


def malformed_csv(detail: str) -> InputError:
    """The error for a CSV the parser refused; ``detail`` is the parser's message."""
    return InputError(f"malformed CSV ({detail})", code="malformed_csv", params={"detail": detail})


def _describe_csv_problem(text: str, separator: str) -> InputError | None:
    rows = csv.reader(io.StringIO(text), delimiter=separator)
    header = next(rows)
    if len(set(header)) != len(header):
        return InputError("the header repeats a column name", code="repeated_header")
    return short_row_error(text, separator)


def short_row(text: str, separator: str) -> str | None:
    """The first data row whose number of values differs from the header's, described; or None.

    polars pads a short row with nulls, which would read a missing answer as a blank one, so
    readers call this when their last column has nulls. A blank line is a blank row, not a short
    one (readers drop blank rows).
    """
    problem = short_row_error(text, separator)
    return problem.reason if problem else None


def short_row_error(text: str, separator: str) -> InputError | None:
    """:func:`short_row` as the error to raise (code ``short_row``), or None."""
    rows = csv.reader(io.StringIO(text), delimiter=separator)
    header = next(rows, [])
    for number, row in enumerate(rows, start=2):  # numbered as ROW numbers them
        if row and len(row) != len(header):
            return InputError(
                f"row {number} has {len(row)} values but the header has {len(header)} columns",
                code="short_row",
                params={"row": number, "values": len(row), "columns": len(header)},
            )
    return None


def _tidy(table: pl.DataFrame) -> pl.DataFrame:
    names = [normalise_header(re.sub(NEUTRALISED, r"\1", str(c))) for c in table.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(
            f"the header repeats column {duplicates[0]!r}",
            code="repeated_column",
            params={"column": duplicates[0]},
        )
    table = table.rename(dict(zip(table.columns, names, strict=True)))
    table, quoted = _stripped_cells(table.with_columns(pl.all().cast(pl.String)))
    # A text cell our CSV writer neutralised ('=x, see engine.spreadsheet) reads as written: the
    # pattern is applied only to the columns that have a cell starting with an apostrophe.
    if quoted:
        table = table.with_columns(pl.col(quoted).str.replace(NEUTRALISED, "$1"))
    table = table.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    blank = pl.all_horizontal(pl.exclude(ROW).is_null() | (pl.exclude(ROW) == ""))
    table = table.filter(~blank)
    if table.height == 0:
        raise InputError("the table has a header but no data rows", code="no_data_rows")
    return table


def few_distinct(table: pl.DataFrame) -> dict[str, pl.Series]:
    """The distinct values (without null) of each column that has few: answers, regions, items,
    scores, not ids, timestamps or free text. Which columns have few is guessed from the first
    rows, so a caller must give the same answer for a column it is wrong about, only slower."""
    sample = table.head(_SAMPLE_ROWS).select(pl.all().n_unique()).row(0, named=True)
    few = [name for name, count in sample.items() if count <= _SAMPLE_ROWS // 4]
    frames = pl.collect_all([table.lazy().select(pl.col(name).unique()) for name in few])
    return {name: frame.to_series().drop_nulls() for name, frame in zip(few, frames, strict=True)}


def _stripped_cells(table: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Every cell without surrounding blanks, and the columns with a (stripped) cell starting
    with an apostrophe.

    A column of few distinct values (regions, items, scores: a few hundred in 300,000 rows) is
    looked at through them: usually clean already, it is left as it is, and stripped cell by
    cell only if a value has blanks around it. Any other column is stripped cell by cell. Which
    columns have few values is guessed from the first rows; a wrong guess costs time, never a
    different table.
    """
    if not table.height:
        return table, []
    distinct = few_distinct(table)
    few = list(distinct)
    stripped = {name: values.str.strip_chars() for name, values in distinct.items()}
    clean = [name for name in few if stripped[name].equals(distinct[name])]
    others = [name for name in table.columns if name not in clean]
    table = table.with_columns(pl.col(others).str.strip_chars())
    quoted = [name for name in few if stripped[name].str.starts_with("'").any()]
    many = [name for name in table.columns if name not in few]
    if many:
        hits = table.select(pl.col(many).str.starts_with("'").any()).row(0, named=True)
        quoted += [name for name, hit in hits.items() if hit]
    return table, [name for name in table.columns if name in quoted]


# --- checks shared by the engine's table readers ---------------------------------------------


def with_rows(table: pl.DataFrame) -> pl.DataFrame:
    """Add spreadsheet row numbers to a table that does not have them yet."""
    if ROW in table.columns:
        return table
    return table.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))


def require_columns(table: pl.DataFrame, columns: Iterable[str], *, what: str = "table") -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        have = ", ".join(c for c in table.columns if c != ROW)
        raise InputError(
            f"the {what} has no column {missing[0]!r} (columns found: {have})",
            column=missing[0],
            code="missing_column",
            params={"column": missing[0], "columns": have},
        )


def first_row(table: pl.DataFrame, mask: pl.Expr) -> dict | None:
    """The first row matching ``mask``, as a dict, or None."""
    hit = table.filter(mask).head(1)
    return hit.row(0, named=True) if hit.height else None


def text_column(table: pl.DataFrame, column: str, *, required: bool = True) -> pl.DataFrame:
    """Cast a column to stripped text; with ``required``, refuse empty values."""
    table = table.with_columns(pl.col(column).cast(pl.String).str.strip_chars())
    if required:
        bad = first_row(table, pl.col(column).is_null() | (pl.col(column) == ""))
        if bad is not None:
            raise InputError("the value is empty", row=bad[ROW], column=column, code="empty_value")
    return table


def number_parse(table: pl.DataFrame, column: str) -> tuple[pl.Expr, pl.Expr]:
    """The expressions :func:`parse_numbers` uses for ``column``: its Float64 value, and a flag
    true on a value it refuses (text that is not a number, NaN, infinity), for one lazy check.

    Text is parsed once per distinct value when there are few (scores: a handful of levels in
    300,000 rows), as :func:`per_distinct` does."""
    if table.schema[column].is_numeric():
        value = pl.col(column).cast(pl.Float64)
        return value, value.is_nan() | value.is_infinite()
    text = pl.col(column).cast(pl.String)
    source = table.get_column(column).cast(pl.String)
    value, refused = per_distinct_each(source, text, _number_text, defaults=(None, False))
    return value, refused


def number_values(texts: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Each text's Float64 value as :func:`parse_numbers` reads it, and a flag true where it
    refuses the text: for a column's distinct values, looked up per row by the caller."""
    value, refused = _number_text(pl.lit(texts.cast(pl.String)))
    decoded = pl.select(value.alias("value"), refused.alias("refused"))
    return decoded.get_column("value"), decoded.get_column("refused")


def _number_text(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    text = text.str.strip_chars()
    cleaned = (
        pl.when(text.is_null() | text.str.to_lowercase().is_in(_MISSING))
        .then(None)
        .when(text.str.contains(_DECIMAL_COMMA.pattern))
        .then(text.str.replace(",", ".", literal=True))
        .otherwise(text)
    )
    value = cleaned.cast(pl.Float64, strict=False)
    return value, (cleaned.is_not_null() & value.is_null()) | value.is_nan() | value.is_infinite()


def per_distinct(
    values: pl.Series, column: pl.Expr, decode: Callable[[pl.Expr], pl.Expr], *, default: Any = None
) -> pl.Expr:
    """``decode(column)``, worked out once per distinct value of ``values`` (the column's data)
    when there are few — answers, yes/no, score levels: a handful of values in a million rows —
    and looked up per row; ``default`` for a null. With many distinct values, ``decode`` runs
    on every row as usual.

    ``decode`` must give a null for a null (or ``default`` must be what it gives).
    """
    (decoded,) = per_distinct_each(values, column, lambda text: (decode(text),), defaults=(default,))
    return decoded


def per_distinct_each(
    values: pl.Series,
    column: pl.Expr,
    decode: Callable[[pl.Expr], tuple[pl.Expr, ...]],
    *,
    defaults: tuple[Any, ...],
) -> tuple[pl.Expr, ...]:
    """:func:`per_distinct` for a ``decode`` giving several expressions (a number and its
    refusal flag): the distinct values are found and decoded once for all of them."""
    distinct = values.unique().drop_nulls()
    if not distinct.len() or distinct.len() > max(len(values) // 8, 64):
        return tuple(
            expr if default is None else expr.fill_null(default)
            for expr, default in zip(decode(column), defaults, strict=True)
        )
    decoded = pl.select(*(expr.alias(f"__{k}__") for k, expr in enumerate(decode(pl.lit(distinct)))))
    return tuple(
        column.replace_strict(distinct, series, default=default, return_dtype=series.dtype)
        for series, default in zip(decoded.get_columns(), defaults, strict=True)
    )


def parse_numbers(table: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """Turn text columns into Float64, with blanks as null; refuse anything else.

    Accepts a decimal comma (``3,23``), as Indonesian spreadsheets often write it.
    """
    for column in columns:
        value, refused = number_parse(table, column)
        checked = table.select(ROW, pl.col(column), value.alias("__value__"), refused.alias("__bad__"))
        bad = first_row(checked, pl.col("__bad__"))
        if bad is not None:
            if table.schema[column].is_numeric():
                raise InputError("the value is not a finite number", row=bad[ROW], column=column)
            raise InputError(
                f"{bad[column]!r} is not a number",
                row=bad[ROW],
                column=column,
                code="not_a_number",
                params={"value": bad[column]},
            )
        table = table.with_columns(checked.get_column("__value__").alias(column))
    return table
