"""Reading survey responses exported by KoboToolbox, ODK Central or cityeval's template.

Three layouts are read, all with XML names (question names) as headers, not labels:

- **KoboToolbox** (CSV or XLSX export with "XML values and headers"; CSV uses ``;`` by default):
  one column per question, prefixed by its groups as ``group/question`` (or ``group.question``
  with the ``.`` group separator); ``_uuid`` is the submission id (``meta/instanceID`` without
  ``uuid:``), with ``_submission_time``, ``_id``, ``_validation_status``…
- **ODK Central** (CSV export, or the ``.csv.zip`` as downloaded): group prefixes joined by
  ``-`` (``meta-instanceID``); ``KEY`` is the submission id (``uuid:…``), with
  ``SubmissionDate``, ``SubmitterName``, ``ReviewState``…
- **cityeval's template** (:func:`template_csv`): ``response_id, start, end, used_service,
  s_…, age_band, sex, district, phone, assisted`` (and optionally ``review_state``).

A header is matched by its last segment (after ``/``, ``-``, ``.`` or ``:``), case-insensitively.
CSV (UTF-8, separated by ``,``, ``;`` or tab), XLSX (first sheet) and ODK Central's zip (the
main submissions CSV inside it, not the repeat-group CSVs or media) are told apart by content.
A KoboToolbox export with labels instead of XML names is recognised and refused with the
export setting to use instead.

**Review state.** Reviewers can mark submissions in both tools; the mark is kept, normalised,
in ``review_state``: ODK Central ``ReviewState`` (blank = received, ``hasIssues``, ``edited``,
``approved``, ``rejected``) and KoboToolbox ``_validation_status``
(``validation_status_approved``, ``…_not_approved``, ``…_on_hold``, or their labels Approved,
Not Approved, On Hold) become ``approved``, ``rejected``, ``on_hold``, ``has_issues``,
``edited`` or null. Rejected rows are read and kept like any other (raw data is never
dropped); :func:`~cityeval.engine.survey.check_responses` excludes them from the statistics.

Output: one row per submission, all rows kept (duplicates are for :mod:`quality` to flag):

============== ================= ===========================================================
response_id    String            the submission id, ``uuid:`` prefix removed
form           String            ``form.code``
started_at     Datetime(us, UTC) ``start``; null when absent
ended_at       Datetime(us, UTC) ``end``; null when absent
used_service   Boolean           the screening answer; null when blank
s_<statement>  Int8              one per statement of the form, 0–4 or null
age_band       String            one of :data:`AGE_BANDS` or null
sex            String            ``"f"``, ``"m"`` or null
district       String            free text or null
identity_hash  String            hex sha256(salt + normalised phone digits), or null
assisted       Boolean           null when blank
review_state   String            one of :data:`REVIEW_STATES` or null (not reviewed)
============== ================= ===========================================================

Timestamps with an offset (``+07:00``, ``Z``) are converted to UTC; timestamps without one are
read as UTC, which keeps durations right when both ends are written alike. Phone numbers are
normalised to digits with the Indonesian country code (``0812…``, ``+62 812…``, ``812…`` →
``62812…``) before hashing, and the raw number never leaves this module.

Rows are numbered as a spreadsheet shows them (header = row 1), which for CSV is the line
number when no value spans lines. All checks run column-wise; an :class:`InputError` names the
row and column of the first problem and counts the others. Every such error also carries a
``code`` and ``params`` (``not_an_answer`` with ``{"value": "5"}``, plus ``more`` and ``others``
when it counts further bad values) from which the web says it in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.limits import (
    DEFAULT_LIMITS,
    ReadLimits,
    check_bytes,
    check_csv_header,
    check_loaded,
    check_size,
)
from cityeval.engine.spreadsheet import write_csv
from cityeval.engine.survey.archives import ZIP_MAX_CSV_BYTES, ZIP_MAX_MEMBERS, is_xlsx, main_csv
from cityeval.engine.survey.forms import (
    AGE,
    AGE_BANDS,
    ANSWER_LABELS,
    ANSWERS,
    ASSISTED,
    DISTRICT,
    END,
    IDENTITY,
    RESPONSE_ID,
    SCREEN,
    SEX,
    START,
    FormSpec,
)
from cityeval.engine.survey.timestamps import fill_unparsed, timestamps_expr
from cityeval.engine.tables import (
    check_repeated_header,
    few_distinct,
    malformed_csv,
    short_row_error,
)

__all__ = ["REVIEW_STATES", "Kind", "read_responses", "response_columns", "template_csv"]

Kind = Literal["auto", "kobo", "odk", "template"]

_ROW = "__row__"
_ROOT_ID = "__root_id__"
_REVIEW_COL = "__review__"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SHOWN_PROBLEMS = 5
_UTC = pl.Datetime("us", "UTC")
# Group separators of the exporters: KoboToolbox "/" (its default) or whatever the exporting user
# chose ("." and ":" are the usual alternatives), ODK Central "-". Question names never hold them.
_GROUP_SEPARATORS = re.compile(r"[/.:-]")
_KOBO_LABELS_HINT = (
    "export it again in KoboToolbox under Data → Downloads with Value and header format "
    '"XML values and headers"'
)

REVIEW_STATES = ("approved", "rejected", "on_hold", "has_issues", "edited")
# Reviewers' marks by header key: ODK Central ReviewState, KoboToolbox _validation_status (its
# status uid or label), cityeval's template review_state.
_REVIEW_KEYS = {"odk": "reviewstate", "kobo": "_validation_status", "template": "review_state"}
_REVIEW_VALUES = {
    "approved": "approved", "rejected": "rejected", "hasissues": "has_issues", "has_issues": "has_issues",
    "edited": "edited", "on_hold": "on_hold",
    "validation_status_approved": "approved", "validation_status_not_approved": "rejected",
    "validation_status_on_hold": "on_hold", "not approved": "rejected", "on hold": "on_hold",
}  # fmt: skip

# Where each exporter keeps the submission id, by header key (last segment, lower case).
_ID_KEYS: dict[str, tuple[str, ...]] = {
    "kobo": ("_uuid", "instanceid"),
    "odk": ("key", "instanceid"),
    "template": (RESPONSE_ID,),
}
_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kobo", ("_uuid", "_submission_time", "_id")),
    ("odk", ("key", "submissiondate")),
    ("template", (RESPONSE_ID,)),
)
_YES_NO = {
    "yes": True, "ya": True, "y": True, "true": True, "1": True, "1.0": True,
    "no": False, "tidak": False, "n": False, "false": False, "0": False, "0.0": False,
}  # fmt: skip
_SEX = {
    "f": "f", "female": "f", "perempuan": "f", "p": "f", "wanita": "f",
    "m": "m", "male": "m", "laki-laki": "m", "l": "m", "pria": "m",
}  # fmt: skip


def response_columns(form: FormSpec) -> dict[str, pl.DataType]:
    """The normalised schema :func:`read_responses` returns for ``form``, in column order."""
    utc = _UTC
    return {
        "response_id": pl.String(),
        "form": pl.String(),
        "started_at": utc,
        "ended_at": utc,
        "used_service": pl.Boolean(),
        **{q: pl.Int8() for q in form.questions},
        "age_band": pl.String(),
        "sex": pl.String(),
        "district": pl.String(),
        "identity_hash": pl.String(),
        "assisted": pl.Boolean(),
        "review_state": pl.String(),
    }


def template_csv(form: FormSpec) -> bytes:
    """The header row (UTF-8 CSV) of cityeval's plain template for ``form``.

    Answers are written as their codes: 0–4 for statements, yes/no (or ya/tidak) for
    ``used_service`` and ``assisted``, a band such as ``25-34`` for ``age_band``, f/m for sex,
    and ISO timestamps such as ``2024-10-01 09:15:00+07:00`` for ``start``/``end``.
    """
    columns = [RESPONSE_ID, START, END, SCREEN, *form.questions]
    if form.demographics:
        columns += [AGE, SEX, DISTRICT]
    columns += [IDENTITY, ASSISTED]
    return write_csv(pl.DataFrame(schema=dict.fromkeys(columns, pl.String))).encode("utf-8")


def read_responses(
    source: str | Path | bytes,
    *,
    form: FormSpec,
    kind: Kind = "auto",
    identity_salt: str,
    limits: ReadLimits = DEFAULT_LIMITS,
    max_id_length: int | None = None,
    zip_max_members: int = ZIP_MAX_MEMBERS,
    zip_max_csv_bytes: int = ZIP_MAX_CSV_BYTES,
) -> pl.DataFrame:
    """Read a CSV or XLSX export of ``form`` into the normalised table described above.

    ``source`` is a path or the file's bytes. ``kind`` names the exporter; ``"auto"``
    recognises it from the headers (``_uuid`` → KoboToolbox, ``KEY``/``SubmissionDate`` → ODK
    Central, ``response_id`` → template). ``identity_salt`` (non-empty, secret, the same for
    every form of a region's survey so that respondents can be matched across forms) salts
    the phone-number hash. ``zip_max_members`` and ``zip_max_csv_bytes`` bound an ODK Central
    zip: more members, or a main CSV whose unpacked size is larger, is refused before reading.

    Required columns: the submission id, ``used_service``, every statement of the form and,
    when ``form.demographics``, ``age_band``, ``sex`` and ``district``; ``start``, ``end``,
    ``phone`` and ``assisted`` may be absent (read as null). Raises :class:`InputError` naming
    the row and column of the first problem: a missing column, an answer outside 0–4 or not a
    number, an unrecognised yes/no (accepted: yes/no, ya/tidak, y/n, true/false, 1/0), sex,
    age band or review state, an unparseable timestamp, a blank submission id, a row with fewer
    values than the header, a file that is not UTF-8, a KoboToolbox export with labels instead
    of XML names and values, or a zip without one main CSV. A file over ``limits`` raises
    :class:`~cityeval.engine.limits.LimitError` before it is parsed (an ODK Central zip's main
    CSV is also held to ``zip_max_members`` and ``zip_max_csv_bytes``); with ``max_id_length``,
    a submission id longer than that many characters (``uuid:`` removed) is refused too.
    """
    if not identity_salt:
        raise ValueError("identity_salt must be a non-empty secret")
    if kind not in ("auto", *_ID_KEYS):
        raise ValueError(f"kind must be one of auto, kobo, odk, template, not {kind!r}")
    data, name = _load(source, limits)
    try:
        check_bytes(data, limits)
        raw, distinct = _read_raw(
            data, limits, zip_max_members=zip_max_members, zip_max_csv_bytes=zip_max_csv_bytes
        )
        del data  # a file's bytes read from its path: not kept while the columns are parsed
        columns = _locate_columns(raw.columns, form, kind)
        _refuse_value_labels(raw, columns, form, distinct)
        if max_id_length is not None:
            _check_id_length(raw, [columns[RESPONSE_ID], columns.get(_ROOT_ID)], max_id_length)
        parsed = _normalise(raw, columns, form, distinct)
        del raw, distinct  # every column's text: not kept while the identities are hashed (peak memory)
        return _with_identities(parsed, form, identity_salt)
    except InputError as exc:
        raise (exc.with_source(name) if name else exc) from None


def _check_id_length(raw: pl.DataFrame, headers: list[str | None], longest: int) -> None:
    """Refuse the first submission id longer than the store keeps (a database column)."""
    for header in filter(None, headers):
        length = pl.col(header).str.strip_prefix("uuid:").str.len_chars()
        hit = raw.filter(length > longest).head(1)
        if hit.height:
            found = len(hit[header][0].removeprefix("uuid:"))
            message = f"the submission id has {found} characters; at most {longest} are kept"
            params = {"found": found, "allowed": longest}
            raise InputError(
                message, row=hit[_ROW][0], column=header, code="submission_id_too_long", params=params
            )


# --- reading -----------------------------------------------------------------------------------


def _load(source: str | Path | bytes, limits: ReadLimits) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    path = Path(source)
    try:
        check_size(path.stat().st_size, limits)  # before the file is read into memory
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path), code="file_not_found") from None
    except OSError as exc:
        message = f"cannot read the file ({exc.strerror})"
        params = {"reason": exc.strerror}
        raise InputError(message, source=str(path), code="file_unreadable", params=params) from None


def _read_raw(
    data: bytes, limits: ReadLimits, *, zip_max_members: int, zip_max_csv_bytes: int
) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Every column as stripped text ("" → null), blank rows dropped, row numbers in ``_ROW``;
    and the distinct values (without null) of the columns that have few, found once here for
    every later step that looks at a column through them."""
    if data.startswith(_ZIP_MAGIC) and not is_xlsx(data):
        bound = min(zip_max_csv_bytes, limits.max_unpacked_bytes)
        csv_bytes = main_csv(data, max_members=min(zip_max_members, limits.max_members), max_bytes=bound)
        check_csv_header(csv_bytes, limits)
        table = _read_csv(csv_bytes, limits)
    elif data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC):
        table = _read_excel(data, limits)
    else:
        table = _read_csv(data, limits)
    check_loaded(table.height, table.width, limits)
    table = table.with_columns(pl.all().cast(pl.String))
    # Only columns with a value to strip or a blank one are rewritten: a clean export's columns
    # are kept as read, not copied (polars already reads an empty field as null). A column of
    # few values (answers, yes/no, districts) is looked at through its distinct values.
    distinct = few_distinct(table) if table.height else {}
    columns = _dirty_columns(table, distinct)
    if columns:
        text = pl.col(columns).str.strip_chars()
        table = table.with_columns(pl.when(text != "").then(text))
        # A rewritten column's distinct values are no longer those found before.
        distinct = {name: values for name, values in distinct.items() if name not in columns}
    table = table.with_row_index(_ROW, offset=2).with_columns(pl.col(_ROW).cast(pl.Int64))
    if table.width > 1:
        blank = pl.all_horizontal(pl.exclude(_ROW).is_null())
        if table.select(blank.any()).item():
            table = table.filter(~blank)  # a blank row has no value: the distinct ones stay
    return table, distinct


def _dirty_columns(table: pl.DataFrame, distinct: dict[str, pl.Series]) -> list[str]:
    """The columns with a value to strip or a blank (``""``) one; ``distinct`` holds the
    distinct values of the columns that have few (:func:`few_distinct`)."""
    if not table.height:
        return []
    dirty = {name for name, values in distinct.items() if (values == "").any()}
    dirty |= {name for name, values in distinct.items() if not values.equals(values.str.strip_chars())}
    many = [name for name in table.columns if name not in distinct]
    if many:
        text = pl.col(many).str.strip_chars()
        found = ((text.str.len_bytes() != pl.col(many).str.len_bytes()) | (pl.col(many) == "")).any()
        # Streamed: each column is stripped a slice at a time, not copied whole (peak memory).
        hits = table.lazy().select(found).collect(engine="streaming")
        dirty |= {name for name, hit in hits.row(0, named=True).items() if hit}
    return [name for name in table.columns if name in dirty]


def _read_excel(data: bytes, limits: ReadLimits) -> pl.DataFrame:
    import fastexcel  # only XLSX needs it

    try:
        sheet = fastexcel.read_excel(data).load_sheet(0, dtypes="string", n_rows=limits.max_rows + 1)
    except Exception as exc:  # fastexcel raises its own exception family
        # fastexcel's messages run over several lines of context; the first says what failed.
        detail = str(exc).strip().splitlines()[0]
        raise InputError(
            f"not a readable spreadsheet ({detail})", code="not_a_spreadsheet", params={"detail": detail}
        ) from None
    return sheet.to_polars()


def _read_csv(data: bytes, limits: ReadLimits) -> pl.DataFrame:
    """Parse the bytes as they are: polars checks UTF-8 while it reads, and the text is decoded
    in Python only to name a problem (a 100 MB export is neither copied nor decoded)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data or data.isspace():
        raise InputError("the file is empty", code="empty_file")
    end = data.find(b"\n")
    header = data[:end] if end >= 0 else data
    separator = max((",", ";", "\t"), key=lambda s: header.count(s.encode()))
    try:
        # raise_if_empty=False: the bytes are known not to be empty, and polars' own check would
        # copy them all first (BytesIO.getbuffer unshares the buffer: the file's size again).
        table = pl.read_csv(
            data, separator=separator, infer_schema=False, n_rows=limits.max_rows + 1, raise_if_empty=False
        )
    except (pl.exceptions.ComputeError, pl.exceptions.DuplicateError) as exc:
        _decoded(data)  # not UTF-8 is the problem to name first
        raise malformed_csv(str(exc).splitlines()[0]) from None
    if table.height > limits.max_rows:
        _decoded(data)  # a file both too long and not UTF-8 is refused for its encoding first
    check_repeated_header(table.columns)
    # A short row reads as nulls at its end; only then is each row's length checked.
    if table.width and table.get_column(table.columns[-1]).null_count():
        problem = short_row_error(_decoded(data), separator)
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
            "export the data again as CSV UTF-8 or as XLSX",
            row=line,
            code="not_utf8",
            params={"byte": f"0x{data[exc.start]:02x}", "line": line},
        ) from None


def _key(header: str) -> str:
    """``"group/s_service_1"``, ``"group.s_service_1"`` (Kobo), ``"meta-instanceID"`` (ODK) → the
    question's own name."""
    return _GROUP_SEPARATORS.split(header)[-1].strip().lower()


def _locate_columns(headers: Sequence[str], form: FormSpec, kind: Kind) -> dict[str, str | None]:
    """Canonical name (``response_id``, ``start``, question names…) → the file's header."""
    by_key: dict[str, list[str]] = {}
    for header in headers:
        if header != _ROW:
            by_key.setdefault(_key(header), []).append(header)
    found: list[str] = [kind]
    if kind == "auto":
        found = [k for k, markers in _MARKERS if any(m in by_key for m in markers)]
        if not found:
            raise InputError(
                "cannot tell which tool exported this file: it has no column response_id (cityeval "
                "template), _uuid (KoboToolbox) or KEY (ODK Central); export it with XML names as headers",
                code="unknown_exporter",
            )
    exporter = found[0] if kind == "auto" else kind

    def pick(key: str) -> str | None:
        matches = by_key.get(key, [])
        if len(matches) > 1:
            message = f"two columns hold {key!r}: {matches[0]!r} and {matches[1]!r}"
            params = {"key": key, "first": matches[0], "second": matches[1]}
            raise InputError(message, column=matches[1], code="column_twice", params=params)
        return matches[0] if matches else None

    id_keys = _ID_KEYS[exporter]
    columns: dict[str, str | None] = {RESPONSE_ID: next((h for k in id_keys if (h := pick(k))), None)}
    if columns[RESPONSE_ID] is None:
        raise InputError(
            f"the file has no submission-id column ({' or '.join(id_keys)})",
            column=id_keys[0],
            code="no_submission_id_column",
            params={"columns": ", ".join(id_keys)},
        )
    required = [SCREEN, *form.questions] + ([AGE, SEX, DISTRICT] if form.demographics else [])
    for name in required:
        columns[name] = pick(name)
        if columns[name] is None:
            raise _missing_column(name, form, exporter, headers)
    for name in (START, END, IDENTITY, ASSISTED):
        columns[name] = pick(name)
    # KoboToolbox gives an edited submission a new _uuid/instanceID but keeps meta/rootUuid:
    # the root id, where present, is the response's identity, so a re-export after an edit
    # does not count the edited version as a new respondent.
    columns[_ROOT_ID] = pick("rootuuid") if exporter == "kobo" else None
    columns[_REVIEW_COL] = pick(_REVIEW_KEYS[exporter])
    return columns


def _missing_column(name: str, form: FormSpec, exporter: str, headers: Sequence[str]) -> InputError:
    """The error for a column the form asks that the file lacks; a KoboToolbox export with
    labels as headers is told to export XML names instead."""
    if exporter == "kobo" and _looks_like_labels(headers):
        return InputError(
            "this is a KoboToolbox export with labels (question texts) as headers, not XML "
            f"names; {_KOBO_LABELS_HINT}",
            code="kobo_label_headers",
        )
    message = f"the file has no column {name!r} (form {form.code!r} asks it)"
    params = {"column": name, "form": form.code}
    if exporter == "kobo" and name == SCREEN:  # every cityeval form asks it first
        message += f"; if this is a KoboToolbox export with labels as headers, {_KOBO_LABELS_HINT}"
        return InputError(message, column=name, code="missing_screening_column", params=params)
    return InputError(message, column=name, code="missing_form_column", params=params)


def _looks_like_labels(headers: Sequence[str]) -> bool:
    """Question labels are sentences; XML names never hold spaces or question marks."""
    return any(" " in h.strip() or "?" in h for h in headers if h != _ROW and not h.startswith("_"))


def _refuse_value_labels(
    raw: pl.DataFrame, columns: dict[str, str | None], form: FormSpec, distinct: dict[str, pl.Series]
) -> None:
    """A KoboToolbox "XML headers, label values" export writes "Setuju" where 3 is expected."""
    labels = [t.lower() for label in ANSWER_LABELS.values() for t in (label.id, label.en)]
    for question in form.questions:
        header = columns[question]
        if header is None:
            continue
        known = distinct.get(header)
        if known is not None and not known.str.to_lowercase().is_in(labels).any():
            continue  # no label among the column's distinct values: nothing to name
        # Each distinct answer once, in order of first appearance: the first label found is
        # still the first row's.
        values = raw.get_column(header).unique(maintain_order=True).drop_nulls().str.to_lowercase()
        hits = values.filter(values.is_in(labels))
        if hits.len():
            raise InputError(
                f"the answers are labels ({hits[0]!r}), not the codes 0–4; this looks like a KoboToolbox "
                f"export with label values: {_KOBO_LABELS_HINT}",
                column=header,
                code="kobo_label_values",
                params={"value": hits[0]},
            )


# --- normalising -------------------------------------------------------------------------------


def _normalise(
    raw: pl.DataFrame, columns: dict[str, str | None], form: FormSpec, distinct: dict[str, pl.Series]
) -> pl.DataFrame:
    """The response columns parsed and checked, phone numbers' digits (``__digits__``);
    ``distinct`` holds the distinct values of the columns that have few (from :func:`_read_raw`)."""

    def text(name: str) -> pl.Expr:
        header = columns.get(name)
        return pl.col(header) if header is not None else pl.lit(None, dtype=pl.String)

    def coded(name: str, decode: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        header = columns.get(name)
        if header is None:
            return decode(text(name))
        return _per_distinct(raw.get_column(header), distinct.get(header), decode)

    parsed = raw.select(
        pl.col(_ROW),
        _response_id(raw, columns).alias("response_id"),
        pl.lit(form.code, dtype=pl.String).alias("form"),
        *[
            timestamps_expr(raw.get_column(header)).alias(target)
            if (header := columns.get(source)) is not None
            else pl.lit(None, dtype=_UTC).alias(target)
            for source, target in ((START, "started_at"), (END, "ended_at"))
        ],
        coded(SCREEN, _yes_no).alias("used_service"),
        *[coded(q, _answer).alias(q) for q in form.questions],
        coded(AGE, _age_band).alias("age_band"),
        coded(SEX, _sex).alias("sex"),
        text(DISTRICT).alias("district"),
        _digits(raw, columns.get(IDENTITY)).alias("__digits__"),
        coded(ASSISTED, _yes_no).alias("assisted"),
        coded(_REVIEW_COL, _review_state).alias("review_state"),
    )
    parsed = parsed.with_columns(
        *(
            fill_unparsed(parsed.get_column(target), raw.get_column(header))
            for source, target in ((START, "started_at"), (END, "ended_at"))
            if (header := columns.get(source)) is not None
        )
    )
    _raise_problems(raw, parsed, columns, form)
    return parsed


def _response_id(raw: pl.DataFrame, columns: dict[str, str | None]) -> pl.Expr:
    """The submission id (KoboToolbox's root id where it has one), ``uuid:`` removed; a column
    without a root id and with no ``uuid:`` to remove is taken as it is, not copied."""
    header = columns[RESPONSE_ID] or RESPONSE_ID
    root = columns.get(_ROOT_ID)
    if root is None:
        if not raw.select(pl.col(header).str.starts_with("uuid:").any()).item():
            return pl.col(header)
        return pl.col(header).str.strip_prefix("uuid:")
    root_id = pl.col(root)
    return pl.coalesce(
        pl.when(root_id.str.strip_chars() != "").then(root_id), pl.col(header)
    ).str.strip_prefix("uuid:")


def _per_distinct(
    values: pl.Series, distinct: pl.Series | None, decode: Callable[[pl.Expr], pl.Expr]
) -> pl.Expr:
    """``decode`` of the column ``values`` (which must give a null for a null), worked out once
    per distinct value when there are few and looked up per row, as
    :func:`~cityeval.engine.tables.per_distinct` does; ``distinct`` are those values when
    already known.

    When every distinct value decodes to a value, a cheaper expression that gives each of
    them the same value does, rather than a lookup per row: the column itself when each value
    decodes to itself (age bands, sexes as the template writes them), a plain cast when each
    is the number it decodes to (answers written 0–4), a comparison with the one value that
    decodes to false, or to true (yes/no).
    """
    column = pl.col(values.name)
    if distinct is None:
        distinct = values.unique().drop_nulls()
    if not distinct.len() or distinct.len() > max(len(values) // 8, 64):
        return decode(column)
    decoded = pl.select(decode(pl.lit(distinct)).alias("decoded")).to_series()
    if not decoded.null_count():
        if decoded.dtype == distinct.dtype and decoded.equals(distinct):
            return column
        if decoded.dtype.is_integer() and distinct.cast(decoded.dtype, strict=False).equals(decoded):
            return column.cast(decoded.dtype)
        if decoded.dtype == pl.Boolean:
            falses, trues = distinct.filter(~decoded), distinct.filter(decoded)
            if falses.len() == 1:
                return column != falses[0]
            if trues.len() == 1:
                return column == trues[0]
    return column.replace_strict(distinct, decoded, default=None, return_dtype=decoded.dtype)


def _with_identities(parsed: pl.DataFrame, form: FormSpec, salt: str) -> pl.DataFrame:
    hashes = _hash_identities(parsed.get_column("__digits__"), salt)
    return parsed.with_columns(hashes.alias("identity_hash")).select(list(response_columns(form)))


def _yes_no(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(_YES_NO, default=None, return_dtype=pl.Boolean)


def _answer(text: pl.Expr) -> pl.Expr:
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_in(ANSWERS)).then(value).cast(pl.Int8)


def _age_band(text: pl.Expr) -> pl.Expr:
    band = text.str.replace_all(r"[\s]", "").str.replace_all("–", "-")
    return pl.when(band.is_in(AGE_BANDS)).then(band)


def _sex(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(_SEX, default=None, return_dtype=pl.String)


def _review_state(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(_REVIEW_VALUES, default=None, return_dtype=pl.String)


class _Expected(NamedTuple):
    """What a column must hold: the English words (``'x' is not <text>``) and the error's code."""

    text: str
    code: str


_TIMESTAMP = _Expected(text="a timestamp such as 2024-10-01 09:15:00+07:00", code="not_a_timestamp")
_YES_OR_NO = _Expected(text="yes or no (ya/tidak, 1/0, true/false)", code="not_yes_no")
_AN_ANSWER = _Expected(text="an answer 0, 1, 2, 3 or 4", code="not_an_answer")
_AN_AGE_BAND = _Expected(text="an age band: " + ", ".join(AGE_BANDS), code="not_an_age_band")
_A_SEX = _Expected(text="f or m (perempuan/laki-laki)", code="not_a_sex")
_A_REVIEW_STATE = _Expected(
    text="a review state (approved, rejected, on hold, has issues, edited)", code="not_a_review_state"
)


def _raise_problems(
    raw: pl.DataFrame, parsed: pl.DataFrame, columns: dict[str, str | None], form: FormSpec
) -> None:
    """Find every bad value column-wise; raise one InputError for the first, counting the rest.

    A value is bad when the source text is present but its parsed value is null (or, for the
    submission id, when it is blank). The error's code says what the first value should have
    been; its params hold the value, and ``more`` (how many other bad values) with ``others``
    (the row and column of the next few) when there are more.
    """
    checks: list[tuple[str, str, _Expected]] = [  # (canonical source, parsed column, expected)
        (START, "started_at", _TIMESTAMP),
        (END, "ended_at", _TIMESTAMP),
        (SCREEN, "used_service", _YES_OR_NO),
        *[(q, q, _AN_ANSWER) for q in form.questions],
        (AGE, "age_band", _AN_AGE_BAND),
        (SEX, "sex", _A_SEX),
        (ASSISTED, "assisted", _YES_OR_NO),
        (_REVIEW_COL, "review_state", _A_REVIEW_STATE),
    ]
    masks: dict[str, pl.Series] = {}
    for source, target, _ in checks:
        header = columns.get(source)
        if header is not None:
            masks[header] = raw.get_column(header).is_not_null() & parsed.get_column(target).is_null()
    id_header = columns[RESPONSE_ID] or RESPONSE_ID
    frame = pl.DataFrame({h: m for h, m in masks.items()} | {"__id__": parsed["response_id"].is_null()})
    counts = frame.sum().row(0, named=True)
    if not any(counts.values()):
        return
    expected = {columns.get(s): e for s, _, e in checks}
    problems: list[tuple[int, int, str, str | None]] = []  # (row, column order, header, bad value)
    for order, (header, count) in enumerate(counts.items()):
        if not count:
            continue
        hits = raw.filter(frame.get_column(header)).head(_SHOWN_PROBLEMS)
        if header == "__id__":
            for row in hits.get_column(_ROW).to_list():
                problems.append((row, order, id_header, None))
            continue
        for row, value in hits.select(_ROW, header).iter_rows():
            problems.append((row, order, header, value))
    problems.sort()
    row, _, header, value = problems[0]
    error = _bad_value(value, expected.get(header))
    total = sum(counts.values())
    message, params = error.reason, error.params
    if total > 1:
        shown = problems[1:_SHOWN_PROBLEMS]
        others = "; ".join(f"row {r}, column {h!r}" for r, _, h, _ in shown)
        more = "; …" if total - 1 > len(shown) else ""
        message += f" ({total - 1} more bad value{'s' if total > 2 else ''}: {others}{more})"
        params |= {"more": total - 1, "others": [(r, h) for r, _, h, _ in shown]}
    raise InputError(message, row=row, column=header, code=error.code, params=params)


def _bad_value(value: str | None, expected: _Expected | None) -> InputError:
    """The error for one bad value (without its place); a blank value is a blank submission id."""
    if value is None or expected is None:
        return InputError("the submission id is empty", code="empty_value")
    params: dict[str, object] = {"value": value}
    if expected is _AN_AGE_BAND:
        params["bands"] = ", ".join(AGE_BANDS)
    return InputError(f"{value!r} is not {expected.text}", code=expected.code, params=params)


def _digits(raw: pl.DataFrame, header: str | None) -> pl.Expr:
    """The digits of the phone numbers in the column ``header`` (``""`` without any), the
    column itself when it holds digits only."""
    if header is None:
        return pl.lit(None, dtype=pl.String)
    if raw.select(pl.col(header).str.contains(r"\D").any()).item():
        return _phone_text_digits(pl.col(header))
    return pl.col(header)


def _phone_text_digits(phone: pl.Expr) -> pl.Expr:
    """The digits of a phone number (``""`` without any)."""
    return phone.str.replace_all(r"\D", "")


def _country_code(digits: pl.Expr) -> pl.Expr:
    """A phone number's digits with the Indonesian country code (0812…, +62 812…, 812… →
    62812…), or null without digits: the one normalisation behind every identity hash."""
    return (
        pl.when(digits.str.starts_with("0"))
        .then(pl.lit("62") + digits.str.slice(1))
        .when(digits.str.starts_with("8"))
        .then(pl.lit("62") + digits)
        .when(digits != "")
        .then(digits)
    )


def identity_hash(phone: str | None, *, salt: str) -> str | None:
    """The salted hash of one phone number, exactly as :func:`read_responses` computes it for
    an imported row (so web and imported respondents match); None without digits."""
    digits = pl.DataFrame({"phone": [phone]}, schema={"phone": pl.String}).select(
        _phone_text_digits(pl.col("phone"))
    )
    return _hash_identities(digits.to_series(), salt)[0]


def _hash_identities(digits: pl.Series, salt: str) -> pl.Series:
    """hex sha256(salt + digits with the country code) per row, null without digits: SHA-256 of
    the UTF-8 bytes of the salt followed by :func:`_country_code` of a phone number's digits
    (:func:`_phone_text_digits`), computed in Rust by the polars-hash plugin (hashlib one value
    at a time cost about a second and a half per million numbers)."""
    import polars_hash  # imported here: only imports with phone numbers need it

    frame = pl.DataFrame({"digits": digits}, schema={"digits": pl.String}).lazy()
    salted = (pl.lit(salt, dtype=pl.String) + _country_code(pl.col("digits"))).alias("identity_hash")
    hashed = polars_hash.col("identity_hash").chash.sha2_256()
    # Streamed: a slice at a time, on every thread, so that the numbers with their country code
    # and salt are never all held at once (peak memory); only the hashes are.
    return frame.select(salted).select(hashed).collect(engine="streaming").to_series()
