"""XLSForm files for KoboToolbox and ODK Central, and their validation with pyxform/ODK Validate.

A form is written as an XLSX workbook with the three XLSForm sheets (``survey``, ``choices``,
``settings``), Indonesian first (the default language) with English beside it. The layout
follows the XLSForm specification (https://xlsform.org/en/): ``label::Language (code)``
columns, ``relevant`` to show the statements only to users of the service, ``start``/``end``
metadata; pyxform adds ``meta/instanceID`` itself, which both servers export as the
submission id.

The same form always gives the same bytes (the workbook's creation date is fixed), so a form
version can be recognised by its hash.
"""

from __future__ import annotations

import io
import shutil
from datetime import datetime

import xlsxwriter

from cityeval.engine.framework import Framework, Label
from cityeval.engine.survey.errors import XLSFormError
from cityeval.engine.survey.forms import (
    AGE,
    AGE_BANDS,
    ANSWER_LABELS,
    ASSISTED,
    DISTRICT,
    END,
    IDENTITY,
    SCREEN,
    SEX,
    SEXES,
    START,
    FormSpec,
    question_name,
)

__all__ = ["LANGUAGES", "XLSFormError", "form_id", "validate_xlsform", "xlsform_bytes"]

ID, EN = "Indonesian (id)", "English (en)"
LANGUAGES = (ID, EN)
_USER = f"${{{SCREEN}}} = 'yes'"
_FIXED_DATE = datetime(2024, 1, 1)

_SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{ID}",
    f"label::{EN}",
    f"hint::{ID}",
    f"hint::{EN}",
    "required",
    "relevant",
    "appearance",
    "constraint",
    f"constraint_message::{ID}",
    f"constraint_message::{EN}",
)

_YES_NO = {"yes": Label(id="Ya", en="Yes"), "no": Label(id="Tidak", en="No")}


def form_id(form: FormSpec) -> str:
    """The XLSForm ``form_id`` of a form: ``cityeval_<code>``."""
    return f"cityeval_{form.code}"


def xlsform_bytes(
    form: FormSpec, framework: Framework, *, title: str | None = None, version: str | None = None
) -> bytes:
    """The XLSForm of ``form`` as XLSX bytes (``form_id = "cityeval_<form.code>"``).

    Order: ``start``/``end`` metadata, the screening question :data:`SCREEN`, then — only when
    it is answered "yes" (XLSForm ``relevant``) — the statements on the 0–4 scale, the
    demographics (when ``form.demographics``), the optional phone number and the "assisted"
    question. A respondent who answers "no" sees a closing note and nothing else. ``title``
    defaults to "Survei dampak Smart City: <Indonesian label of the (sub-)dimension>";
    ``version`` (settings ``version``) defaults to none, letting the server stamp one.
    """
    statements = framework.statements_by_code
    unknown = [s for s in form.statements if s not in statements]
    if unknown:
        raise ValueError(f"form {form.code!r}: no statement {unknown[0]!r} in framework {framework.code}")
    rows = _survey_rows(form, framework)
    choices = _choice_rows()
    settings = {
        "form_title": title or f"Survei dampak Smart City: {_subject(form, framework).id}",
        "form_id": form_id(form),
        "default_language": ID,
    }
    if version is not None:
        settings["version"] = version
    buffer = io.BytesIO()
    # Labels are user text: no formulas and no live links (xlsxwriter makes both by default).
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties({"created": _FIXED_DATE})
    _write_sheet(workbook, "survey", list(_SURVEY_COLUMNS), rows)
    _write_sheet(workbook, "choices", ["list_name", "name", f"label::{ID}", f"label::{EN}"], choices)
    _write_sheet(workbook, "settings", list(settings), [settings])
    workbook.close()
    return buffer.getvalue()


def _subject(form: FormSpec, framework: Framework) -> Label:
    for dim in framework.dimensions:
        if dim.code == form.dimension:
            if form.subdimension is None:
                return dim.label
            for sub in dim.subdimensions:
                if sub.code == form.subdimension:
                    return sub.label
    raise ValueError(f"form {form.code!r}: no dimension/sub-dimension of that code in {framework.code}")


def _row(kind: str, name: str, label: Label | None = None, **extra: str) -> dict[str, str]:
    row = {"type": kind, "name": name, **extra}
    if label is not None:
        row[f"label::{ID}"], row[f"label::{EN}"] = label.id, label.en
    return row


def _survey_rows(form: FormSpec, framework: Framework) -> list[dict[str, str]]:
    statements = framework.statements_by_code
    rows = [
        _row("start", START),
        _row("end", END),
        _row(
            "select_one yes_no",
            SCREEN,
            Label(
                id="Apakah Anda pernah menggunakan layanan atau program yang dimaksud survei ini?",
                en="Have you used the service or programme this survey is about?",
            ),
            required="yes",
            **_hint(
                Label(
                    id="Hanya pengguna layanan yang menjawab pernyataan berikutnya.",
                    en="Only users of the service answer the statements that follow.",
                )
            ),
        ),
        _row(
            "note",
            "thanks_non_user",
            Label(
                id="Terima kasih. Survei ini hanya untuk pengguna layanan; silakan kirim formulir.",
                en="Thank you. This survey is for users of the service only; please submit the form.",
            ),
            relevant=f"${{{SCREEN}}} = 'no'",
        ),
    ]
    scale = Label(
        id="0 = Sangat tidak setuju … 4 = Sangat setuju",
        en="0 = Strongly disagree … 4 = Strongly agree",
    )
    for code in form.statements:
        label = statements[code][2].label
        rows.append(
            _row(
                "select_one agreement",
                question_name(code),
                label,
                required="yes",
                relevant=_USER,
                appearance="likert",
                **_hint(scale),
            )
        )
    if form.demographics:
        rows += [
            _row("select_one age_band", AGE, Label(id="Kelompok umur", en="Age group"), relevant=_USER),
            _row("select_one sex", SEX, Label(id="Jenis kelamin", en="Sex"), relevant=_USER),
            _row(
                "text",
                DISTRICT,
                Label(id="Kecamatan tempat tinggal", en="District (kecamatan) of residence"),
                relevant=_USER,
            ),
        ]
    rows += [
        _row(
            "text",
            IDENTITY,
            Label(id="Nomor HP (opsional)", en="Mobile number (optional)"),
            relevant=_USER,
            appearance="numbers",
            constraint="regex(., '^[+]?[0-9 -]{8,20}$')",
            **_hint(
                Label(
                    id="Hanya untuk mengenali responden ganda; disimpan sebagai kode acak, bukan nomornya.",
                    en="Only to recognise repeated respondents; kept as a salted hash, never the number.",
                )
            ),
            **_constraint_message(
                Label(
                    id="Tulis 8–20 angka, misalnya 0812 3456 7890.",
                    en="Write 8–20 digits, e.g. 0812 3456 7890.",
                )
            ),
        ),
        _row(
            "select_one yes_no",
            ASSISTED,
            Label(
                id="Apakah survei ini diisi dengan bantuan petugas?",
                en="Was this survey filled in with an enumerator's help?",
            ),
            required="yes",
            relevant=_USER,
        ),
    ]
    return rows


def _hint(label: Label) -> dict[str, str]:
    return {f"hint::{ID}": label.id, f"hint::{EN}": label.en}


def _constraint_message(label: Label) -> dict[str, str]:
    return {f"constraint_message::{ID}": label.id, f"constraint_message::{EN}": label.en}


def _choice_rows() -> list[dict[str, str]]:
    def choice(list_name: str, name: str, label: Label) -> dict[str, str]:
        return {"list_name": list_name, "name": name, f"label::{ID}": label.id, f"label::{EN}": label.en}

    rows = [choice("yes_no", name, label) for name, label in _YES_NO.items()]
    rows += [choice("agreement", str(value), label) for value, label in ANSWER_LABELS.items()]
    rows += [choice("age_band", band, Label(id=f"{band} tahun", en=f"{band} years")) for band in AGE_BANDS]
    rows += [choice("sex", name, label) for name, label in SEXES.items()]
    return rows


def _write_sheet(
    workbook: xlsxwriter.Workbook, name: str, columns: list[str], rows: list[dict[str, str]]
) -> None:
    sheet = workbook.add_worksheet(name)
    sheet.write_row(0, 0, columns)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, [row.get(c, "") for c in columns])


def validate_xlsform(data: bytes, *, odk_validate: bool = True) -> None:
    """Convert an XLSForm with pyxform and, with ``odk_validate``, check it with ODK Validate.

    Raises :class:`XLSFormError` with pyxform's or ODK Validate's message when the form does not
    convert or validate, or when ODK Validate cannot run because Java is not installed (the
    ODK Validate jar ships with pyxform; Java 8 or newer must be on the PATH).
    """
    from pyxform.errors import PyXFormError  # type: ignore[import-untyped]
    from pyxform.validators.odk_validate import ODKValidateError  # type: ignore[import-untyped]
    from pyxform.xls2xform import convert  # type: ignore[import-untyped]

    if odk_validate and shutil.which("java") is None:
        raise XLSFormError(
            "ODK Validate needs Java (8 or newer), which is not installed or not on the PATH; "
            "install a Java runtime (e.g. apt-get install default-jre-headless) or skip ODK Validate"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise XLSFormError("not an XLSForm: the file is not an XLSX workbook")
    warnings: list[str] = []
    try:
        convert(xlsform=data, validate=odk_validate, warnings=warnings, file_type=".xlsx")
    except (PyXFormError, ODKValidateError) as exc:
        raise XLSFormError(str(exc)) from None
    except Exception as exc:  # the XLSX reader raises its own errors on a file that is not XLSX
        raise XLSFormError(f"not a readable XLSForm ({exc})") from None
    stalled = [w for w in warnings if w.startswith(("XForm took", "Bad return code"))]
    if stalled:
        raise XLSFormError(f"ODK Validate did not finish: {stalled[0]}")
