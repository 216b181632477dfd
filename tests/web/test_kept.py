"""The store of what a process keeps between requests (``cityeval.web.kept``): bounded in
values and, when weighed, in weight; least recently used out first. Hand-checked sequences."""

from __future__ import annotations

from cityeval.web.kept import Kept, forget_all


def test_at_most_size_values_the_least_recently_used_out_first():
    kept: Kept[str] = Kept(2)
    made: list[str] = []

    def make(value: str):
        return lambda: made.append(value) or value

    assert kept.get("a", make("a")) == "a" and kept.get("b", make("b")) == "b"
    assert kept.get("a", make("A")) == "a"  # kept: not made again, and now the most recent
    kept.get("c", make("c"))  # pushes out b, the least recently used
    assert ("a" in kept, "b" in kept, "c" in kept) == (True, False, True)
    assert made == ["a", "b", "c"]


def test_a_weighed_store_keeps_at_most_its_budget_and_never_a_value_heavier_than_it():
    kept: Kept[str] = Kept(10, weigh=len, budget=10)
    kept.put("a", "xxxx")
    kept.put("b", "yyyy")
    assert kept.weight == 8
    kept.put("c", "zzzz")  # 12 > 10: a, the oldest, goes
    assert (kept.find("a"), kept.weight) == (None, 8)
    assert kept.get("d", lambda: "w" * 11) == "w" * 11  # handed out, not kept
    assert "d" not in kept and kept.weight == 8
    kept.put("b", "y")  # replaced: its old weight is given back
    assert kept.weight == 5 and kept.find("b") == "y"


def test_forget_all_empties_every_store():
    one: Kept[int] = Kept(4, weigh=lambda n: n, budget=100)
    two: Kept[int] = Kept(4)
    one.put("a", 5)
    two.put("b", 6)
    forget_all()
    assert (len(one), one.weight, len(two)) == (0, 0, 0)
