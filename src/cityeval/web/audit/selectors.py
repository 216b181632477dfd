"""Reads of the audit trail: the entries a viewer may see, the filters of its page and the CSV
export. Which regions a viewer may see is decided by the caller (the accounts app's page);
which actions a regional viewer may see is decided here (``PANEL_ACTIONS``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection

import polars as pl
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cityeval.engine.spreadsheet import write_csv
from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.listing import Filter

SEARCH_FIELDS = ("target_text", "username")
CSV_COLUMNS = (
    "when", "who", "action", "action_label", "target_type", "target_id", "target", "region",
    "network", "request_id", "details",
)  # fmt: skip
# The assessor panel's confidential work (blind scoring: who consolidated which score, who read
# the individual assessors' data). Recorded with the assessed region, but only the coordinator
# sees them: the region under assessment must not.
PANEL_ACTIONS = frozenset({Action.PANEL_CONSOLIDATE, Action.ASSESSOR_DATA_DOWNLOAD})


def entries_for(region_ids: Collection[int] | None) -> QuerySet[AuditEntry]:
    """Every entry (``None``: the coordinator) or only those of the given regions (a regional
    admin: entries without a region, national ones, are not theirs, nor the panel's)."""
    rows = AuditEntry.objects.select_related("region")
    if region_ids is None:
        return rows
    return rows.filter(region_id__in=region_ids).exclude(action__in=PANEL_ACTIONS)


def actions_for(region_ids: Collection[int] | None) -> list[tuple[str, str | Promise]]:
    """The action filter's choices for the viewer ``entries_for`` is given for."""
    if region_ids is None:
        return list(Action.choices)
    return [(code, label) for code, label in Action.choices if code not in PANEL_ACTIONS]


def _in_month(rows: QuerySet, value: str) -> QuerySet:
    year, month = value.split("-")
    return rows.filter(at__year=int(year), at__month=int(month))


def filters(
    rows: QuerySet[AuditEntry],
    regions: list[tuple[str, str]],
    actions: list[tuple[str, str | Promise]],
) -> list[Filter]:
    """The page's filters: action (``actions_for`` the viewer), who, region (``(slug, name)``
    the viewer may see) and month (the months that have entries, newest first)."""
    users = sorted(set(rows.exclude(username="").values_list("username", flat=True)))
    months = [f"{d:%Y-%m}" for d in rows.order_by().dates("at", "month", order="DESC")]
    return [
        Filter("action", _("Action"), actions, _("All actions"), "action"),
        Filter("who", _("Who"), [(u, u) for u in users], _("Everyone"), "username"),
        Filter("region", _("Region"), regions, _("All regions"), "region__slug"),
        Filter("month", _("Month"), [(m, m) for m in months], _("Any time"), _in_month),
    ]


def entries_csv(rows: QuerySet[AuditEntry]) -> str:
    """The entries as CSV, one line each, times in UTC (ISO 8601), details as JSON."""
    data: dict[str, list[str]] = {c: [] for c in CSV_COLUMNS}
    for e in rows.iterator(chunk_size=2000):
        values = (
            e.at.astimezone(dt.UTC).isoformat(timespec="seconds"), e.username, e.action,
            str(Action(e.action).label) if e.action in Action.values else e.action, e.target_type,
            e.target_id, e.target_text, e.region.slug if e.region else "", e.network, e.request_id,
            json.dumps(e.details, ensure_ascii=False, sort_keys=True),
        )  # fmt: skip
        for column, value in zip(CSV_COLUMNS, values, strict=True):
            data[column].append(value)
    return write_csv(pl.DataFrame(data, schema=dict.fromkeys(CSV_COLUMNS, pl.String)))
