"""The self-assessment: item assignments to OPDs, append-only answers, evidence."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.models import Participation
from cityeval.web.regions.models import Opd


class ItemAssignment(models.Model):
    """Which OPD answers an item of a region's self-assessment."""

    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="assignments")
    item = models.CharField(_("item"), max_length=80)
    opd = models.ForeignKey(Opd, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["participation", "item"], name="assignment_unique")]


class AnswerRevision(models.Model):
    """One revision of a region's answer to an item. Never updated: a change is a new row,
    and the latest row per (participation, item) is the answer."""

    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="answers")
    item = models.CharField(_("item"), max_length=80)
    level = models.FloatField(_("claimed level"), null=True, blank=True)
    raw_value = models.FloatField(_("raw value"), null=True, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participation", "item", "-created_at", "-id"]
        indexes = [models.Index(fields=["participation", "item", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                name="answer_has_a_value",
                condition=Q(level__isnull=False) | Q(raw_value__isnull=False),
            )
        ]


def _blob_path(instance: EvidenceBlob, filename: str) -> str:
    return f"evidence/{instance.sha256[:2]}/{instance.sha256}"


class EvidenceBlob(models.Model):
    """The bytes of an evidence file, stored once per content hash."""

    sha256 = models.CharField(max_length=64, unique=True)
    file = models.FileField(upload_to=_blob_path, max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)


class Evidence(models.Model):
    """A file or link offered as evidence for an item, with who added it and when."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="evidence")
    item = models.CharField(_("item"), max_length=80)
    blob = models.ForeignKey(
        EvidenceBlob, null=True, blank=True, on_delete=models.PROTECT, related_name="uses"
    )
    url = models.URLField(_("link"), max_length=500, blank=True)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["participation", "item", "uploaded_at"]
        verbose_name = _("evidence")
        constraints = [
            models.CheckConstraint(
                name="evidence_is_file_or_link",
                condition=(Q(blob__isnull=False) & Q(url="")) | (Q(blob__isnull=True) & ~Q(url="")),
            )
        ]
