"""Follow-up actions (issue 15): what a region does about the assessors' recommendations of a
published cycle, tracked to the next cycle.

Why in ``results``: an action follows a *published* recommendation (``panels.Feedback`` shown
to the region by the results pages), and the follow-up rate is read beside the results; only
``results`` sits above both ``panels`` and the publication, so it may import them both.

An action keeps its current state (text, owning OPD, status, dates) on its row for the lists;
every change of it is appended to :class:`ActionChange` with who, when, from, to and a note,
and its evidence to :class:`ActionEvidence`. Neither is ever changed or deleted: their model
refuses ``save()`` of a stored row and ``delete()``, their queryset ``update()`` and
``delete()`` (as the audit trail's entries do).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityeval.web.assessments.models import EvidenceBlob
from cityeval.web.audit.models import AppendOnly
from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import Feedback
from cityeval.web.regions.models import Opd, Region


class FollowUpChanged(Exception):
    """Something tried to change or delete a follow-up action's history or evidence."""


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class FollowUpAction(models.Model):
    """One action a region takes on a recommendation of ``cycle``'s published results."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="followup_actions")
    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="followup_actions")
    # The assessor's feedback whose recommendation the action follows (feedback is append-only,
    # so this row keeps the text as it was published). One recommendation may give several.
    feedback = models.ForeignKey(
        Feedback, null=True, blank=True, on_delete=models.PROTECT, related_name="followup_actions"
    )
    text = models.TextField(_("action"))
    opd = models.ForeignKey(
        Opd, null=True, blank=True, on_delete=models.PROTECT, related_name="followup_actions",
        verbose_name=_("owning OPD"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region", "-cycle__year", "created_at", "id"]
        verbose_name = _("follow-up action")
        indexes = [models.Index(fields=["region", "cycle"], name="followup_region_cycle")]

    def __str__(self) -> str:
        return self.text[:80]


class ActionChange(AppendOnly):
    """One change of an action: its status (``from_status`` → ``to_status``; the same for a
    note or an edit that keeps the status), the other fields changed (``changes``: field →
    [old, new], as text) and a note. The first row of an action is its creation
    (``from_status`` empty)."""

    changed = FollowUpChanged
    changed_message = "a follow-up action's history and evidence are append-only"

    action = models.ForeignKey(FollowUpAction, on_delete=models.PROTECT, related_name="history")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ActionStatus.choices)
    note = models.TextField(_("note"), blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["action", "changed_at", "id"]
        verbose_name = _("follow-up action change")
        constraints = [
            models.CheckConstraint(
                name="followup_drop_has_reason",
                condition=~Q(to_status="dropped") | Q(from_status="dropped") | ~Q(note=""),
            )
        ]

    @property
    def from_label(self) -> str:
        return str(ActionStatus(self.from_status).label) if self.from_status else ""


class ActionEvidence(AppendOnly):
    """Evidence that an action was carried out: a file (checked on content and stored once per
    content hash, as the self-assessment's evidence: ``assessments.EvidenceBlob``), a link
    (http or https) and/or a text note."""

    changed = FollowUpChanged
    changed_message = "a follow-up action's history and evidence are append-only"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    action = models.ForeignKey(FollowUpAction, on_delete=models.PROTECT, related_name="evidence")
    blob = models.ForeignKey(EvidenceBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "added_at", "id"]
        verbose_name = _("follow-up evidence")
        constraints = [
            models.CheckConstraint(
                name="followup_evidence_not_empty",
                condition=Q(blob__isnull=False) | ~Q(url="") | ~Q(note=""),
            )
        ]
