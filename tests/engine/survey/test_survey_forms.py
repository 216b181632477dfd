"""Survey forms: modes, question names and answer labels (docs/domain.md §2, §5)."""

from __future__ import annotations

import pytest

from cityeval.engine import InputError, load_framework
from cityeval.engine.survey import (
    ANSWER_LABELS,
    FormSpec,
    build_forms,
    form_by_code,
    form_choices,
    question_name,
    statement_code,
)


@pytest.fixture(scope="module")
def framework():
    return load_framework("gmsc-2024")


def test_all_split_gives_18_forms_of_3_statements_covering_all_54(framework):
    forms = build_forms(framework, modes={})
    assert len(forms) == 18
    assert all(len(f.statements) == 3 and f.mode == "split" for f in forms)
    statements = [s for f in forms for s in f.statements]
    assert len(statements) == len(set(statements)) == 54
    assert forms[0] == FormSpec(
        "service", "governance", "service", ("service.1", "service.2", "service.3"), "split"
    )


def test_all_combined_gives_6_forms_of_9_statements(framework):
    forms = build_forms(framework, modes={d.code: "combined" for d in framework.dimensions})
    assert [f.code for f in forms] == [
        "governance",
        "branding",
        "economy",
        "living",
        "society",
        "environment",
    ]
    assert all(len(f.statements) == 9 and f.subdimension is None for f in forms)


def test_modes_mix_per_dimension_and_default_to_split(framework):
    forms = build_forms(framework, modes={"governance": "combined"}, target=60, demographics=False)
    assert len(forms) == 1 + 15
    assert forms[0].code == "governance" and forms[0].mode == "combined"
    assert forms[1].code == "tourism" and forms[1].mode == "split"
    assert all(f.target == 60 and not f.demographics for f in forms)


def test_it_rejects_an_unknown_dimension_or_mode(framework):
    with pytest.raises(ValueError, match="no dimension 'gov'"):
        build_forms(framework, modes={"gov": "combined"})
    with pytest.raises(ValueError, match="'combined' or 'split'"):
        build_forms(framework, modes={"governance": "joint"})  # type: ignore[dict-item]


def test_question_names_round_trip():
    assert question_name("service.1") == "s_service_1"
    assert statement_code("s_service_1") == "service.1"
    assert statement_code(question_name("city_face.2")) == "city_face.2"
    assert FormSpec("x", "d", "x", ("policy.3",), "split").questions == ("s_policy_3",)


def test_answer_labels_cover_0_to_4_in_both_languages():
    assert list(ANSWER_LABELS) == [0, 1, 2, 3, 4]
    assert ANSWER_LABELS[0].id == "Sangat tidak setuju" and ANSWER_LABELS[4].en == "Strongly agree"


def test_form_choices_are_the_6_combined_and_18_split_forms_in_framework_order(framework):
    choices = form_choices(framework)
    assert len(choices) == 24
    assert [(f.code, f.mode) for f in choices[:4]] == [
        ("governance", "combined"), ("service", "split"), ("policy", "split"), ("bureaucracy", "split"),
    ]  # fmt: skip


def test_a_code_names_the_combined_form_of_a_dimension_or_the_split_form_of_a_sub_dimension(framework):
    combined = form_by_code(framework, "governance")
    assert combined.mode == "combined" and len(combined.statements) == 9 and combined.subdimension is None
    split = form_by_code(framework, "service", target=30, demographics=False)
    statements = ("service.1", "service.2", "service.3")
    assert split == FormSpec("service", "governance", "service", statements, "split", 30, False)


def test_an_unknown_code_or_the_wrong_mode_lists_the_codes(framework):
    with pytest.raises(InputError, match=r"has no form 'nope' \(its forms: governance, service, policy"):
        form_by_code(framework, "nope")
    with pytest.raises(InputError, match=r"has no split form 'governance' \(its forms: service, policy"):
        form_by_code(framework, "governance", mode="split")
