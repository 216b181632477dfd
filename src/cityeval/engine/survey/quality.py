"""Quality checks of survey responses: the problems GMSC assessors flagged (docs/domain.md §5).

Each response gets at most one exclusion ``reason``, the first that applies in this order:

0. ``rejected`` (with ``exclude_rejected=True``, the default): a reviewer rejected the
   submission in the collecting tool (``review_state`` "rejected": ODK Central ReviewState
   rejected, KoboToolbox validation status Not Approved). The row is kept and shown as
   "rejected by reviewer"; the tool's reviewer, not cityeval, decided it does not count;
1. ``not_user``: the screening answer is not "yes" (``used_service`` false **or blank**: a
   purposive sample counts confirmed users only, so an unanswered screen fails closed);
2. ``duplicate_id``: the same ``response_id`` was seen earlier (in input order) in the same
   form — the second copy of a submission exported or uploaded twice;
3. ``straight_lining`` (only with ``straight_lining=True``): every answered statement has the
   same answer and at least ``straight_min_answers`` statements are answered. On a 3-statement
   (split) form an honest respondent may well answer 3, 3, 3, so the rule is weak there; the
   flag column ``straight_lined`` is kept either way for assessors to judge;
4. ``too_fast``: ``ended_at − started_at`` is below ``min_seconds`` (when both are present; a
   negative duration, a device clock problem, counts as too fast);
5. ``burst``: the optional Boolean column ``burst`` is true — the web app sets it on a
   submission that arrived while its sender's network was sending more than the configured
   rate (a flood is stored and shown, not counted);
6. ``duplicate_respondent``: the same ``identity_hash`` (the same phone) already has a response
   in the same form that passed every check above. The first such response in input order is
   kept (the web app orders by submission time, so the earliest answer counts); later ones are
   excluded, whatever their answers — one person, one voice per form.

**Respondents in several forms** (the same ``identity_hash`` among the valid responses of two
or more forms) are *flagged, not excluded*: in split mode one citizen may genuinely use both
the health app and the tax portal, and excluding them would punish honest overlap. The flag
(``cross_form``), the per-form count and :attr:`QualityReport.cross_form` let assessors see
when a region recycled the same people across forms. Only hashes are reported.

A form whose valid respondents outnumber the service's known users (``known_users``) is
flagged ``over_known_users``: 50 respondents claimed for an app with about 30 users.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl

from cityeval.engine.errors import InputError

__all__ = ["QUALITY_COLUMNS", "REASONS", "QualityReport", "check_responses"]

REASONS = (
    "rejected",
    "not_user",
    "duplicate_id",
    "straight_lining",
    "too_fast",
    "burst",
    "duplicate_respondent",
)
QUALITY_COLUMNS = ("excluded", "reason", "straight_lined", "cross_form")
_REQUIRED = ("response_id", "form", "used_service")


@dataclass(frozen=True)
class QualityReport:
    """The checked responses, a per-form summary and the respondents seen in several forms.

    ``responses``: the input plus ``excluded`` (Boolean), ``reason`` (one of :data:`REASONS`
    or null), and the flags ``straight_lined`` and ``cross_form`` (Boolean).

    ``forms``: one row per form — ``form, n_received, n_valid, target, valid_share_of_target,
    excluded_rejected, excluded_not_user, excluded_duplicate_id, excluded_straight_lining, excluded_too_fast,
    n_straight_lined, n_cross_form, known_users, over_known_users``. A form listed in
    ``targets`` or ``known_users`` but without responses has a row of zeros.

    ``cross_form``: identity_hash → the forms (sorted) in which it has a valid response, for
    hashes found in two or more forms. ``parameters``: the options used.
    """

    responses: pl.DataFrame
    forms: pl.DataFrame
    cross_form: Mapping[str, tuple[str, ...]]
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def valid(self) -> pl.DataFrame:
        """The responses that count (not excluded), without the quality columns."""
        return self.responses.filter(~pl.col("excluded")).drop(QUALITY_COLUMNS)


def check_responses(
    responses: pl.DataFrame,
    *,
    straight_lining: bool = True,
    straight_min_answers: int = 3,
    min_seconds: float | None = 60.0,
    exclude_rejected: bool = True,
    known_users: Mapping[str, int] | None = None,
    targets: Mapping[str, int] | None = None,
) -> QualityReport:
    """Flag and exclude problem responses of one region's survey (several forms at once).

    ``responses`` is :func:`read_responses` output, possibly several forms concatenated
    (``pl.concat(tables, how="diagonal")``). Statement columns are the ``s_*`` columns; a
    form's rows leave the other forms' statements null. ``identity_hash``, ``started_at``,
    ``ended_at`` and ``burst`` are used when present, and ``review_state`` (rows a reviewer
    rejected are excluded unless ``exclude_rejected=False``). ``targets`` and ``known_users`` map
    form codes to the number of respondents wanted and the number of known users of the service.

    The rules and the cross-form policy are in the module docstring.
    """
    for column in _REQUIRED:
        if column not in responses.columns:
            raise InputError(f"the responses have no column {column!r}", column=column)
    if straight_min_answers < 1:
        raise ValueError("straight_min_answers must be at least 1")
    # Re-checking a checked table (other options) starts from the responses themselves.
    responses = responses.drop([c for c in QUALITY_COLUMNS if c in responses.columns])
    statements = [c for c in responses.columns if c.startswith("s_") and responses.schema[c].is_integer()]
    table = responses.with_columns(_straight_lined(statements, straight_min_answers).alias("straight_lined"))
    reasons = []
    if exclude_rejected and "review_state" in responses.columns:
        reasons.append(((pl.col("review_state") == "rejected").fill_null(False), "rejected"))
    reasons += [
        (~pl.col("used_service").fill_null(False), "not_user"),
        (pl.int_range(pl.len()).over("form", "response_id") > 0, "duplicate_id"),
    ]
    if straight_lining:
        reasons.append((pl.col("straight_lined"), "straight_lining"))
    if min_seconds is not None and {"started_at", "ended_at"} <= set(responses.columns):
        seconds = (pl.col("ended_at") - pl.col("started_at")).dt.total_microseconds() / 1e6
        reasons.append((seconds.fill_null(float("inf")) < min_seconds, "too_fast"))
    if "burst" in responses.columns:
        reasons.append((pl.col("burst").fill_null(False), "burst"))
    reason = pl.lit(None, dtype=pl.String)
    for condition, name in reversed(reasons):
        reason = pl.when(condition).then(pl.lit(name)).otherwise(reason)
    table = _same_respondent(table.with_columns(reason.alias("reason")))
    table = table.with_columns(pl.col("reason").is_not_null().alias("excluded"))
    table, cross = _cross_form(table)
    table = table.select(*responses.columns, *QUALITY_COLUMNS)
    forms = _form_summary(table, targets or {}, known_users or {})
    parameters = MappingProxyType(
        {
            "straight_lining": straight_lining,
            "straight_min_answers": straight_min_answers,
            "min_seconds": min_seconds,
            "exclude_rejected": exclude_rejected,
            "known_users": dict(known_users or {}),
            "targets": dict(targets or {}),
            "cross_form_policy": "flagged, not excluded",
            "duplicate_respondent_policy": "first response per form and identity kept",
        }
    )
    return QualityReport(
        responses=table, forms=forms, cross_form=MappingProxyType(cross), parameters=parameters
    )


def _straight_lined(statements: list[str], min_answers: int) -> pl.Expr:
    if not statements:
        return pl.lit(False)
    answered = pl.sum_horizontal(pl.col(s).is_not_null() for s in statements)
    same = pl.max_horizontal(statements) == pl.min_horizontal(statements)
    return (answered >= min_answers) & same.fill_null(False)


def _same_respondent(table: pl.DataFrame) -> pl.DataFrame:
    """Mark ``duplicate_respondent`` on every otherwise valid response but the first of each
    (form, identity_hash); rows without a hash are never duplicates of each other."""
    if "identity_hash" not in table.columns:
        return table
    who = pl.col("identity_hash")
    candidate = pl.col("reason").is_null() & who.is_not_null() & (who != "")
    # Position among the candidates of the same (form, identity), in input order.
    later = candidate & (pl.int_range(pl.len()).over("form", "identity_hash", candidate) > 0)
    return table.with_columns(
        pl.when(later).then(pl.lit("duplicate_respondent")).otherwise(pl.col("reason")).alias("reason")
    )


def _cross_form(table: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, tuple[str, ...]]]:
    if "identity_hash" not in table.columns:
        return table.with_columns(pl.lit(False).alias("cross_form")), {}
    valid = table.filter(~pl.col("excluded") & pl.col("identity_hash").is_not_null())
    shared = (
        valid.group_by("identity_hash")
        .agg(pl.col("form").unique().sort())
        .filter(pl.col("form").list.len() > 1)
        .sort("identity_hash")
    )
    hashes = shared.get_column("identity_hash")
    flagged = ~pl.col("excluded") & pl.col("identity_hash").is_in(hashes.implode())
    cross = {h: tuple(f) for h, f in shared.iter_rows()}
    return table.with_columns(flagged.fill_null(False).alias("cross_form")), cross


def _form_summary(table: pl.DataFrame, targets: Mapping[str, int], known: Mapping[str, int]) -> pl.DataFrame:
    summary = table.group_by("form").agg(
        pl.len().cast(pl.Int64).alias("n_received"),
        (~pl.col("excluded")).sum().cast(pl.Int64).alias("n_valid"),
        *[(pl.col("reason") == r).sum().cast(pl.Int64).alias(f"excluded_{r}") for r in REASONS],
        pl.col("straight_lined").sum().cast(pl.Int64).alias("n_straight_lined"),
        pl.col("cross_form").sum().cast(pl.Int64).alias("n_cross_form"),
    )
    missing = sorted((set(targets) | set(known)) - set(summary.get_column("form").to_list()))
    if missing:
        zeros = pl.DataFrame({"form": missing}).with_columns(
            pl.lit(0, dtype=pl.Int64).alias(c) for c in summary.columns if c != "form"
        )
        summary = pl.concat([summary, zeros])
    lookup_target = pl.col("form").replace_strict(dict(targets), default=None, return_dtype=pl.Int64)
    lookup_known = pl.col("form").replace_strict(dict(known), default=None, return_dtype=pl.Int64)
    return (
        summary.with_columns(lookup_target.alias("target"), lookup_known.alias("known_users"))
        .with_columns(
            (pl.col("n_valid") / pl.col("target")).alias("valid_share_of_target"),
            (pl.col("n_valid") > pl.col("known_users")).alias("over_known_users"),
        )
        .select(
            "form",
            "n_received",
            "n_valid",
            "target",
            "valid_share_of_target",
            *[f"excluded_{r}" for r in REASONS],
            "n_straight_lined",
            "n_cross_form",
            "known_users",
            "over_known_users",
        )
        .sort("form")
    )
