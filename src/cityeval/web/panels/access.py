"""Who may see and do what on a region's panel pages, and when the cycle lets panels change.

The blind rule lives here: before an assessor has submitted their own marks for a region,
nothing they are shown holds another member's score or the consolidation; afterwards they see
every member's latest score. The national coordinator sees all scores at any time. Regional
users never reach a panel page (404) — a panel member included, once they hold a role in the
region (regional admin or OPD contributor): that role is a conflict of interest however late it
was given.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404

from cityeval.engine import Framework
from cityeval.web.accounts.access import User, is_assessor, is_coordinator
from cityeval.web.accounts.models import Membership
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.panels.models import Conflict, Panel, PanelMember, PanelRegion, ScoreSubmission

STAGES: tuple[str, ...] = tuple(Stage.Kind.values)
DEFAULT_DISAGREEMENT_RANGE = 2.0

# --- settings and cycle state --------------------------------------------------------------------


def disagreement_range() -> float:
    """The score range (max − min) of an item from which the panel's scores are flagged as a
    disagreement: ``settings.PANEL_DISAGREEMENT_RANGE``, 2 levels by default."""
    return float(getattr(settings, "PANEL_DISAGREEMENT_RANGE", DEFAULT_DISAGREEMENT_RANGE))


def stage_label(stage: str) -> str:
    return str(Stage.Kind(stage).label)


# --- access ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRegionAccess:
    """What one user may see and do on a region's panel pages at one stage."""

    panel_region: PanelRegion
    member: PanelMember | None  # None: the coordinator, not on this panel
    is_coordinator: bool
    submitted: ScoreSubmission | None  # the member's own submission for this region
    conflicted: bool  # the member declared a conflict with the region, or has a role in it
    role_in_region: bool = False  # the member has a regional role in the region (a conflict)

    @property
    def panel(self) -> Panel:
        return self.panel_region.panel

    @property
    def participation(self) -> Participation:
        return self.panel_region.participation

    @property
    def cycle(self) -> Cycle:
        return self.panel_region.participation.cycle

    @property
    def framework(self) -> Framework:
        return self.cycle.framework.framework

    @property
    def is_chair(self) -> bool:
        return self.member is not None and self.member.is_chair

    @property
    def sees_all_scores(self) -> bool:
        """The blind rule: the coordinator always, a member once they submitted their marks."""
        return self.is_coordinator or self.submitted is not None

    @property
    def may_score(self) -> bool:
        return self.member is not None and not self.conflicted

    @property
    def may_edit_interview(self) -> bool:
        return self.is_coordinator or self.is_chair

    @property
    def may_view_consolidation(self) -> bool:
        return self.is_coordinator or (self.is_chair and self.submitted is not None)

    @property
    def may_consolidate(self) -> bool:
        return self.is_chair and self.submitted is not None and not self.conflicted


def stage_or_404(stage: str) -> str:
    if stage not in STAGES:
        raise Http404
    return stage


def panel_region_access(user: User, *, cycle: str, stage: str, region: str) -> PanelRegionAccess:
    """The user's access to the panel pages of ``region`` at ``stage`` of ``cycle``.

    404 unless the user is the coordinator or an assessor on the panel the region is assigned
    to (an assessor membership is needed as well: revoking it closes every panel page). A
    member with a regional role in the region (given after the assignment, which refuses it)
    is a regional user there: 404, unless they are the coordinator too, who reads on but is
    conflicted (cannot score) like a member who declared a conflict.
    """
    stage_or_404(stage)
    coordinator = is_coordinator(user)
    if not (user.is_authenticated and (coordinator or is_assessor(user))):
        raise Http404
    panel_region = get_object_or_404(
        PanelRegion.objects.select_related(
            "panel", "participation__cycle__framework", "participation__region__province"
        ),
        participation__cycle__slug=cycle,
        participation__region__slug=region,
        stage=stage,
    )
    member = None
    if is_assessor(user):
        member = PanelMember.objects.filter(panel=panel_region.panel, user=user).first()
    if member is None and not coordinator:
        raise Http404
    submitted = None
    conflicted = role_in_region = False
    if member is not None:
        region_id = panel_region.participation.region_id
        # Every membership, a deactivated one too: having held a role there is the conflict.
        role_in_region = Membership.objects.filter(user=user, region_id=region_id).exists()
        if role_in_region and not coordinator:
            raise Http404
        submitted = ScoreSubmission.objects.filter(panel_region=panel_region, assessor=user).first()
        conflicted = role_in_region or Conflict.objects.filter(user=user, region_id=region_id).exists()
    return PanelRegionAccess(
        panel_region=panel_region,
        member=member,
        is_coordinator=coordinator,
        submitted=submitted,
        conflicted=conflicted,
        role_in_region=role_in_region,
    )
