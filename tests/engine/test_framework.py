"""Framework files: the built-ins match docs/domain.md, and bad files are refused with a path."""

from __future__ import annotations

import pytest
from tests.helpers.engine import TINY

from cityeval.engine import FrameworkError, builtin_frameworks, load_framework, parse_framework
from cityeval.engine.framework import (
    MAX_FRAMEWORK_BYTES,
    _builtin_framework,
    _BuiltinLoader,
    _parse,
    builtin_source,
)

# docs/domain.md §3, "Weights by year and group (%)". 2024 KPPN_IKN is not published: the
# built-in ships the REGULER weights for it, which this table records as such.
PUBLISHED_WEIGHTS = {
    ("gmsc-2022", "REGULER"): {"baseline": 10, "output": 20, "outcome": 30, "impact": 20, "quick_win": 20},
    ("gmsc-2022", "KPPN_IKN"): {"baseline": 10, "output": 20, "outcome": 30, "impact": 10, "quick_win": 30},
    ("gmsc-2023", "REGULER"): {"baseline": 10, "output": 20, "outcome": 30, "impact": 20, "quick_win": 20},
    ("gmsc-2023", "KPPN_IKN"): {
        "baseline": 10, "output": 20, "outcome": 20, "impact": 20, "quick_win": 20, "kolaborasi": 10,
    },
    ("gmsc-2024", "REGULER"): {"baseline": 10, "output": 20, "outcome": 30, "impact": 20, "quick_win": 20},
    ("gmsc-2024", "KPPN_IKN"): {"baseline": 10, "output": 20, "outcome": 30, "impact": 20, "quick_win": 20},
}  # fmt: skip


def _tiny(replace: str, by: str) -> str:
    assert replace in TINY, replace
    return TINY.replace(replace, by, 1)


def _problems(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        parse_framework(text)
    return caught.value.problems


def test_the_three_gmsc_years_are_built_in():
    assert builtin_frameworks() == ["gmsc-2022", "gmsc-2023", "gmsc-2024"]


@pytest.mark.parametrize(("name", "group"), sorted(PUBLISHED_WEIGHTS))
def test_builtin_weights_are_the_published_ones(name, group):
    fw = load_framework(name)
    weights = {code: w * 100 for code, w in fw.weights_for(group).items()}
    assert weights == pytest.approx(PUBLISHED_WEIGHTS[(name, group)])


def test_2024_says_its_kppn_weights_are_not_published():
    fw = load_framework("gmsc-2024")
    assert fw.notes is not None
    assert "KPPN_IKN" in fw.notes and "not published" in fw.notes


@pytest.mark.parametrize("name", ["gmsc-2022", "gmsc-2023", "gmsc-2024"])
def test_builtins_have_the_6_by_3_by_3_tree_and_the_2023_item_catalogue(name):
    fw = load_framework(name)
    assert [d.code for d in fw.dimensions] == [
        "governance", "branding", "economy", "living", "society", "environment",
    ]  # fmt: skip
    assert all(len(d.subdimensions) == 3 for d in fw.dimensions)
    assert all(len(s.statements) == 3 for d in fw.dimensions for s in d.subdimensions)
    assert len(fw.statements_by_code) == 54
    # docs/domain.md §3, 2023 Stage II questionnaire: 5 baseline, 7 output, about 33 outcome,
    # 54 impact (one per statement) and 12 quick-win items.
    regular = {}
    for component, _ in fw.items_for("REGULER"):
        regular[component.code] = regular.get(component.code, 0) + 1
    assert regular == {"baseline": 5, "output": 7, "outcome": 33, "impact": 54, "quick_win": 12}
    survey_items = [i for c, i in fw.items_for("REGULER") if i.kind == "survey"]
    assert sorted(i.statement for i in survey_items) == sorted(fw.statements_by_code)


def test_2022_kppn_uses_the_four_early_phase_impact_items():
    fw = load_framework("gmsc-2022")
    impact = [i.code for c, i in fw.items_for("KPPN_IKN") if c.code == "impact"]
    assert len(impact) == 4
    assert all(i.kind == "level" for c, i in fw.items_for("KPPN_IKN") if c.code == "impact")


def test_2023_kolaborasi_has_one_item_per_dimension_for_kppn_only():
    fw = load_framework("gmsc-2023")
    kolaborasi = fw.component("kolaborasi")
    assert not kolaborasi.applies_to("REGULER")
    dims = [fw.item_dimension(i) for i in kolaborasi.items_for("KPPN_IKN")]
    assert dims == [d.code for d in fw.dimensions]


def test_every_label_has_both_languages():
    fw = load_framework("gmsc-2023")
    labels = [fw.title] + [c.label for c in fw.components] + [i.label for c in fw.components for i in c.items]
    labels += [s.label for _, _, s in fw.statements_by_code.values()]
    assert all(label.id.strip() and label.en.strip() for label in labels)


def test_the_hash_ignores_comments_and_layout_but_not_content():
    fw = parse_framework(TINY)
    assert (
        parse_framework("# a comment\n" + TINY.replace("{A: 40, B: 50}", "{B: 50,  A: 40}")).hash == fw.hash
    )
    assert (
        parse_framework(
            TINY.replace("{A: 40, B: 50}", "{A: 45, B: 50}").replace("{A: 60, B: 50}", "{A: 55, B: 50}")
        ).hash
        != fw.hash
    )
    assert len(fw.hash) == 64


def test_thresholds_map_raw_values_to_levels():
    fw = parse_framework(TINY)
    _, item = fw.items_by_code["second.count"]
    # Thresholds in tiny.yaml: ≥1 → 1, ≥5 → 2, ≥10 → 4; below the first → the scale's min.
    assert [fw.level_for(item, raw) for raw in (0, 0.99, 1, 4, 5, 9.5, 10, 250)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        4,
        4,
    ]
    _, level_item = fw.items_by_code["first.a"]
    assert fw.level_for(level_item, 3) is None


def test_it_rejects_weights_not_summing_to_100():
    problems = _problems(_tiny("{A: 40, B: 50}", "{A: 45, B: 50}"))
    assert problems == ["components[*].weights.A: weights sum to 105, not 100 (first 45 + second 60)"]


def test_it_rejects_duplicate_item_codes():
    problems = _problems(_tiny("code: second.count", "code: first.a"))
    assert problems == [
        "components[1].items[0].code: duplicate code 'first.a' (first at components[0].items[0])"
    ]


def test_it_rejects_an_item_linked_to_a_missing_statement():
    problems = _problems(_tiny("statement: service.1", "statement: service.9"))
    assert problems == ["components[1].items[1].statement: no statement 'service.9' in the dimension tree"]


def test_it_rejects_thresholds_that_do_not_increase():
    problems = _problems(_tiny("{at_least: 5, level: 2}", "{at_least: 1, level: 2}"))
    assert problems == ["components[1].items[0].thresholds[1].at_least: thresholds must increase (1 after 1)"]


def test_it_rejects_a_level_outside_the_scale():
    problems = _problems(_tiny("{at_least: 10, level: 4}", "{at_least: 10, level: 5}"))
    assert problems == ["components[1].items[0].thresholds[2].level: 5 is outside the scale 0–4"]


def test_it_rejects_unknown_keys_with_their_path():
    problems = _problems(_tiny("kind: quantity", "kind: quantity\n        weight: 3"))
    assert problems == ["components[1].items[0].weight: unknown key"]


def test_it_rejects_a_weight_for_an_unknown_group():
    problems = _problems(_tiny("{A: 40, B: 50}", "{A: 40, B: 50, C: 0}"))
    assert problems == ["components[0].weights.C: unknown group (groups: A, B)"]


def test_it_rejects_duplicate_yaml_keys_which_yaml_would_silently_overwrite():
    problems = _problems(_tiny("code: tiny", "code: tiny\ncode: other"))
    assert len(problems) == 1 and "duplicate key 'code'" in problems[0] and "line 4" in problems[0]


def test_it_names_the_line_of_broken_yaml():
    problems = _problems(TINY + "\n  - [unclosed\n")
    assert problems[0].startswith("line ")


def test_it_reports_every_problem_at_once():
    text = _tiny("{A: 40, B: 50}", "{A: 45, B: 50}").replace("statement: service.1", "statement: nope")
    assert len(_problems(text)) == 2


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(FrameworkError, match=r"no built-in framework or file named 'nope\.yaml'"):
        load_framework("nope.yaml")


SPBE = """
code: spbe-demo
title: {id: Indeks SPBE, en: E-government index}
scale: {min: 1, max: 5}
groups: [{code: ALL, label: {id: Semua, en: All}}]
components:
  - {code: policy, label: {id: Kebijakan, en: Policy}, weights: {ALL: 13},
     items: [{code: p1, label: {id: P1, en: P1}}]}
  - {code: governance, label: {id: Tata kelola, en: Governance}, weights: {ALL: 25},
     items: [{code: g1, label: {id: G1, en: G1}}]}
  - {code: management, label: {id: Manajemen, en: Management}, weights: {ALL: 16.5},
     items: [{code: m1, label: {id: M1, en: M1}}]}
  - {code: services, label: {id: Layanan, en: Services}, weights: {ALL: 45.5},
     items: [{code: s1, label: {id: S1, en: S1}}]}
bands:
  - {label: {id: Kurang, en: Poor}, min: 1}
  - {label: {id: Cukup, en: Fair}, min: 1.8}
  - {label: {id: Baik, en: Good}, min: 2.6}
  - {label: {id: Sangat Baik, en: Very good}, min: 3.5}
  - {label: {id: Memuaskan, en: Excellent}, min: 4.2}
"""


def test_an_spbe_style_index_is_a_framework_too():
    # docs/domain.md §8: 4 domains weighted 13 / 25 / 16.5 / 45.5 %, levels 1–5, bands.
    fw = parse_framework(SPBE)
    assert sum(fw.weights_for("ALL").values()) == pytest.approx(1.0)
    assert [fw.band_for(x).label.id for x in (1.0, 1.79, 1.8, 3.49, 3.5, 4.2, 5)] == [
        "Kurang", "Kurang", "Cukup", "Baik", "Sangat Baik", "Memuaskan", "Memuaskan",
    ]  # fmt: skip


def test_it_rejects_a_weighted_component_without_items_for_the_group():
    # tiny.yaml's component "first" is weighted for A and B; restrict both items to A.
    text = TINY.replace(
        "{code: first.a, label: {id: Satu, en: One}, dimension: governance}",
        "{code: first.a, label: {id: Satu, en: One}, dimension: governance, groups: [A]}",
    )
    text = text.replace("{code: first.b, label: {id: Dua, en: Two}}",
                        "{code: first.b, label: {id: Dua, en: Two}, groups: [A]}")  # fmt: skip
    assert _problems(text) == [
        "components[0].weights.B: the component is weighted for B but has no items for it"
    ]


@pytest.mark.parametrize("name", builtin_frameworks())
def test_a_built_in_read_with_libyaml_equals_its_strict_parse(name):
    """Built-ins are read with libyaml, which cannot refuse aliases: the strict parser (no
    aliases, no duplicate keys) must read each one into the same framework."""
    assert _builtin_framework(name) == parse_framework(builtin_source(name), source=name)


def test_the_built_in_loader_still_refuses_duplicate_keys():
    with pytest.raises(FrameworkError) as refused:
        _parse("code: a\ncode: b\n", source="x", max_bytes=MAX_FRAMEWORK_BYTES, loader=_BuiltinLoader)
    assert "duplicate key 'code'" in refused.value.problems[0]
