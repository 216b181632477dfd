"""A notice's words, written in the language active when it is shown or mailed.

A notice keeps its kind and parameters (names, codes, counts, times as ISO text); this module
turns them into a title and a sentence. Nothing here is stored, so a reader who switches to
English reads their old notices in English too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cityeval.web.notices.models import Kind, Notice

# The stage labels of ``evaluations.models.Stage.Kind`` (above this app): the same msgids, so
# the same translations.
STAGES = {"stage_1": gettext_lazy("Stage I"), "stage_2": gettext_lazy("Stage II")}
ITEMS_SHOWN = 10  # item codes listed in a notice; the count says how many in all


def when(value: str) -> str:
    """An ISO time as the reader's language writes it, in the site's time zone."""
    if not value:
        return _("not set yet")
    moment = dt.datetime.fromisoformat(value)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _items(p: dict[str, Any]) -> str:
    codes = list(p.get("items", []))
    shown = ", ".join(codes[:ITEMS_SHOWN])
    return shown + (" …" if len(codes) > ITEMS_SHOWN else "")


def _item_assigned(p: dict[str, Any]) -> tuple[str, str]:
    title = _("Items assigned to %(opd)s") % p
    body = ngettext(
        "%(count)d item of the %(cycle)s self-assessment of %(region)s is now assigned to "
        "%(opd)s: %(items)s.",
        "%(count)d items of the %(cycle)s self-assessment of %(region)s are now assigned to "
        "%(opd)s: %(items)s.",
        p["count"],
    ) % {**p, "items": _items(p)}
    return title, body


def _evidence_requested(p: dict[str, Any]) -> tuple[str, str]:
    title = _("Evidence requested for %(item)s") % p
    body = _(
        "The panel asks %(region)s for more evidence on item %(item)s (%(cycle)s, %(stage)s). "
        "Evidence can be added until %(until)s."
    ) % {**p, "stage": STAGES.get(p["stage"], p["stage"]), "until": when(p.get("until", ""))}
    return title, body


def _self_assessment_reminder(p: dict[str, Any]) -> tuple[str, str]:
    title = _("Self-assessment deadline: %(deadline)s") % {"deadline": when(p["deadline"])}
    body = ngettext(
        "The %(cycle)s self-assessment of %(region)s closes on %(deadline)s; %(count)d item for "
        "you to answer is still unanswered.",
        "The %(cycle)s self-assessment of %(region)s closes on %(deadline)s; %(count)d items for "
        "you to answer are still unanswered.",
        p["count"],
    ) % {**p, "deadline": when(p["deadline"])}
    return title, body


def _panel_assigned(p: dict[str, Any]) -> tuple[str, str]:
    stage = STAGES.get(p["stage"], p["stage"])
    title = _("You are on the panel %(panel)s") % p
    body = _("You were added to the panel %(panel)s of %(cycle)s (%(stage)s).") % {**p, "stage": stage}
    return title, body


def _scores_due(p: dict[str, Any]) -> tuple[str, str]:
    title = _("Scores due: %(region)s") % p
    body = ngettext(
        "Your scores for %(region)s (%(cycle)s, %(stage)s) are due on %(deadline)s; %(count)d item "
        "is not scored yet.",
        "Your scores for %(region)s (%(cycle)s, %(stage)s) are due on %(deadline)s; %(count)d items "
        "are not scored yet.",
        p["count"],
    ) % {**p, "stage": STAGES.get(p["stage"], p["stage"]), "deadline": when(p["deadline"])}
    return title, body


def _results_published(p: dict[str, Any]) -> tuple[str, str]:
    title = _("Results published: %(cycle)s") % p
    body = (
        _("The results of %(cycle)s are published; the page of %(region)s shows its scores and feedback.") % p
    )
    return title, body


_WRITERS = {
    Kind.ITEM_ASSIGNED: _item_assigned,
    Kind.EVIDENCE_REQUESTED: _evidence_requested,
    Kind.SELF_ASSESSMENT_REMINDER: _self_assessment_reminder,
    Kind.PANEL_ASSIGNED: _panel_assigned,
    Kind.SCORES_DUE: _scores_due,
    Kind.RESULTS_PUBLISHED: _results_published,
}


def notice_text(notice: Notice) -> tuple[str, str]:
    """(title, sentence) of ``notice`` in the active language."""
    return _WRITERS[Kind(notice.kind)](notice.params)
