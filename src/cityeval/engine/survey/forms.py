"""Survey forms of the citizens' impact survey (docs/domain.md §5) and the names their questions use.

Each region runs the survey per dimension in one of two **modes**:

- ``combined``: one form per dimension; each respondent answers the dimension's 9 statements
  (form code = the dimension code, e.g. ``governance``; 50 respondents per dimension);
- ``split``: one form per sub-dimension; each respondent answers its 3 statements (form code =
  the sub-dimension code, e.g. ``service``; 50 respondents per sub-dimension).

With the GMSC tree (6 dimensions × 3 sub-dimensions × 3 statements) all-split gives 18 forms of
3 statements and all-combined 6 forms of 9. Every form starts with the screening question
(:data:`SCREEN`, "did you use this service?"): purposive samples count users only.

Question names are fixed so that exports from KoboToolbox, ODK Central and cityeval's own
template all read into the same table: a statement ``service.1`` is asked as ``s_service_1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework, Label

__all__ = [
    "AGE",
    "AGE_BANDS",
    "ANSWERS",
    "ANSWER_LABELS",
    "ASSISTED",
    "DISTRICT",
    "END",
    "IDENTITY",
    "RESPONSE_ID",
    "SCREEN",
    "SEX",
    "SEXES",
    "START",
    "FormSpec",
    "Mode",
    "build_forms",
    "form_by_code",
    "form_choices",
    "question_name",
    "statement_code",
]

Mode = Literal["combined", "split"]

# Fixed question names (XLSForm ``name`` column, export headers, template headers).
SCREEN = "used_service"  # yes/no: did the respondent use the service this form is about?
AGE = "age_band"
SEX = "sex"
DISTRICT = "district"  # kecamatan, free text
IDENTITY = "phone"  # optional; callers only ever keep its salted hash
ASSISTED = "assisted"  # yes/no: an enumerator filled the form with the respondent
START = "start"
END = "end"
RESPONSE_ID = "response_id"

ANSWERS: tuple[int, ...] = (0, 1, 2, 3, 4)

# A five-point agreement (Likert) scale coded 0–4, the GMSC item scale (docs/domain.md §3, §5). The
# midpoint is "Netral" rather than the also common "Ragu-ragu" (undecided), because undecided
# reads as "I don't know", which is not a middle level of agreement; a respondent who cannot
# judge a statement should leave it blank (null), not pull the mean to 2.
ANSWER_LABELS: Mapping[int, Label] = {
    0: Label(id="Sangat tidak setuju", en="Strongly disagree"),
    1: Label(id="Tidak setuju", en="Disagree"),
    2: Label(id="Netral", en="Neither agree nor disagree"),
    3: Label(id="Setuju", en="Agree"),
    4: Label(id="Sangat setuju", en="Strongly agree"),
}

# Ten-year bands from 15 (the youngest age BPS counts in the working-age population) and an open
# top band; labelled in the form as they are named here.
AGE_BANDS: tuple[str, ...] = ("15-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES: Mapping[str, Label] = {
    "f": Label(id="Perempuan", en="Female"),
    "m": Label(id="Laki-laki", en="Male"),
}


@dataclass(frozen=True)
class FormSpec:
    """One survey form: the statements a respondent of this form answers.

    ``code`` is the dimension code (combined) or the sub-dimension code (split); ``subdimension``
    is None for a combined form. ``statements`` are statement codes (``"service.1"``) in the
    framework's order. ``target`` is the number of valid respondents wanted.
    """

    code: str
    dimension: str
    subdimension: str | None
    statements: tuple[str, ...]
    mode: Mode
    target: int = 50
    demographics: bool = True

    @property
    def questions(self) -> tuple[str, ...]:
        """The statements' question names, e.g. ``("s_service_1", "s_service_2", ...)``."""
        return tuple(question_name(s) for s in self.statements)


def question_name(statement_code: str) -> str:
    """The question name of a statement: ``"service.1"`` → ``"s_service_1"``.

    XLSForm names must be valid XML names, so the dot becomes an underscore, and the ``s_``
    prefix keeps statement columns apart from metadata and demographics.
    """
    return "s_" + statement_code.replace(".", "_")


def statement_code(question: str) -> str:
    """The inverse of :func:`question_name` for codes shaped ``<sub-dimension>.<n>``.

    ``"s_service_1"`` → ``"service.1"``; ``"s_city_face_2"`` → ``"city_face.2"``. A name without
    the ``s_`` prefix is returned unchanged (it is taken to be a statement code already).
    """
    if not question.startswith("s_"):
        return question
    stem, _, number = question[2:].rpartition("_")
    return f"{stem}.{number}" if stem else question[2:]


def build_forms(
    framework: Framework,
    *,
    modes: Mapping[str, Mode] | None = None,
    target: int = 50,
    demographics: bool = True,
) -> list[FormSpec]:
    """The forms of one region's survey, in the framework's dimension order.

    ``modes`` maps a dimension code to ``"combined"`` or ``"split"``; dimensions not listed are
    ``"split"``. A dimension code in ``modes`` that the framework does not have, or a mode other
    than the two, raises ``ValueError`` (a caller's mistake, not user data).

    >>> forms = build_forms(load_framework("gmsc-2024"), modes={"governance": "combined"})
    >>> [(f.code, len(f.statements)) for f in forms][:3]
    [('governance', 9), ('tourism', 3), ('business', 3)]
    """
    modes = dict(modes or {})
    known = {d.code for d in framework.dimensions}
    unknown = sorted(set(modes) - known)
    if unknown:
        raise ValueError(f"no dimension {unknown[0]!r} in framework {framework.code} (has {sorted(known)})")
    for dimension, mode in modes.items():
        if mode not in ("combined", "split"):
            raise ValueError(f"mode of {dimension!r} must be 'combined' or 'split', not {mode!r}")
    if target < 1:
        raise ValueError(f"target must be at least 1, not {target}")
    forms: list[FormSpec] = []
    for dim in framework.dimensions:
        if modes.get(dim.code, "split") == "combined":
            statements = tuple(st.code for sub in dim.subdimensions for st in sub.statements)
            if statements:
                forms.append(FormSpec(dim.code, dim.code, None, statements, "combined", target, demographics))
            continue
        for sub in dim.subdimensions:
            if sub.statements:
                codes = tuple(st.code for st in sub.statements)
                forms.append(FormSpec(sub.code, dim.code, sub.code, codes, "split", target, demographics))
    return forms


def form_choices(framework: Framework) -> list[FormSpec]:
    """Every form a region could run: each dimension's combined form followed by its
    sub-dimensions' split forms, in the framework's order."""
    combined = {
        f.dimension: f for f in build_forms(framework, modes=dict.fromkeys(_codes(framework), "combined"))
    }
    split = build_forms(framework)
    out: list[FormSpec] = []
    for dim in framework.dimensions:
        if dim.code in combined:
            out.append(combined[dim.code])
        out.extend(f for f in split if f.dimension == dim.code)
    return out


def form_by_code(
    framework: Framework, code: str, *, mode: Mode | None = None, target: int = 50, demographics: bool = True
) -> FormSpec:
    """The form ``code`` names: a dimension code gives its combined form, a sub-dimension code
    its split form. ``mode`` settles a code that is both (a framework may reuse a dimension's
    code for one of its sub-dimensions). Raises :class:`InputError` listing the codes when
    ``code`` names no form."""
    matches = [f for f in form_choices(framework) if f.code == code and (mode is None or f.mode == mode)]
    if not matches:
        codes = ", ".join(f.code for f in form_choices(framework) if mode is None or f.mode == mode)
        kind = f"{mode} " if mode else ""
        message = f"framework {framework.code} has no {kind}form {code!r} (its forms: {codes})"
        if mode:
            params = {"framework": framework.code, "form": code, "forms": codes, "mode": mode}
            raise InputError(message, code="unknown_form_of_mode", params=params)
        raise InputError(
            message, code="unknown_form", params={"framework": framework.code, "form": code, "forms": codes}
        )
    if len(matches) > 1:
        raise InputError(
            f"{code!r} is both a dimension and a sub-dimension; say which with the mode",
            code="ambiguous_form",
            params={"form": code},
        )
    found = matches[0]
    return FormSpec(
        found.code, found.dimension, found.subdimension, found.statements, found.mode, target, demographics
    )


def _codes(framework: Framework) -> list[str]:
    return [d.code for d in framework.dimensions]
