"""The masterplan programme registry, quick wins, their criteria self-assessment and risks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.models import Cycle
from cityeval.web.regions.models import Opd, Region


class Programme(models.Model):
    """A smart-city programme of a region's masterplan, owned by one OPD.

    ``dimension`` and ``subdimension`` are codes of the dimension tree of the frameworks
    (e.g. ``governance`` / ``service``).
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="programmes")
    name = models.CharField(_("name"), max_length=200)
    dimension = models.CharField(_("dimension"), max_length=40)
    subdimension = models.CharField(_("sub-dimension"), max_length=40, blank=True)
    owner = models.ForeignKey(
        Opd, on_delete=models.PROTECT, related_name="programmes", verbose_name=_("owning OPD")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    description = models.TextField(_("description"), blank=True)
    beneficiaries = models.PositiveIntegerField(_("users or beneficiaries served"), null=True, blank=True)
    is_quick_win = models.BooleanField(_("quick win"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region", "dimension", "name"]
        verbose_name = _("programme")
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="programme_name_unique_in_region")
        ]

    def __str__(self) -> str:
        return self.name


class QuickWinCriterionAnswer(models.Model):
    """A quick win's self-assessed level on one Quick Win criterion (an item of the cycle's
    ``quick_win`` component). Append-only: the latest per criterion counts."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="criterion_answers")
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="+")
    criterion = models.CharField(_("criterion"), max_length=80)
    level = models.FloatField(_("level"))
    note = models.TextField(_("note"), blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "criterion", "-created_at", "-id"]
        indexes = [models.Index(fields=["programme", "cycle", "criterion"])]


class Risk(models.Model):
    """One row of a quick win's risk register."""

    class Rating(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="risks")
    risk = models.TextField(_("risk"))
    likelihood = models.CharField(_("likelihood"), max_length=6, choices=Rating.choices)
    impact = models.CharField(_("impact"), max_length=6, choices=Rating.choices)
    mitigation = models.TextField(_("mitigation"))
    owner = models.CharField(_("owner"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "created_at"]
        verbose_name = _("risk")
