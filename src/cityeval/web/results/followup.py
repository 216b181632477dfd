"""Follow-up actions on a published cycle's recommendations (issue 15): who may see and change
them, the reads the pages need, the writes and the follow-up rate. The models are in
:mod:`cityeval.web.results.followup_models`; docs/followup.md describes the whole.

Access fails closed:

- a region's actions: its regional admin sees and changes all of them and creates them from
  the published recommendations; an OPD contributor sees and changes (status, dates, notes,
  evidence) only the actions their OPD owns (another OPD's action: 403); the coordinator reads
  them all and changes none (403); anyone without a role in the region gets 404;
- the next cycle's assessors: a member of a panel the region is assigned to in a cycle reads
  the actions of the region's earlier cycles (read-only); everyone else 404, the region's own
  users included (they have their own page) as on every panel page;
- the follow-up rate: the coordinator only (403).

The follow-up rate of a set of actions is done / (all − dropped): a dropped action, with its
reason, leaves the count; a region with no action left has no rate (shown "–"). The national
rate pools every action (it is not the mean of the regions' rates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.accounts.access import RegionAccess, User, is_assessor, is_coordinator, region_access
from cityeval.web.accounts.models import Membership
from cityeval.web.assessments.services import clean_file_name, evidence_blob_store, link_problem
from cityeval.web.assessments.uploads import UploadRejected, inspect_upload
from cityeval.web.audit import services as audit
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import Feedback, PanelMember
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Opd, Region
from cityeval.web.results.followup_models import ActionChange, ActionEvidence, ActionStatus, FollowUpAction
from cityeval.web.results.selectors import current_run

TEXT_MAX = 2000


class FollowUpRefused(Refused):
    """A follow-up write was refused; the message (and ``errors``) say why."""

    status = 422
    default_message = gettext_lazy("The follow-up action was not changed.")


# --- access ----------------------------------------------------------------------------------


def followup_access(user: User, region: str) -> RegionAccess:
    """The user's access to the region's follow-up pages: its admin, OPD contributors and the
    coordinator; 404 to everyone else."""
    return region_access(user, region)


def actions_visible(access: RegionAccess) -> QuerySet[FollowUpAction]:
    """The region's actions the user may see: all of them, or an OPD contributor's own OPD's."""
    rows = FollowUpAction.objects.filter(region=access.region)
    if not (access.is_admin or access.is_coordinator):
        rows = rows.filter(opd=access.opd) if access.opd is not None else rows.none()
    return rows


@dataclass(frozen=True)
class ActionAccess:
    rights: RegionAccess
    action: FollowUpAction

    @property
    def may_change(self) -> bool:
        """The regional admin, or the contributor of the owning OPD (never the coordinator)."""
        return self.rights.may_edit_for_opd(self.action.opd_id)

    @property
    def may_assign(self) -> bool:
        """Only the regional admin changes an action's text and owning OPD."""
        return self.rights.is_admin


def action_access(user: User, region: str, action: str) -> ActionAccess:
    """One action of the region: 404 for anyone outside the region or an unknown action, 403
    for an OPD contributor of another OPD."""
    rights = followup_access(user, region)
    found = get_object_or_404(
        FollowUpAction.objects.select_related("region", "cycle", "opd", "created_by"),
        region=rights.region,
        public_id=action,
    )
    if not (rights.is_admin or rights.is_coordinator or rights.may_edit_for_opd(found.opd_id)):
        raise PermissionDenied
    return ActionAccess(rights=rights, action=found)


def published_participation(rights: RegionAccess, cycle: str) -> Participation:
    """The region's participation in ``cycle`` once its results are published; 404 before."""
    participation = get_object_or_404(
        Participation.objects.select_related("cycle", "region"), region=rights.region, cycle__slug=cycle
    )
    if participation.cycle.status != Cycle.Status.PUBLISHED or current_run(participation.cycle) is None:
        raise Http404
    return participation


def review_access(user: User, cycle: str, region: str) -> Participation:
    """The region's participation in ``cycle`` for an assessor on a panel it is assigned to in
    that cycle (or the coordinator): 404 to everyone else, the region's own users included."""
    participation = get_object_or_404(
        Participation.objects.select_related("cycle", "region"), region__slug=region, cycle__slug=cycle
    )
    if is_coordinator(user):
        return participation
    if not (user.is_authenticated and is_assessor(user)):  # a deactivated assessor role reads nothing
        raise Http404
    on_panel = PanelMember.objects.filter(user=user, panel__regions__participation=participation).exists()
    # A role in the region, even a deactivated one, is a conflict: the panel grants nothing then.
    in_region = Membership.objects.filter(user=user, region_id=participation.region_id).exists()
    if not on_panel or in_region:
        raise Http404
    return participation


# --- reads -----------------------------------------------------------------------------------


def with_history(rows: QuerySet[FollowUpAction]) -> QuerySet[FollowUpAction]:
    """Actions with their cycle, OPD, history and evidence, in a fixed number of queries."""
    return rows.select_related("cycle", "opd").prefetch_related(
        Prefetch("history", queryset=ActionChange.objects.select_related("changed_by")),
        Prefetch("evidence", queryset=ActionEvidence.objects.select_related("added_by")),
    )


def earlier_actions(participation: Participation) -> QuerySet[FollowUpAction]:
    """The region's actions on the recommendations of cycles before ``participation``'s."""
    cycle = participation.cycle
    rows = FollowUpAction.objects.filter(region_id=participation.region_id, cycle__year__lt=cycle.year)
    return with_history(rows.exclude(cycle=cycle)).order_by("-cycle__year", "created_at", "id")


@dataclass(frozen=True)
class Recommendation:
    feedback: Feedback
    actions: int  # actions already made from it


def recommendations(participation: Participation) -> list[Recommendation]:
    """The published recommendations on the region: each assessor's latest feedback at the
    stage of the cycle's current run, with a recommendation (a withdrawn, blank one is not),
    oldest first, with the number of actions already made from each."""
    run = current_run(participation.cycle)
    if run is None:
        return []
    rows = (
        Feedback.objects.filter(panel_region__participation=participation, panel_region__stage=run.stage)
        .annotate(made=Count("followup_actions"))
        .order_by("assessor_id", "-created_at", "-id")
    )
    latest: dict[int, Feedback] = {}
    for row in rows:
        latest.setdefault(row.assessor_id, row)
    found = sorted(latest.values(), key=lambda f: (f.created_at, f.id))
    return [Recommendation(feedback=f, actions=f.made) for f in found if f.recommendations.strip()]  # type: ignore[attr-defined]


# --- the follow-up rate ----------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    region: str
    slug: str
    total: int  # every action, dropped ones included
    done: int
    dropped: int
    open: int  # planned or in progress

    @property
    def counted(self) -> int:
        return self.total - self.dropped

    @property
    def rate(self) -> float | None:
        """done / (total − dropped); None when no action is left to count."""
        return self.done / self.counted if self.counted else None


def _rate_of(rows: list[RateRow]) -> RateRow:
    return RateRow(
        region="",
        slug="",
        total=sum(r.total for r in rows),
        done=sum(r.done for r in rows),
        dropped=sum(r.dropped for r in rows),
        open=sum(r.open for r in rows),
    )


def followup_rates(cycle: Cycle | None) -> tuple[list[RateRow], RateRow]:
    """The follow-up rate per region (by name) and nationally, of one cycle's actions or of all
    (``cycle`` None). With a cycle, every region taking part in it is listed, with or without
    actions. Two queries however many regions and actions."""
    actions = FollowUpAction.objects.all() if cycle is None else FollowUpAction.objects.filter(cycle=cycle)
    counted = (
        actions.values("region_id", "region__name", "region__slug")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=ActionStatus.DONE)),
            dropped=Count("id", filter=Q(status=ActionStatus.DROPPED)),
        )
        .order_by()
    )
    rows = {
        r["region_id"]: RateRow(
            region=r["region__name"],
            slug=r["region__slug"],
            total=r["total"],
            done=r["done"],
            dropped=r["dropped"],
            open=r["total"] - r["done"] - r["dropped"],
        )
        for r in counted
    }
    if cycle is not None:
        taking_part = Region.objects.filter(participations__cycle=cycle).exclude(id__in=list(rows))
        for pk, name, slug in taking_part.values_list("id", "name", "slug"):
            rows[pk] = RateRow(region=name, slug=slug, total=0, done=0, dropped=0, open=0)
    listed = sorted(rows.values(), key=lambda r: r.region)
    return listed, _rate_of(listed)


# --- writes ----------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise FollowUpRefused(_("Write the action."), errors={"text": _("Write the action.")})
    if len(text) > TEXT_MAX:
        message = _("An action is at most %(n)d characters long.") % {"n": TEXT_MAX}
        raise FollowUpRefused(message, errors={"text": message})
    return text


def _check_opd(region: Region, opd: Opd | None) -> None:
    if opd is not None and opd.region_id != region.id:
        raise FollowUpRefused(_("The OPD is not one of the region's."))


def split_text(text: str, *, per_line: bool) -> list[str]:
    """The actions in a recommendation's edited text: one, or one per non-empty line."""
    if not per_line:
        return [text]
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def action_create(
    *,
    participation: Participation,
    feedback: Feedback | None,
    texts: list[str],
    opd: Opd | None,
    due_on: dt.date | None,
    user: AuthUser,
) -> list[FollowUpAction]:
    """Actions of the region on a recommendation of its published cycle, each planned, with
    its first history row and an audit entry. ``feedback`` must be on this participation."""
    cleaned = [_clean_text(t) for t in texts]
    if not cleaned:
        raise FollowUpRefused(_("Write the action."), errors={"text": _("Write the action.")})
    region = participation.region
    _check_opd(region, opd)
    if feedback is not None and feedback.panel_region.participation_id != participation.id:
        raise FollowUpRefused(_("This recommendation is not on the region."))
    if participation.cycle.status != Cycle.Status.PUBLISHED:
        raise FollowUpRefused(_("Actions follow published recommendations only."))
    made = []
    with transaction.atomic():
        for text in cleaned:
            action = FollowUpAction.objects.create(
                region=region, cycle=participation.cycle, feedback=feedback, text=text, opd=opd,
                due_on=due_on, created_by=user,
            )  # fmt: skip
            ActionChange.objects.create(
                action=action, changed_by=user, from_status="", to_status=action.status,
                changes={"text": ["", text], "opd": ["", str(opd or "")], "due_on": ["", _date(due_on)]},
            )  # fmt: skip
            audit.record(
                action=audit.Action.FOLLOWUP_CREATE, user=user, target=action, region=region,
                details={"cycle": participation.cycle.slug, "opd": opd.slug if opd else ""},
            )  # fmt: skip
            made.append(action)
    return made


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _changes(
    action: FollowUpAction, *, text: str, opd: Opd | None, due_on: dt.date | None, done_on: dt.date | None
) -> dict[str, list[str]]:
    """The fields that change, as text: field → [old, new]."""
    shown = {
        "text": (action.text, text),
        "opd": (str(action.opd or ""), str(opd or "")),
        "due_on": (_date(action.due_on), _date(due_on)),
        "done_on": (_date(action.done_on), _date(done_on)),
    }
    return {field: [old, now] for field, (old, now) in shown.items() if old != now}


def _done_date(status: str, done_on: dt.date | None, kept: dt.date | None) -> dt.date | None:
    """A done action's date: the given one (not in the future) or today. Any other status has
    none: the date the action already had (``kept``, still in the form when it leaves *done*) is
    cleared, as the history keeps it, but a date newly given with another status is refused
    rather than silently dropped."""
    if status != ActionStatus.DONE:
        if done_on is not None and done_on != kept:
            message = _("A done date is only for a done action: choose the status Done or clear the date.")
            raise FollowUpRefused(message, errors={"done_on": message})
        return None
    today = timezone.localdate()
    if done_on is not None and done_on > today:
        message = _("The done date cannot be in the future.")
        raise FollowUpRefused(message, errors={"done_on": message})
    return done_on or today


def action_update(
    *,
    action: FollowUpAction,
    user: AuthUser,
    status: str,
    due_on: dt.date | None,
    done_on: dt.date | None = None,
    note: str = "",
    assign: bool = False,
    text: str = "",
    opd: Opd | None = None,
) -> ActionChange:
    """Change an action's status, dates (and with ``assign``, for the regional admin, its
    ``text`` and owning ``opd``) with a note, appended to its history; a note alone is a history
    row too. Dropping needs the reason (the note). ``done_on`` is kept only for a done action:
    the given date (not in the future) or today; with another status a new date is refused and
    the action's former one cleared."""
    note = (note or "").strip()
    if status not in ActionStatus.values:
        raise FollowUpRefused(_("Choose a status."), errors={"status": _("Choose a status.")})
    with transaction.atomic():
        locked = (
            FollowUpAction.objects.select_for_update(of=("self",))
            .select_related("opd", "region")
            .get(pk=action.pk)
        )
        done_on = _done_date(status, done_on, locked.done_on)
        new_text = _clean_text(text) if assign else locked.text
        new_opd = opd if assign else locked.opd
        _check_opd(locked.region, new_opd)
        if status == ActionStatus.DROPPED and locked.status != ActionStatus.DROPPED and not note:
            message = _("Say why the action is dropped.")
            raise FollowUpRefused(message, errors={"note": message})
        changes = _changes(locked, text=new_text, opd=new_opd, due_on=due_on, done_on=done_on)
        if status == locked.status and not changes and not note:
            raise FollowUpRefused(_("Nothing to save: nothing was changed and no note was written."))
        change = ActionChange.objects.create(
            action=locked, changed_by=user, from_status=locked.status, to_status=status, note=note,
            changes=changes,
        )  # fmt: skip
        locked.status, locked.text, locked.opd = status, new_text, new_opd
        locked.due_on, locked.done_on = due_on, done_on
        locked.save()
        audit.record(
            action=audit.Action.FOLLOWUP_UPDATE, user=user, target=locked, region=locked.region,
            details={"from": change.from_status, "to": status, "changed": sorted(changes),
                     "note": bool(note)},
        )  # fmt: skip
    return change


def action_evidence_add(
    *,
    action: FollowUpAction,
    user: AuthUser,
    url: str = "",
    note: str = "",
    upload: UploadedFile | None = None,
) -> ActionEvidence:
    """Evidence that the action was carried out: a file (checked on content, as the
    self-assessment's evidence), a link (http or https) and/or a note."""
    url, note = (url or "").strip(), (note or "").strip()
    if not url and not note and upload is None:
        raise FollowUpRefused(_("Give a file, a link or a note."))
    if url and (problem := link_problem(url)):
        raise FollowUpRefused(problem, errors={"url": problem})
    inspected = None
    if upload is not None:
        try:
            inspected = inspect_upload(upload)
        except UploadRejected as exc:
            raise FollowUpRefused(str(exc), errors={"file": str(exc)}) from None
    with transaction.atomic():
        blob = evidence_blob_store(upload, inspected) if upload is not None and inspected else None
        evidence = ActionEvidence.objects.create(
            action=action, blob=blob, original_name=clean_file_name(upload.name) if upload else "",
            url=url, note=note, added_by=user,
        )  # fmt: skip
        audit.record(
            action=audit.Action.FOLLOWUP_EVIDENCE, user=user, target=action, region=action.region,
            details={"file": blob.sha256 if blob else "", "link": bool(url), "note": bool(note)},
        )  # fmt: skip
    return evidence
