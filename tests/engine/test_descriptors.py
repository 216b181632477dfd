"""Level descriptors (cityeval's guidance on what each level means): named sets in the
framework, chosen per item by ``guidance`` or by the item's kind, overridden item by item with
``descriptors``; validated with errors naming the YAML path; left out of the identity hash of
a framework without them."""

from __future__ import annotations

import pytest
from tests.helpers.engine import TINY

from cityeval.engine import FrameworkError, load_framework, parse_framework

SETS = """
level_descriptors:
  practice:
    - {level: 0, label: {id: Belum dilakukan, en: Not done}}
    - {level: 4, label: {id: Dilakukan dan ditingkatkan, en: Done and improved}}
  document:
    - {level: 0, label: {id: Tidak ada, en: None}}
    - {level: 2, label: {id: Draf, en: Draft}}
    - {level: 4, label: {id: Ditetapkan, en: Adopted}}
components:"""


def tiny(extra_items: str = "", sets: str = SETS) -> str:
    text = TINY.replace("\ncomponents:", sets, 1)
    return text.replace(
        "      - {code: first.b, label: {id: Dua, en: Two}}",
        extra_items or "      - {code: first.b, label: {id: Dua, en: Two}}",
        1,
    )


def problems(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as caught:
        parse_framework(text)
    return caught.value.problems


def test_a_level_item_takes_the_practice_set_and_a_named_item_its_set():
    fw = parse_framework(tiny("      - {code: first.b, label: {id: Dua, en: Two}, guidance: document}"))
    first_a = fw.items_by_code["first.a"][1]
    first_b = fw.items_by_code["first.b"][1]
    assert [d.label.en for d in fw.descriptors_for(first_a)] == ["Not done", "Done and improved"]
    assert [d.level for d in fw.descriptors_for(first_b)] == [0, 2, 4]
    # No "quantity" set defined here: the quantity item has none; a survey item never has a default.
    assert fw.descriptors_for(fw.items_by_code["second.count"][1]) == ()
    assert fw.descriptors_for(fw.items_by_code["second.survey"][1]) == ()


def test_an_item_overrides_the_sets_with_its_own_descriptors():
    item = """      - code: first.b
        label: {id: Dua, en: Two}
        guidance: document
        descriptors:
          - {level: 1, label: {id: Opini TW, en: Adverse opinion}}
          - {level: 4, label: {id: Opini WTP, en: Unqualified opinion}}"""
    fw = parse_framework(tiny(item))
    own = fw.descriptors_for(fw.items_by_code["first.b"][1])
    assert [(d.level, d.label.id) for d in own] == [(1, "Opini TW"), (4, "Opini WTP")]


def test_descriptor_errors_name_the_place():
    item = """      - code: first.b
        label: {id: Dua, en: Two}
        guidance: checklist
        descriptors:
          - {level: 3, label: {id: Tiga, en: Three}}
          - {level: 2, label: {id: Dua, en: Two}}"""
    bad_sets = SETS.replace("{level: 4, label: {id: Dilakukan", "{level: 5, label: {id: Dilakukan")
    found = problems(tiny(item, sets=bad_sets))
    assert "level_descriptors.practice[1].level: 5 is outside the scale 0–4" in found
    assert (
        "components[0].items[1].guidance: unknown descriptor set 'checklist' "
        "(level_descriptors: document, practice)" in found
    )
    assert "components[0].items[1].descriptors[1].level: levels must be listed in increasing order" in found


def test_a_framework_without_descriptors_keeps_its_identity():
    """The hash of tiny.yaml pinned in test_groups.py before descriptors existed."""
    assert parse_framework(TINY).hash == "5969c312a6cb27afe5da3dcc2f9d661e08f764d20708466f4b8192d6665821eb"
    assert parse_framework(tiny()).hash != parse_framework(TINY).hash


@pytest.mark.parametrize("name", ["gmsc-2022", "gmsc-2023", "gmsc-2024"])
def test_every_scored_level_or_quantity_item_of_the_builtins_has_five_levels(name):
    fw = load_framework(name)
    for _component, item in ((c, i) for c in fw.components for i in c.items if i.kind != "survey"):
        assert [d.level for d in fw.descriptors_for(item)] == [0, 1, 2, 3, 4], item.code
    assert fw.items_by_code["baseline.legal_basis"][1].guidance == "document"
