"""Quality checks: each problem assessors flagged (docs/domain.md §5), planted once and found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from cityeval.engine import InputError
from cityeval.engine.survey import check_responses

T0 = datetime(2024, 10, 1, 9, 0, tzinfo=UTC)


def response(form: str, rid: str, answers: tuple, *, used=True, seconds=300, who=None) -> dict:
    first, second = ("s_service_1", "s_service_2") if form == "service" else ("s_policy_1", "s_policy_2")
    third = first[:-1] + "3"
    return {
        "response_id": rid,
        "form": form,
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=seconds),
        "used_service": used,
        first: answers[0],
        second: answers[1],
        third: answers[2],
        "identity_hash": who,
    }


def region_survey() -> pl.DataFrame:
    rows = [
        response("service", "s1", (3, 2, 4), who="h-ani"),
        response("service", "s2", (4, 4, 4), who="h-budi"),  # straight-liner
        response("service", "s3", (1, 2, 3), used=False),  # never used the service
        response("service", "s1", (3, 2, 4), who="h-ani"),  # the same submission twice
        response("service", "s5", (2, 3, 1), seconds=20),  # 20 seconds for the form
        response("service", "s6", (None, 4, 4), who="h-citra"),  # only 2 answered: not straight-lining
        response("policy", "p1", (2, 3, 3), who="h-ani"),  # Ani again, in another form
        response("policy", "p2", (0, 1, 2)),
        response("policy", "p3", (3, 3, 2), used=None),  # screen left blank
    ]
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(pl.col("^s_.*$").cast(pl.Int8))


def test_each_planted_problem_gets_its_reason():
    report = check_responses(region_survey())
    got = report.responses.select("response_id", "reason", "excluded").rows()
    assert got == [
        ("s1", None, False),
        ("s2", "straight_lining", True),
        ("s3", "not_user", True),
        ("s1", "duplicate_id", True),
        ("s5", "too_fast", True),
        ("s6", None, False),
        ("p1", None, False),
        ("p2", None, False),
        ("p3", "not_user", True),
    ]
    assert report.responses.columns[: len(region_survey().columns)] == region_survey().columns


def test_the_first_applicable_reason_wins():
    rows = (
        region_survey()
        .head(1)
        .with_columns(pl.lit(False).alias("used_service"), pl.col("started_at").alias("ended_at"))
    )
    report = check_responses(rows)
    assert report.responses["reason"].to_list() == ["not_user"]  # also too fast, but not_user comes first


def test_a_respondent_in_two_forms_is_flagged_not_excluded():
    report = check_responses(region_survey())
    flagged = report.responses.filter(pl.col("cross_form")).select("response_id", "form", "excluded").rows()
    assert flagged == [("s1", "service", False), ("p1", "policy", False)]
    assert dict(report.cross_form) == {"h-ani": ("policy", "service")}
    counts = dict(report.forms.select("form", "n_cross_form").rows())
    assert counts == {"policy": 1, "service": 1}


def test_the_form_summary_counts_received_valid_and_each_reason():
    report = check_responses(region_survey(), targets={"service": 50, "policy": 50, "health": 50})
    forms = {r["form"]: r for r in report.forms.to_dicts()}
    service = forms["service"]
    assert (service["n_received"], service["n_valid"], service["target"]) == (6, 2, 50)
    assert service["valid_share_of_target"] == pytest.approx(2 / 50)
    excluded = [service[f"excluded_{r}"] for r in ("not_user", "duplicate_id", "straight_lining", "too_fast")]
    assert excluded == [1, 1, 1, 1]
    assert service["n_straight_lined"] == 1
    assert forms["health"]["n_received"] == 0 and forms["health"]["valid_share_of_target"] == 0
    assert report.valid.height == 4 and "excluded" not in report.valid.columns


def test_a_form_with_more_valid_respondents_than_known_users_is_flagged():
    report = check_responses(region_survey(), known_users={"service": 30, "policy": 1})
    over = dict(report.forms.select("form", "over_known_users").rows())
    assert over == {"policy": True, "service": False}
    assert report.forms.filter(pl.col("form") == "policy")["known_users"].to_list() == [1]


def test_checks_can_be_switched_off_and_straight_lining_stays_a_flag():
    report = check_responses(region_survey(), straight_lining=False, min_seconds=None)
    got = dict(zip(report.responses["response_id"], report.responses["reason"], strict=False))
    assert got["s2"] is None and got["s5"] is None
    assert report.responses.filter(pl.col("response_id") == "s2")["straight_lined"].to_list() == [True]
    assert report.parameters["min_seconds"] is None


def test_straight_lining_needs_enough_answers():
    report = check_responses(region_survey(), straight_min_answers=2)
    reason = report.responses.filter(pl.col("response_id") == "s6")["reason"].to_list()
    assert reason == ["straight_lining"]


def test_it_needs_the_form_column():
    with pytest.raises(InputError, match="no column 'form'"):
        check_responses(region_survey().drop("form"))


def test_a_checked_table_can_be_checked_again_with_other_options():
    first = check_responses(region_survey())
    again = check_responses(first.responses, straight_lining=False)
    assert again.responses.columns == first.responses.columns
    assert again.responses.filter(pl.col("response_id") == "s2")["reason"].to_list() == [None]


def test_the_same_phone_answering_a_form_twice_counts_once():
    """Hand-made: Ani answers the service form at 09:00 and again at 09:07 with other answers;
    Budi answers once; a row without a phone is never anyone's duplicate. Ani's first answer
    (input order) is kept; her second is excluded as ``duplicate_respondent``. Her answer in the
    policy form is another form, so it stays (flagged cross-form)."""
    rows = [
        response("service", "a1", (3, 2, 4), who="h-ani"),
        response("service", "b1", (1, 2, 3), who="h-budi"),
        response("service", "a2", (0, 1, 0), who="h-ani"),  # minutes later, other answers
        response("service", "n1", (2, 2, 3)),
        response("service", "n2", (3, 1, 2)),
        response("policy", "p1", (2, 3, 1), who="h-ani"),
    ]
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("^s_.*$").cast(pl.Int8))
    report = check_responses(frame)
    got = report.responses.select("response_id", "reason", "cross_form").rows()
    assert got == [
        ("a1", None, True),
        ("b1", None, False),
        ("a2", "duplicate_respondent", False),
        ("n1", None, False),
        ("n2", None, False),
        ("p1", None, True),
    ]
    service = report.forms.filter(pl.col("form") == "service").to_dicts()[0]
    assert (service["n_valid"], service["excluded_duplicate_respondent"]) == (4, 1)


def test_an_excluded_first_answer_leaves_the_later_one_valid():
    """Ani's first answer was implausibly fast (20 s), so it does not count; her second, valid
    answer is then her only counted one, not a duplicate."""
    rows = [
        response("service", "a1", (3, 2, 4), who="h-ani", seconds=20),
        response("service", "a2", (1, 2, 3), who="h-ani"),
    ]
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("^s_.*$").cast(pl.Int8))
    reasons = check_responses(frame).responses["reason"].to_list()
    assert reasons == ["too_fast", None]


def test_a_burst_is_stored_excluded_and_counted():
    """Rows marked ``burst`` by the web app are excluded with reason ``burst`` and counted in
    the form summary; a null flag (an import) is not a burst."""
    frame = region_survey().with_columns(
        pl.Series("burst", [False, False, False, False, False, True, False, None, False])
    )
    report = check_responses(frame)
    assert report.responses.filter(pl.col("response_id") == "s6")["reason"].to_list() == ["burst"]
    assert report.responses.filter(pl.col("response_id") == "p2")["reason"].to_list() == [None]
    service = report.forms.filter(pl.col("form") == "service").to_dicts()[0]
    assert (service["n_valid"], service["excluded_burst"]) == (1, 1)
    assert "s6" not in report.valid["response_id"].to_list()
