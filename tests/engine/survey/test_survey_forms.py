"""Survey forms: modes, question names and answer labels (DOMAIN.md §2, §5)."""

from __future__ import annotations

import pytest

from cityeval.engine import load_framework
from cityeval.engine.survey import ANSWER_LABELS, FormSpec, build_forms, question_name, statement_code


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
