"""Engine errors in the page's language. The engine stays free of Django and speaks English
(the CLI shows its messages as they are); an error that carries a ``code`` and ``params`` is
translated here through gettext, one template per code. An unknown code keeps the English text.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.engine import InputError

MESSAGES = {
    "empty_file": gettext_lazy("the file is empty"),
    "not_utf8": gettext_lazy(
        "not UTF-8 text (byte %(byte)s on line %(line)s); save it as 'CSV UTF-8' or as XLSX"
    ),
    "repeated_column": gettext_lazy("the header repeats column '%(column)s'"),
    "no_data_rows": gettext_lazy("the table has a header but no data rows"),
    "missing_column": gettext_lazy("the table has no column '%(column)s' (columns found: %(columns)s)"),
    "empty_value": gettext_lazy("the value is empty"),
    "not_a_number": gettext_lazy("'%(value)s' is not a number"),
}


def where(row: int | None, column: str | None) -> str:
    """ "row 4, column 'region'" in the page's language; empty when neither is known."""
    places = (
        _("row %(row)s") % {"row": row} if row else "",
        _("column '%(column)s'") % {"column": column} if column else "",
    )
    return ", ".join(p for p in places if p)


def message_text(exc: InputError) -> str:
    """The error's message without its place, translated when it has a known code."""
    template = MESSAGES.get(exc.code or "")
    return str(template) % exc.params if template is not None else exc.reason


def input_error_text(exc: InputError) -> str:
    """The error as a page shows it: place, then the message, translated when it has a code."""
    message = message_text(exc)
    place = where(exc.row, exc.column)
    return f"{place}: {message}" if place else message
