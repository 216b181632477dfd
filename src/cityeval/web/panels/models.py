"""Assessor panels: members, region assignments, conflicts, interviews, blind scores,
consolidation and feedback. Scores, consolidated scores and feedback are append-only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.regions.models import Region

User = settings.AUTH_USER_MODEL


class Panel(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="panels")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cycle", "stage", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "stage", "name"], name="panel_name_unique_in_stage")
        ]

    def __str__(self) -> str:
        return self.name


class PanelMember(models.Model):
    class Affiliation(models.TextChoices):
        MINISTRY = "ministry", _("Ministry")
        UNIVERSITY = "university", _("University")
        ASSOCIATION = "association", _("Association")
        CONSULTANCY = "consultancy", _("Consultancy")
        OTHER_MINISTRY = "other_ministry", _("Other ministry")

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="panel_memberships")
    affiliation = models.CharField(_("affiliation"), max_length=20, choices=Affiliation.choices)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    is_chair = models.BooleanField(_("chair"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="panel_member_unique"),
            models.UniqueConstraint(fields=["panel"], condition=Q(is_chair=True), name="panel_one_chair"),
        ]


class PanelRegion(models.Model):
    """A region (its participation) assigned to a panel for a stage: one panel per stage."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="regions")
    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="panel_regions")
    stage = models.CharField(max_length=10, choices=Stage.Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participation", "stage"], name="region_one_panel_per_stage")
        ]


class Conflict(models.Model):
    """An assessor's declared conflict of interest with a region (e.g. they advise it)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="conflicts")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(_("reason"), max_length=300)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "region"], name="conflict_unique")]


class Interview(models.Model):
    """The panel's interview of a region at a stage, and the evidence top-up window after it."""

    panel_region = models.OneToOneField(PanelRegion, on_delete=models.CASCADE, related_name="interview")
    scheduled_at = models.DateTimeField(_("date and time"))
    link = models.URLField(_("online link"), blank=True)
    attendees = models.TextField(_("attendees"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    evidence_topup_until = models.DateTimeField(_("evidence top-up deadline"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class EvidenceRequest(models.Model):
    """An item the panel marked "needs evidence": the region may add evidence to it until the
    interview's top-up deadline."""

    panel_region = models.ForeignKey(PanelRegion, on_delete=models.CASCADE, related_name="evidence_requests")
    item = models.CharField(_("item"), max_length=80)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel_region", "item"], name="evidence_request_unique")
        ]


class ItemScore(models.Model):
    """One assessor's score of one item of a region at a stage. Append-only.

    A ``first`` mark is given blind; the latest one per (panel_region, item, assessor) is the
    assessor's first mark, frozen once they submit (no ``first`` row is written after the
    submission). An ``after_discussion`` revision is given after submitting, with its reason,
    and is kept beside the first mark. The result counts the latest after-discussion revision
    if any, else the first mark; agreement is computed on first marks only.
    """

    class Kind(models.TextChoices):
        FIRST = "first", _("first mark")
        AFTER_DISCUSSION = "after_discussion", _("after discussion")

    panel_region = models.ForeignKey(PanelRegion, on_delete=models.CASCADE, related_name="scores")
    item = models.CharField(_("item"), max_length=80)
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="item_scores")
    score = models.FloatField(_("score"))
    note = models.TextField(_("note"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FIRST)
    reason = models.TextField(_("reason"), blank=True)  # why an after-discussion revision differs
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel_region", "item", "assessor", "-created_at", "-id"]
        indexes = [
            models.Index(fields=["panel_region", "item", "assessor", "-created_at"]),
            # "My panels" counts the items an assessor scored in each of their regions (~100
            # regions of ~100 items): read from this index alone.
            models.Index(fields=["assessor", "panel_region", "item"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="first") | (Q(kind="after_discussion") & ~Q(reason="")),
                name="item_score_revision_has_reason",
            )
        ]


class ScoreSubmission(models.Model):
    """An assessor has submitted their marks for a region: only then do they see the others'."""

    panel_region = models.ForeignKey(PanelRegion, on_delete=models.CASCADE, related_name="submissions")
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel_region", "assessor"], name="score_submission_unique")
        ]


class ConsolidatedScore(models.Model):
    """The chair's consolidated score of an item, with a reason. Append-only; the latest counts."""

    panel_region = models.ForeignKey(PanelRegion, on_delete=models.CASCADE, related_name="consolidated")
    item = models.CharField(_("item"), max_length=80)
    score = models.FloatField(_("score"))
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel_region", "item", "-created_at", "-id"]


class Feedback(models.Model):
    """An assessor's strengths, weaknesses and recommendations for a region. Append-only."""

    panel_region = models.ForeignKey(PanelRegion, on_delete=models.CASCADE, related_name="feedback")
    assessor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    strengths = models.TextField(_("strengths"), blank=True)
    weaknesses = models.TextField(_("weaknesses"), blank=True)
    recommendations = models.TextField(_("recommendations"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel_region", "assessor", "-created_at", "-id"]
