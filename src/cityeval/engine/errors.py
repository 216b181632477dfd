"""Domain errors raised by the engine.

Every error a user can cause names the place that is wrong: a YAML path for frameworks, a row
and a column for tables. Callers (CLI, web) show the message as it is.
"""

from __future__ import annotations

from collections.abc import Mapping


class CityevalError(Exception):
    """Base class for errors caused by user input."""


class FrameworkError(CityevalError):
    """A framework file is invalid. ``problems`` lists each one as ``path: message``."""

    def __init__(self, problems: list[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = prefix + self.problems[0]
        else:
            message = (
                prefix + f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
            )
        super().__init__(message)


class InputError(CityevalError):
    """A row of an input table is invalid.

    ``row`` is the spreadsheet row number, counting the header as row 1, so the first data row
    is row 2: the number a user sees in Excel or LibreOffice and, for CSV, the line number.

    ``code`` and ``params`` say the same as the English message in a form another program can
    translate (the web shows Indonesian pages): e.g. ``"missing_column"`` with
    ``{"column": "region", "columns": "name, group"}``. Errors without a code are shown as
    their message.
    """

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        source: str | None = None,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.reason = message
        self.row = row
        self.column = column
        self.source = source
        self.code = code
        self.params = dict(params or {})
        super().__init__(self._format())

    def with_source(self, source: str) -> InputError:
        """Return the same error naming the file it came from."""
        return InputError(
            self.reason, row=self.row, column=self.column, source=source, code=self.code, params=self.params
        )

    def _format(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return (", ".join(where) + ": " if where else "") + self.reason
