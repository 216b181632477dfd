"""Every error code the engine can raise has its template in ``web.engine_errors.MESSAGES``,
and every template's code is raised somewhere, so a new code without a translation (or a
template left behind by a removed code) fails here (issue 11 item 7).

The codes are collected from the engine's source with ``ast``: every ``code="..."`` keyword
given a string. Where the error is built with ``params`` written out at the call (a dict, or a
name assigned a dict in the same function), the template may only use those parameters.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from cityeval.engine import InputError
from cityeval.engine.survey import RakingError
from cityeval.web.engine_errors import MESSAGES, input_error_text

ENGINE = Path(__file__).parents[2] / "src" / "cityeval" / "engine"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
ERROR_CLASSES = {"InputError", "RakingError"}


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _dict_keys(node: ast.expr) -> set[str] | None:
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return None


def _params_at(call: ast.Call, function: ast.AST | None) -> set[str] | None:
    """The parameter names the call passes, when they can be read from the source."""
    given = next((k.value for k in call.keywords if k.arg == "params"), None)
    if given is None:
        return set()
    if (keys := _dict_keys(given)) is not None:
        return keys
    if isinstance(given, ast.Name) and function is not None:
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == given.id for t in node.targets)
            and node.lineno < call.lineno
        ]
        if assigned:
            return _dict_keys(max(assigned, key=lambda n: n.lineno))
    return None


def engine_codes() -> dict[str, list[tuple[str, set[str] | None]]]:
    """Code → where it is raised (file:line) and the params given there (None: not readable)."""
    found: dict[str, list[tuple[str, set[str] | None]]] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            for keyword in call.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    if not isinstance(keyword.value.value, str):
                        continue
                    inside = [f for f in functions if f.lineno <= call.lineno <= (f.end_lineno or f.lineno)]
                    function = max(inside, key=lambda f: f.lineno) if inside else None
                    params = _params_at(call, function) if _name(call.func) in ERROR_CLASSES else None
                    place = f"{path.relative_to(ENGINE)}:{call.lineno}"
                    found.setdefault(keyword.value.value, []).append((place, params))
    return found


def test_the_scan_finds_the_codes_of_every_part_of_the_engine():
    """A scan that found nothing would pass the comparison below: it must see codes raised by
    the table reader, the survey reader, its zip reader, its forms and the weighting."""
    places = {place.split(":")[0] for sites in engine_codes().values() for place, _ in sites}
    assert {
        "tables.py",
        "survey/imports.py",
        "survey/archives.py",
        "survey/forms.py",
        "survey/weighting.py",
    } <= places
    assert {"not_an_answer", "not_a_timestamp", "missing_column", "margins_conflict"} <= set(engine_codes())


def test_every_engine_code_has_a_template_and_every_template_a_code():
    codes = set(engine_codes())
    assert sorted(codes - set(MESSAGES)) == [], "add a gettext template to web/engine_errors.py"
    assert sorted(set(MESSAGES) - codes) == [], "a template whose code the engine no longer raises"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)


def test_each_template_uses_only_the_parameters_its_error_gives():
    for code, sites in engine_codes().items():
        wanted = set(PLACEHOLDER.findall(str(MESSAGES[code])))
        for place, params in sites:
            if params is not None:
                assert wanted <= params, f"{code} at {place}: template wants {wanted}, error gives {params}"


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_template_formats_in_both_languages(language):
    """Every translation keeps the template's parameters (msgfmt checks them too) and reads
    differently from the English one in Indonesian."""
    with translation.override(language):
        for code, template in MESSAGES.items():
            params = {name: f"<{name}>" for name in PLACEHOLDER.findall(str(template))}
            error = InputError("English", code=code, params=params)
            text = input_error_text(error)
            assert all(value in text for value in params.values()), (code, text)
            with translation.override("en"):
                english = input_error_text(error)
            assert (text != english) == (language == "id"), (code, text)


def test_a_raking_error_is_said_in_indonesian():
    error = RakingError(
        "no respondent has sex = 'x', but its target is 1 %; merge it with a neighbouring category",
        code="category_without_respondent",
        params={"column": "sex", "category": "x", "target": "1 %"},
    )
    with translation.override("id"):
        assert input_error_text(error) == (
            "tidak ada responden dengan sex = 'x', padahal targetnya 1 %; "
            "gabungkan kategori itu dengan kategori di sebelahnya"
        )


def test_further_bad_values_are_placed_in_the_pages_language():
    error = InputError(
        "'5' is not an answer 0, 1, 2, 3 or 4 (6 more bad values: …)",
        row=2,
        column="s_service_1",
        code="not_an_answer",
        params={"value": "5", "more": 6, "others": [(3, "s_service_2"), (4, "sex")]},
    )
    with translation.override("id"):
        assert input_error_text(error) == (
            "baris 2, kolom 's_service_1': '5' bukan jawaban 0, 1, 2, 3, atau 4 "
            "(6 nilai salah lainnya: baris 3, kolom 's_service_2'; baris 4, kolom 'sex'; …)"
        )
    with translation.override("en"):
        assert input_error_text(error) == (
            "row 2, column 's_service_1': '5' is not an answer 0, 1, 2, 3 or 4 "
            "(6 more bad values: row 3, column 's_service_2'; row 4, column 'sex'; …)"
        )
