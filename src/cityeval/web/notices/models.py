"""Notices: what happened that concerns one person, shown in the site and sent by e-mail.

A notice stores its kind and parameters, not its text: the text is written in the reader's
language when it is shown or mailed (``notices.texts``). ``dedupe_key`` is unique per user, so
the same event (or the same reminder) never makes a second notice, however often it is sent.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ITEM_ASSIGNED = "item_assigned", _("Items assigned")
    EVIDENCE_REQUESTED = "evidence_requested", _("Evidence requested")
    SELF_ASSESSMENT_REMINDER = "self_assessment_reminder", _("Self-assessment deadline")
    PANEL_ASSIGNED = "panel_assigned", _("Panel assignment")
    SCORES_DUE = "scores_due", _("Scores due")
    RESULTS_PUBLISHED = "results_published", _("Results published")


class Notice(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    params = models.JSONField(default=dict)
    url = models.CharField(max_length=500)  # the path of the page the notice is about
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the notice was mailed (alone or in a digest); set before sending, as a claim, and
    # cleared again when sending fails, so two runs never mail it twice.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], name="notice_unique_per_user")]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notice_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.kind} ({self.dedupe_key})"


class NoticePreference(models.Model):
    """How a person gets their notices by e-mail, and in which language."""

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", _("At once, one e-mail per notice")
        DAILY = "daily", _("Once a day, in one digest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference"
    )
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.IMMEDIATE
    )
    # Empty: the language of the invitation the person accepted, else Indonesian.
    language = models.CharField(_("language"), max_length=8, blank=True)
    digest_sent_on = models.DateField(null=True, blank=True)  # the local day of the last digest

    class Meta:
        verbose_name = _("notice preference")
