"""Writes for assessor panels. Scores, consolidated scores and feedback are appended, never
changed: the latest row counts.

Every write locks the cycle row first (``evaluations.phases.lock``) and refuses with
``CycleClosed`` once the cycle is closed or published (scoring writes also while it is still a
draft), so a write racing the
coordinator's "close" cannot land afterwards. A refused write changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import polars as pl
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.assessments.models import ItemAssignment
from cityeval.web.audit import services as audit
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.phases import Activity
from cityeval.web.evaluations.services import cycle_inputs_changed
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell
from cityeval.web.notices import services as notices
from cityeval.web.notices.models import Kind
from cityeval.web.notices.selectors import opd_contributors, region_admins
from cityeval.web.panels.access import STAGES, stage_label
from cityeval.web.panels.models import (
    Conflict,
    ConsolidatedScore,
    EvidenceRequest,
    Feedback,
    Interview,
    ItemScore,
    Panel,
    PanelMember,
    PanelRegion,
    ScoreSubmission,
)
from cityeval.web.panels.scoresheet import missing_items
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region

NOTE_MAX = 5_000
TEXT_MAX = 10_000
NAME_MAX = 120


class PanelRejected(Refused):
    """A panel rule refused the write (a conflict, a chair, a duplicate…); nothing was saved."""

    status = 403


class ScoreRejected(Refused):
    """Nothing was saved; ``errors`` maps an item code (or a field) to why."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)


def _inputs_changed(panel_region_or_panel: PanelRegion | Panel) -> None:
    """The write changes what the cycle's results are computed from (see
    ``cycle_inputs_changed``); called inside the write's transaction, under the cycle lock."""
    panel = panel_region_or_panel if isinstance(panel_region_or_panel, Panel) else panel_region_or_panel.panel
    cycle_inputs_changed(cycle=panel.cycle)


def _name(user: User) -> str:
    return user.get_username()


def _is_assessor(user: User) -> bool:
    return Membership.objects.filter(
        user=user, role=Role.ASSESSOR, active=True, user__is_active=True
    ).exists()


# --- panels, members, regions -------------------------------------------------------------------------


@transaction.atomic
def panel_create(*, cycle: Cycle, stage: str, name: str) -> Panel:
    """A new, empty panel of ``cycle`` at ``stage``; names are unique within a stage."""
    locked = phases.lock(cycle, Activity.PANELS)
    name = (name or "").strip()
    if stage not in STAGES or not Stage.objects.filter(cycle=locked, kind=stage).exists():
        raise PanelRejected(_("This cycle has no such stage."))
    if not name or len(name) > NAME_MAX:
        raise PanelRejected(_("Give the panel a name of at most %(n)d characters.") % {"n": NAME_MAX})
    if Panel.objects.filter(cycle=locked, stage=stage, name=name).exists():
        raise PanelRejected(
            _("A panel named %(name)s exists already in %(stage)s.")
            % {"name": name, "stage": stage_label(stage)}
        )
    return Panel.objects.create(cycle=locked, stage=stage, name=name)


def _conflicted(users, regions) -> list[tuple[str, str]]:
    """(username, region name) pairs of a conflict of interest between ``users`` and
    ``regions`` (querysets of ids): a declared conflict, or a regional role in the region."""
    declared = Conflict.objects.filter(user_id__in=users, region_id__in=regions)
    roles = Membership.objects.filter(user_id__in=users, region_id__in=regions)
    pairs = {
        (row.user.get_username(), row.region.name)
        for rows in (declared.select_related("user", "region"), roles.select_related("user", "region"))
        for row in rows
        if row.region is not None  # always, as filtered by region; a Membership's may be empty
    }
    return sorted(pairs)


@transaction.atomic
def panel_member_add(
    *,
    panel: Panel,
    user: User,
    affiliation: str,
    organisation: str = "",
    is_chair: bool = False,
) -> PanelMember:
    """Add an assessor to the panel. Refused for users without an assessor role, members, and
    assessors with a declared conflict with a region of the panel. ``is_chair`` makes them the
    chair, unsetting the previous one."""
    phases.lock(panel.cycle, Activity.PANELS)
    if not _is_assessor(user):
        raise PanelRejected(
            _("%(user)s is not an assessor: only assessors can sit on a panel.") % {"user": _name(user)}
        )
    if affiliation not in PanelMember.Affiliation.values:
        raise PanelRejected(_("Choose the assessor's affiliation."))
    if PanelMember.objects.filter(panel=panel, user=user).exists():
        raise PanelRejected(_("%(user)s is on this panel already.") % {"user": _name(user)})
    regions = PanelRegion.objects.filter(panel=panel).values("participation__region_id")
    conflicts = _conflicted([user.pk], regions)
    if conflicts:
        raise PanelRejected(
            _(
                "%(user)s has a conflict of interest with %(region)s, a region of this panel (declared, "
                "or a role in the region): not added."
            )
            % {"user": _name(user), "region": conflicts[0][1]}
        )
    if is_chair:
        PanelMember.objects.filter(panel=panel, is_chair=True).update(is_chair=False)
    member = PanelMember.objects.create(
        panel=panel,
        user=user,
        affiliation=affiliation,
        organisation=(organisation or "").strip()[:200],
        is_chair=is_chair,
    )
    notices.notice_send(
        users=[user],
        kind=Kind.PANEL_ASSIGNED,
        params={"panel": panel.name, "cycle": panel.cycle.name, "stage": panel.stage},
        url=reverse("panels:mine"),
        dedupe_key=f"panel-member:{panel.public_id}",
    )
    return member


@transaction.atomic
def panel_chair_set(*, panel: Panel, user: User) -> PanelMember:
    """Make a member the panel's chair; the previous chair stops being chair in the same
    transaction, so the panel never has two."""
    phases.lock(panel.cycle, Activity.PANELS)
    member = PanelMember.objects.select_for_update().filter(panel=panel, user=user).first()
    if member is None:
        raise PanelRejected(_("%(user)s is not on this panel.") % {"user": _name(user)})
    PanelMember.objects.filter(panel=panel, is_chair=True).exclude(pk=member.pk).update(is_chair=False)
    if not member.is_chair:
        member.is_chair = True
        member.save(update_fields=["is_chair"])
    return member


@transaction.atomic
def panel_member_remove(*, panel: Panel, user: User) -> None:
    """Take a member off the panel; refused once they scored, submitted or wrote feedback on
    one of its regions, since those marks belong to the panel's record."""
    phases.lock(panel.cycle, Activity.PANELS)
    member = PanelMember.objects.filter(panel=panel, user=user).first()
    if member is None:
        raise PanelRejected(_("%(user)s is not on this panel.") % {"user": _name(user)})
    worked = (
        ItemScore.objects.filter(panel_region__panel=panel, assessor=user).exists()
        or ScoreSubmission.objects.filter(panel_region__panel=panel, assessor=user).exists()
        or Feedback.objects.filter(panel_region__panel=panel, assessor=user).exists()
    )
    if worked:
        raise PanelRejected(
            _("%(user)s has recorded marks or feedback on this panel's regions and stays on the record.")
            % {"user": _name(user)}
        )
    member.delete()


def _check_assignable(panel: Panel, participation: Participation) -> PanelRegion | None:
    """Raise PanelRejected if the region cannot go to the panel; the existing assignment to
    this very panel (nothing to do) or None."""
    if participation.cycle_id != panel.cycle_id:
        raise PanelRejected(
            _("%(region)s does not take part in this cycle.") % {"region": participation.region.name}
        )
    existing = (
        PanelRegion.objects.filter(participation=participation, stage=panel.stage)
        .select_related("panel")
        .first()
    )
    if existing is not None and existing.panel_id != panel.id:
        raise PanelRejected(
            _("%(region)s is assigned to the panel %(panel)s for this stage already: remove it there first.")
            % {"region": participation.region.name, "panel": existing.panel.name}
        )
    members = PanelMember.objects.filter(panel=panel).values("user_id")
    conflicted = [user for user, _region in _conflicted(members, [participation.region_id])]
    if conflicted:
        raise PanelRejected(
            _(
                "%(assessors)s has a conflict of interest with %(region)s (declared, or a role in the "
                "region): not assigned to %(panel)s."
            )
            % {"assessors": ", ".join(conflicted), "region": participation.region.name, "panel": panel.name}
        )
    return existing


@transaction.atomic
def panel_region_assign(*, panel: Panel, participation: Participation) -> PanelRegion:
    """Assign a participating region to the panel for the panel's stage. Refused when the
    region is on another panel of the stage or a member declared a conflict with it."""
    phases.lock(panel.cycle, Activity.PANELS)
    existing = _check_assignable(panel, participation)
    if existing is not None:
        raise PanelRejected(_("%(region)s is on this panel already.") % {"region": participation.region.name})
    _inputs_changed(panel)
    return PanelRegion.objects.create(panel=panel, participation=participation, stage=panel.stage)


@transaction.atomic
def panel_region_unassign(*, panel: Panel, participation: Participation) -> None:
    """Take a region off the panel; refused once the panel has started on it (scores,
    feedback, evidence requests or an interview), which would be deleted with it."""
    phases.lock(panel.cycle, Activity.PANELS)
    pr = PanelRegion.objects.filter(panel=panel, participation=participation).first()
    if pr is None:
        raise PanelRejected(_("%(region)s is not on this panel.") % {"region": participation.region.name})
    started = (
        pr.scores.exists()
        or pr.submissions.exists()
        or pr.feedback.exists()
        or pr.consolidated.exists()
        or pr.evidence_requests.exists()
        or Interview.objects.filter(panel_region=pr).exists()
    )
    if started:
        raise PanelRejected(
            _("The panel has started on %(region)s (scores, feedback or an interview): it stays assigned.")
            % {"region": participation.region.name}
        )
    _inputs_changed(panel)
    pr.delete()


_STAGE_WORDS = {
    "stage_1": "stage_1", "1": "stage_1", "i": "stage_1", "stage i": "stage_1", "tahap i": "stage_1",
    "stage_2": "stage_2", "2": "stage_2", "ii": "stage_2", "stage ii": "stage_2", "tahap ii": "stage_2",
}  # fmt: skip


def _assignment_problem(
    panel: Panel,
    participation: Participation,
    region_name: str,
    number: int,
    seen: dict[tuple[int, str], int],
) -> str | None:
    """Why a row cannot assign the region to ``panel``: the region given twice for a stage, or
    an assignment the rules refuse. A row not repeating an earlier one is recorded in ``seen``."""
    key = (participation.id, panel.stage)
    if key in seen:
        return f"'{region_name}' appears twice for {panel.stage} (first at row {seen[key]})"
    seen[key] = number
    try:
        _check_assignable(panel, participation)
    except PanelRejected as exc:
        return str(exc)
    return None


def panel_assignments_import(*, cycle: Cycle, table: pl.DataFrame) -> int:
    """Assign regions to panels from ``panel, region[, stage]`` rows; all or nothing.

    ``panel`` is a panel's name (or public id) in the cycle; ``region`` a participating region's
    name or slug; ``stage`` (``stage_2``, ``2``, ``II``, ``Stage II``) is needed only when both
    stages have a panel of that name. Rows assigning a region to the panel it already has are
    accepted and change nothing. Returns the number of rows. Raises ImportRejected with every
    row's error and saves nothing if any row fails.
    """
    missing = [c for c in ("panel", "region") if c not in table.columns]
    if missing:
        raise ImportRejected([f"column '{missing[0]}': the table has no such column (needs panel, region)"])
    panels = list(Panel.objects.filter(cycle=cycle))
    participations = list(Participation.objects.filter(cycle=cycle).select_related("region"))
    by_region = {p.region.name: p for p in participations} | {p.region.slug: p for p in participations}
    errors = RowErrors()
    planned: list[tuple[Panel, Participation]] = []
    seen: dict[tuple[int, str], int] = {}
    for row in table.iter_rows(named=True):
        number, panel_name, region_name = row[ROW], cell(row, "panel"), cell(row, "region")
        stage_text = cell(row, "stage")
        stage = _STAGE_WORDS.get(stage_text.lower()) if stage_text else None
        if stage_text and stage is None:
            errors.add(number, "stage", f"unknown stage '{stage_text}' (use stage_1 or stage_2)")
            continue
        matches = [
            p
            for p in panels
            if (p.name == panel_name or str(p.public_id) == panel_name) and stage in (None, p.stage)
        ]
        participation = by_region.get(region_name)
        if not matches:
            errors.add(
                number, "panel", f"no panel '{panel_name}' in this cycle" + (f" at {stage}" if stage else "")
            )
        elif len(matches) > 1:
            errors.add(number, "stage", f"both stages have a panel '{panel_name}': give the stage")
        elif participation is None:
            errors.add(number, "region", f"'{region_name}' does not take part in this cycle")
        elif problem := _assignment_problem(matches[0], participation, region_name, number, seen):
            errors.add(number, "region", problem)
        else:
            planned.append((matches[0], participation))
    if errors:
        raise ImportRejected(errors.errors)
    with transaction.atomic():
        phases.lock(cycle, Activity.PANELS)
        created = False
        for panel, participation in planned:
            _check_assignable(panel, participation)  # again, under the lock
            _, new = PanelRegion.objects.get_or_create(
                panel=panel, participation=participation, stage=panel.stage
            )
            created = created or new
        if created:  # as panel_region_assign: results computed before this are stale
            cycle_inputs_changed(cycle=cycle)
    return len(planned)


# --- conflicts and interviews -------------------------------------------------------------------


@transaction.atomic
def conflict_declare(*, user: User, region: Region, reason: str) -> Conflict:
    """Record an assessor's conflict of interest with a region. From then on, panels of any
    cycle refuse to put them together with that region."""
    reason = (reason or "").strip()
    if not _is_assessor(user):
        raise PanelRejected(_("Only assessors declare conflicts of interest."))
    if not reason:
        raise PanelRejected(_("Say what the conflict is (e.g. you advise the region)."))
    if len(reason) > 300:
        raise PanelRejected(_("Keep the reason under %(n)d characters.") % {"n": 300})
    if Conflict.objects.filter(user=user, region=region).exists():
        raise PanelRejected(_("You declared a conflict with %(region)s already.") % {"region": region.name})
    # The assessor's marks on the region stop counting in every cycle they scored it in.
    for cycle in Cycle.objects.filter(
        panels__members__user=user, panels__regions__participation__region=region
    ).distinct():
        cycle_inputs_changed(cycle=cycle)
    return Conflict.objects.create(user=user, region=region, reason=reason)


_LINK_VALIDATOR = URLValidator(schemes=["http", "https"])


@transaction.atomic
def interview_record(
    *,
    panel_region: PanelRegion,
    scheduled_at: dt.datetime,
    link: str = "",
    attendees: str = "",
    notes: str = "",
    evidence_topup_until: dt.datetime | None = None,
) -> Interview:
    """Create or update the interview record of a region at a stage. ``evidence_topup_until``
    opens the evidence top-up window for the items the panel marked "needs evidence"."""
    phases.lock(panel_region.panel.cycle, Activity.PANELS)
    link = (link or "").strip()
    if link:
        try:
            _LINK_VALIDATOR(link)
        except ValidationError:
            raise PanelRejected(_("Give the online link as a full address starting with https://.")) from None
    if evidence_topup_until is not None and evidence_topup_until < scheduled_at:
        raise PanelRejected(_("The evidence top-up deadline cannot be before the interview."))
    interview, _created = Interview.objects.update_or_create(
        panel_region=panel_region,
        defaults={
            "scheduled_at": scheduled_at,
            "link": link,
            "attendees": (attendees or "").strip()[:TEXT_MAX],
            "notes": (notes or "").strip()[:TEXT_MAX],
            "evidence_topup_until": evidence_topup_until,
        },
    )
    if evidence_topup_until is not None:
        # The items already marked "needs evidence" now have a (new) top-up deadline: tell the
        # region again, once per deadline (the notice's dedupe key carries it).
        for item in EvidenceRequest.objects.filter(panel_region=panel_region).values_list("item", flat=True):
            _notify_evidence_requested(panel_region, item)
    return interview


# --- scoring --------------------------------------------------------------------------------------


def _item_codes(panel_region: PanelRegion) -> list[str]:
    participation = panel_region.participation
    framework = participation.cycle.framework.framework
    return [item.code for _component, item in framework.items_for(participation.group)]


def _require_unconflicted(panel_region: PanelRegion, assessor: User) -> None:
    """Refuse a member who declared a conflict with the region, or who has a regional role in
    it (regional admin, OPD contributor) — both can arise after the assignment."""
    region = panel_region.participation.region
    if Conflict.objects.filter(user=assessor, region_id=region.id).exists():
        raise PanelRejected(
            _("You declared a conflict of interest with %(region)s: you cannot score it.")
            % {"region": region.name}
        )
    if Membership.objects.filter(user=assessor, region_id=region.id).exists():
        raise PanelRejected(
            _("You have a role in %(region)s, a conflict of interest: you cannot score it.")
            % {"region": region.name}
        )


def _require_scorer(panel_region: PanelRegion, assessor: User) -> PanelMember:
    member = PanelMember.objects.filter(panel=panel_region.panel, user=assessor).first()
    if member is None:
        raise PanelRejected(_("Only the members of the panel score its regions."))
    _require_unconflicted(panel_region, assessor)
    return member


@transaction.atomic
def evidence_request_toggle(*, panel_region: PanelRegion, item: str, user: User) -> bool:
    """Mark an item "needs evidence" (any panel member who may score the region), or unmark
    it. Returns whether it is marked now. While the interview's top-up window is open the
    region may add evidence to marked items. Refused for a member with a conflict of interest
    with the region (declared, or a role in it), like scoring."""
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    if not PanelMember.objects.filter(panel=panel_region.panel, user=user).exists():
        raise PanelRejected(_("Only the members of the panel mark items as needing evidence."))
    _require_unconflicted(panel_region, user)
    if item not in _item_codes(panel_region):
        raise PanelRejected(_("%(item)s is not an item of this region.") % {"item": item})
    deleted, _rows = EvidenceRequest.objects.filter(panel_region=panel_region, item=item).delete()
    if deleted:
        return False
    EvidenceRequest.objects.create(panel_region=panel_region, item=item, requested_by=user)
    _notify_evidence_requested(panel_region, item)
    return True


def _notify_evidence_requested(panel_region: PanelRegion, item: str) -> None:
    """Tell the region's admins, and the contributors of the OPD the item is assigned to, that
    the panel asks for evidence, with the top-up deadline (once per item, panel and deadline)."""
    participation = panel_region.participation
    interview = Interview.objects.filter(panel_region=panel_region).first()
    until = interview.evidence_topup_until if interview else None
    opds = ItemAssignment.objects.filter(participation=participation, item=item).values_list(
        "opd_id", flat=True
    )
    region = participation.region
    notices.notice_send(
        users=[*region_admins(region.pk), *opd_contributors(opds)],
        kind=Kind.EVIDENCE_REQUESTED,
        params={
            "cycle": participation.cycle.name, "region": region.name, "item": item,
            "stage": panel_region.stage, "until": until.isoformat() if until else "",
        },
        url=reverse(
            "assessments:item",
            kwargs={"region": region.slug, "cycle": participation.cycle.slug, "item": item},
        ),
        dedupe_key=f"evidence-request:{panel_region.pk}:{item}:{until.isoformat() if until else ''}",
    )  # fmt: skip


def score_check(*, panel_region: PanelRegion, scores: Mapping[str, tuple[float, str]]) -> dict[str, str]:
    """Why some scores are not acceptable, by item; empty when all are. A score is a finite
    number on the framework's scale (whole or decimal); a note is at most 5,000 characters."""
    scale = panel_region.participation.cycle.framework.framework.scale
    codes = set(_item_codes(panel_region))
    errors: dict[str, str] = {}
    for item, (score, note) in scores.items():
        if item not in codes:
            errors[item] = _("Not an item of this region.")
        elif score is None or not math.isfinite(score):
            errors[item] = _("The score must be a number.")
        elif not scale.contains(score):
            errors[item] = _("The score must be between %(min)g and %(max)g.") % {
                "min": scale.min,
                "max": scale.max,
            }
        elif len(note or "") > NOTE_MAX:
            errors[item] = _("Keep the note under %(n)d characters.") % {"n": NOTE_MAX}
    return errors


def _reasoned_score_errors(
    panel_region: PanelRegion,
    item: str,
    score: float | None,
    reason: str,
    *,
    no_score: str,
    no_reason: str,
    note: str = "",
) -> dict[str, str]:
    """Why a score given with a mandatory reason (a revision, a consolidated score) is not
    acceptable, by field (``score``, ``reason``); ``no_score``/``no_reason`` say what is missing."""
    errors: dict[str, str] = {}
    if score is None:
        errors["score"] = no_score
    elif problem := score_check(panel_region=panel_region, scores={item: (score, note)}).get(item):
        errors["score"] = problem
    if not reason:
        errors["reason"] = no_reason
    elif len(reason) > NOTE_MAX:
        errors["reason"] = _("Keep the reason under %(n)d characters.") % {"n": NOTE_MAX}
    return errors


def _submitted(panel_region: PanelRegion, assessor: User) -> ScoreSubmission | None:
    return ScoreSubmission.objects.filter(panel_region=panel_region, assessor=assessor).first()


def _latest_marks(
    panel_region: PanelRegion, assessor: User, items
) -> tuple[dict[str, ItemScore], dict[str, ItemScore]]:
    """The assessor's latest first mark and latest after-discussion revision of ``items``."""
    first: dict[str, ItemScore] = {}
    revised: dict[str, ItemScore] = {}
    rows = ItemScore.objects.filter(panel_region=panel_region, assessor=assessor, item__in=items)
    for row in rows.order_by("item", "-created_at", "-id"):
        (first if row.kind == ItemScore.Kind.FIRST else revised).setdefault(row.item, row)
    return first, revised


@transaction.atomic
def item_scores_record(
    *, panel_region: PanelRegion, assessor: User, scores: Mapping[str, tuple[float, str]]
) -> list[ItemScore]:
    """Record an assessor's first marks (``{item: (score, note)}``) as new revisions; all or
    nothing. Only before they submit: the submitted first marks are final (a later change is
    an after-discussion revision, :func:`score_revise`).

    A score and note equal to the assessor's latest revision of the item add no row (so
    sending the submitted marks again changes nothing and is not refused). Returns the rows
    added. Raises ScoreRejected (by item) or PanelRejected, saving nothing.
    """
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    _require_scorer(panel_region, assessor)
    cleaned = {item: (score, (note or "").strip()) for item, (score, note) in scores.items()}
    errors = score_check(panel_region=panel_region, scores=cleaned)
    if errors:
        raise ScoreRejected(errors)
    latest, _revised = _latest_marks(panel_region, assessor, cleaned)
    changed = {
        item: (score, note)
        for item, (score, note) in cleaned.items()
        if item not in latest or (latest[item].score, latest[item].note) != (score, note)
    }
    if changed and _submitted(panel_region, assessor) is not None:
        raise PanelRejected(
            _(
                "Your first marks are submitted and final (%(item)s would change). To change a mark after "
                "the panel's discussion, record an after-discussion revision with its reason."
            )
            % {"item": next(iter(changed))}
        )
    created = [
        ItemScore.objects.create(
            panel_region=panel_region, item=item, assessor=assessor, score=score, note=note
        )
        for item, (score, note) in changed.items()
    ]
    if created:
        _inputs_changed(panel_region)
    return created


@transaction.atomic
def score_revise(
    *,
    panel_region: PanelRegion,
    assessor: User,
    item: str,
    score: float | None,
    reason: str,
    note: str = "",
) -> ItemScore:
    """Record an after-discussion revision of the assessor's mark of ``item``, with its
    mandatory reason. Only after they submitted their first marks, which stay as they were:
    the revision is kept beside the first mark, and the latest revision is what the result
    counts (agreement stays on the first marks). Raises ScoreRejected (by field: ``score``,
    ``reason``) or PanelRejected, saving nothing."""
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    _require_scorer(panel_region, assessor)
    if _submitted(panel_region, assessor) is None:
        raise PanelRejected(
            _("Submit your first marks before revising them after discussion; until then, just change them.")
        )
    reason, note = (reason or "").strip(), (note or "").strip()
    errors = _reasoned_score_errors(
        panel_region,
        item,
        score,
        reason,
        note=note,
        no_score=_("Give the revised score."),
        no_reason=_("Give the reason for the revision (what the discussion showed)."),
    )
    if not errors:
        first, revised = _latest_marks(panel_region, assessor, [item])
        current = revised.get(item) or first.get(item)
        if current is not None and current.score == score:
            errors["score"] = _("This is your counted mark already: nothing to revise.")
    if errors:
        raise ScoreRejected(errors)
    assert score is not None  # a missing score is one of the errors
    row = ItemScore.objects.create(
        panel_region=panel_region,
        item=item,
        assessor=assessor,
        score=score,
        note=note,
        kind=ItemScore.Kind.AFTER_DISCUSSION,
        reason=reason,
    )
    _inputs_changed(panel_region)
    return row


@transaction.atomic
def scores_submit(*, panel_region: PanelRegion, assessor: User) -> ScoreSubmission:
    """Submit the assessor's first marks for the region: every item must have a score. The
    first marks are then frozen (what assessor agreement is computed on) and the assessor sees
    the other members' scores (and, if chair, the consolidation); a later change is an
    after-discussion revision with its reason. Submitting twice returns the first submission."""
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    _require_scorer(panel_region, assessor)
    existing = _submitted(panel_region, assessor)
    if existing is not None:
        return existing
    missing = missing_items(panel_region, assessor)
    if missing:
        raise PanelRejected(
            _("Score every item before submitting: %(n)d items have no score yet (first: %(item)s).")
            % {"n": len(missing), "item": missing[0]}
        )
    return ScoreSubmission.objects.create(panel_region=panel_region, assessor=assessor)


@transaction.atomic
def feedback_record(
    *,
    panel_region: PanelRegion,
    assessor: User,
    strengths: str,
    weaknesses: str,
    recommendations: str,
) -> Feedback:
    """Append the assessor's strengths, weaknesses and recommendations for the region."""
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    _require_scorer(panel_region, assessor)
    texts = [(t or "").strip() for t in (strengths, weaknesses, recommendations)]
    if not any(texts):
        raise PanelRejected(_("Write at least one of strengths, weaknesses or recommendations."))
    if any(len(t) > TEXT_MAX for t in texts):
        raise PanelRejected(_("Keep each text under %(n)d characters.") % {"n": TEXT_MAX})
    return Feedback.objects.create(
        panel_region=panel_region,
        assessor=assessor,
        strengths=texts[0],
        weaknesses=texts[1],
        recommendations=texts[2],
    )


@transaction.atomic
def consolidated_score_record(
    *, panel_region: PanelRegion, item: str, score: float | None, reason: str, user: User
) -> ConsolidatedScore:
    """The chair records the panel's consolidated score of an item, with a mandatory reason.
    Only the chair, and only after submitting their own marks. Appended: the latest counts and
    replaces the panel mean in the results."""
    phases.lock(panel_region.panel.cycle, Activity.SCORING)
    member = _require_scorer(panel_region, user)
    if not member.is_chair:
        raise PanelRejected(_("Only the panel's chair records consolidated scores."))
    if not ScoreSubmission.objects.filter(panel_region=panel_region, assessor=user).exists():
        raise PanelRejected(_("Submit your own marks before consolidating."))
    reason = (reason or "").strip()
    errors = _reasoned_score_errors(
        panel_region,
        item,
        score,
        reason,
        no_score=_("Give the consolidated score."),
        no_reason=_("Give the reason for the consolidated score."),
    )
    if errors:
        raise ScoreRejected(errors)
    assert score is not None  # a missing score is one of the errors
    _inputs_changed(panel_region)
    consolidated = ConsolidatedScore.objects.create(
        panel_region=panel_region, item=item, score=score, reason=reason, decided_by=user
    )
    participation = panel_region.participation
    audit.record(
        action=audit.Action.PANEL_CONSOLIDATE, user=user, target=panel_region.panel,
        region=participation.region,
        details={"cycle": participation.cycle.slug, "stage": panel_region.stage, "item": item,
                 "score": score, "reason": reason},
    )  # fmt: skip
    return consolidated
