"""Engine errors in the page's language. The engine stays free of Django and speaks English
(the CLI shows its messages as they are); an error that carries a ``code`` and ``params`` is
translated here through gettext, one template per code. An unknown code keeps the English text.

``tests/web/test_engine_error_messages.py`` checks that every code the engine raises has its
template here, with the same parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cityeval.engine import CityevalError

MESSAGES = {
    # Reading a table (engine.tables, and the survey reader's CSV and XLSX).
    "file_not_found": gettext_lazy("file not found"),
    "file_unreadable": gettext_lazy("cannot read the file (%(reason)s)"),
    "empty_file": gettext_lazy("the file is empty"),
    "not_utf8": gettext_lazy(
        "not UTF-8 text (byte %(byte)s on line %(line)s); save it as 'CSV UTF-8' or as XLSX"
    ),
    "not_a_spreadsheet": gettext_lazy("not a readable spreadsheet (%(detail)s)"),
    "malformed_csv": gettext_lazy("malformed CSV (%(detail)s)"),
    "repeated_header": gettext_lazy("the header repeats a column name"),
    "short_row": gettext_lazy("row %(row)s has %(values)s values but the header has %(columns)s columns"),
    "repeated_column": gettext_lazy("the header repeats column '%(column)s'"),
    "no_data_rows": gettext_lazy("the table has a header but no data rows"),
    "missing_column": gettext_lazy("the table has no column '%(column)s' (columns found: %(columns)s)"),
    "empty_value": gettext_lazy("the value is empty"),
    "not_a_number": gettext_lazy("'%(value)s' is not a number"),
    # Survey exports (engine.survey.imports, archives, forms).
    "unknown_exporter": gettext_lazy(
        "cannot tell which tool exported this file: it has no column response_id (cityeval "
        "template), _uuid (KoboToolbox) or KEY (ODK Central); export it with XML names as headers"
    ),
    "column_twice": gettext_lazy("two columns hold '%(key)s': '%(first)s' and '%(second)s'"),
    "no_submission_id_column": gettext_lazy("the file has no submission-id column (one of: %(columns)s)"),
    "kobo_label_headers": gettext_lazy(
        "this is a KoboToolbox export with labels (question texts) as headers, not XML names; "
        'export it again in KoboToolbox under Data → Downloads with Value and header format "XML '
        'values and headers"'
    ),
    "missing_form_column": gettext_lazy("the file has no column '%(column)s' (form '%(form)s' asks it)"),
    "missing_screening_column": gettext_lazy(
        "the file has no column '%(column)s' (form '%(form)s' asks it); if this is a KoboToolbox "
        "export with labels as headers, export it again in KoboToolbox under Data → Downloads with "
        'Value and header format "XML values and headers"'
    ),
    "kobo_label_values": gettext_lazy(
        "the answers are labels ('%(value)s'), not the codes 0–4; this looks like a KoboToolbox "
        "export with label values: export it again in KoboToolbox under Data → Downloads with "
        'Value and header format "XML values and headers"'
    ),
    "submission_id_too_long": gettext_lazy(
        "the submission id has %(found)s characters; at most %(allowed)s are kept"
    ),
    "not_a_timestamp": gettext_lazy("'%(value)s' is not a timestamp such as 2024-10-01 09:15:00+07:00"),
    "not_yes_no": gettext_lazy("'%(value)s' is not yes or no (ya/tidak, 1/0, true/false)"),
    "not_an_answer": gettext_lazy("'%(value)s' is not an answer 0, 1, 2, 3 or 4"),
    "not_an_age_band": gettext_lazy("'%(value)s' is not an age band: %(bands)s"),
    "not_a_sex": gettext_lazy("'%(value)s' is not f or m (perempuan/laki-laki)"),
    "not_a_review_state": gettext_lazy(
        "'%(value)s' is not a review state (approved, rejected, on hold, has issues, edited)"
    ),
    "zip_damaged": gettext_lazy("the zip is damaged or unreadable (%(detail)s)"),
    "zip_too_many_files": gettext_lazy("the zip holds %(found)s files, more than the limit of %(allowed)s"),
    "zip_not_odk": gettext_lazy(
        "the zip is not an ODK Central export: it needs one main CSV (its CSV files: %(files)s); "
        "upload the CSV itself or the zip as ODK Central downloads it"
    ),
    "zip_csv_too_large": gettext_lazy("%(file)s in the zip unpacks to more than the limit of %(limit)s"),
    "unknown_form": gettext_lazy("framework %(framework)s has no form '%(form)s' (its forms: %(forms)s)"),
    "unknown_form_of_mode": gettext_lazy(
        "framework %(framework)s has no %(mode)s form '%(form)s' (its forms: %(forms)s)"
    ),
    "ambiguous_form": gettext_lazy(
        "'%(form)s' is both a dimension and a sub-dimension; say which with the mode"
    ),
    # Weighting (engine.survey.weighting).
    "no_responses_to_weight": gettext_lazy("there are no responses to weight"),
    "no_weighting_column": gettext_lazy("the responses have no column '%(column)s' to weight by"),
    "empty_category": gettext_lazy(
        "the value is empty; raking needs every respondent's category (drop or impute it first)"
    ),
    "category_without_share": gettext_lazy(
        "category '%(value)s' has no positive share in the margins of '%(column)s'"
    ),
    "margin_totals_differ": gettext_lazy(
        "the margins of %(low)s and %(high)s have different totals (%(low_total)s and "
        "%(high_total)s), so no weights can meet both; give every margin as shares of the same "
        "population"
    ),
    "category_without_respondent": gettext_lazy(
        "no respondent has %(column)s = '%(category)s', but its target is %(target)s; merge it "
        "with a neighbouring category"
    ),
    "margins_conflict": gettext_lazy(
        "the margins of %(column)s and %(other)s conflict on these respondents: no respondent is in "
        "%(cells)s, so every respondent with %(column)s in %(categories)s has %(other)s in "
        "%(linked)s, which hold %(have)s of the population, but they must hold %(need)s; merge "
        "categories or collect the missing respondents"
    ),
    "margins_tight": gettext_lazy(
        "the margins of %(column)s and %(other)s conflict on these respondents: every respondent "
        "with %(column)s in %(categories)s has %(other)s in %(linked)s, which hold %(have)s of the "
        "population, exactly what they must hold, so the respondents in %(cells)s would need "
        "weight 0, which raking cannot give; merge categories or collect the missing respondents"
    ),
    "raking_not_converged": gettext_lazy(
        "raking did not meet the margins in %(sweeps)s sweeps (tolerance %(tol)s); still off "
        "(weighted / target): %(off)s. The sample may leave some categories nearly empty: merge "
        "categories"
    ),
}


def where(row: int | None, column: str | None) -> str:
    """ "row 4, column 'region'" in the page's language; empty when neither is known."""
    places = (
        _("row %(row)s") % {"row": row} if row else "",
        _("column '%(column)s'") % {"column": column} if column else "",
    )
    return ", ".join(p for p in places if p)


def message_text(exc: CityevalError) -> str:
    """The error's message without its place, translated when it has a known code.

    An error that counts further bad values (``more``, with the row and column of the next
    few in ``others``) says them after the message, as the English one does.
    """
    code = getattr(exc, "code", None)
    params = getattr(exc, "params", None) or {}
    template = MESSAGES.get(code or "")
    if template is None:
        return getattr(exc, "reason", None) or str(exc)
    message = str(template) % params
    more = params.get("more")
    if isinstance(more, int) and more > 0:
        message += _more_bad_values(more, params.get("others") or [])
    return message


def _more_bad_values(more: int, others: Sequence[Sequence[object]]) -> str:
    places = "; ".join(where(row, column) for row, column in others)  # type: ignore[arg-type]
    if more > len(others):
        places += "; …"
    template = ngettext(" (%(n)d more bad value: %(places)s)", " (%(n)d more bad values: %(places)s)", more)
    return template % {"n": more, "places": places}


def input_error_text(exc: CityevalError) -> str:
    """The error as a page shows it: place, then the message, translated when it has a code.
    A place the translated message already names (the line of a byte that is not UTF-8, a
    missing column) is not said twice."""
    message = message_text(exc)
    row, column = getattr(exc, "row", None), getattr(exc, "column", None)
    params = getattr(exc, "params", None) or {}
    if getattr(exc, "code", None) in MESSAGES:  # a translated message naming its own place
        row = None if row is not None and params.get("line") == row else row
        column = None if column is not None and params.get("column") == column else column
    place = where(row, column)
    return f"{place}: {message}" if place else message
