"""Frameworks pinned by content hash, evaluation cycles, their stages and participants."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityeval.engine import Framework, parse_framework
from cityeval.web.regions.models import Region


@lru_cache(maxsize=32)
def _parsed(digest: str, text: str) -> Framework:
    # Stored text was checked when it was uploaded; versions stored before aliases were refused
    # may use them, and a cycle pinned to one must keep its framework.
    return parse_framework(text, allow_aliases=True)


class FrameworkVersion(models.Model):
    """A framework's YAML text, stored under its content hash so a cycle can pin it for good."""

    digest = models.CharField(_("content hash"), max_length=64, unique=True)
    code = models.CharField(_("code"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    source = models.TextField(_("YAML"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-created_at"]
        verbose_name = _("framework version")

    def __str__(self) -> str:
        return f"{self.code} ({self.digest[:12]})"

    @property
    def framework(self) -> Framework:
        return _parsed(self.digest, self.source)


@lru_cache(maxsize=8)
def framework_of(digest: str) -> Framework:
    """The framework stored under ``digest``, read and parsed once per process: a version is
    stored under the hash of its content and never changes, so the digest names it for good.
    (Reading a cycle's framework through a join brings its YAML, ~45 KB, with every row.)"""
    return FrameworkVersion.objects.get(digest=digest).framework


class Cycle(models.Model):
    """One year's evaluation: a pinned framework, stages, participating regions."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        PUBLISHED = "published", _("Published")

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    framework = models.ForeignKey(FrameworkVersion, on_delete=models.PROTECT, related_name="cycles")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    self_assessment_deadline = models.DateTimeField(_("self-assessment deadline"))
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves by one in the same transaction as every write that changes what the results are
    # computed from (scores, consolidated scores, conflicts, participations, panel
    # assignments); a results run records it, and publishing refuses a run it has moved past.
    inputs_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-year", "slug"]
        verbose_name = _("cycle")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Kind(models.TextChoices):
        STAGE_I = "stage_1", _("Stage I")
        STAGE_II = "stage_2", _("Stage II")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="stages")
    kind = models.CharField(_("stage"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)

    class Meta:
        ordering = ["cycle", "kind"]
        constraints = [models.UniqueConstraint(fields=["cycle", "kind"], name="stage_unique_in_cycle")]

    def __str__(self) -> str:
        return f"{self.cycle} — {self.get_kind_display()}"


class Participation(models.Model):
    """A region taking part in a cycle, in a cohort group of the pinned framework."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="participations")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="participations")
    group = models.CharField(_("group"), max_length=40)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["cycle", "region__name"]
        constraints = [models.UniqueConstraint(fields=["cycle", "region"], name="participation_unique")]

    def __str__(self) -> str:
        return f"{self.region} in {self.cycle}"


class StatusChange(models.Model):
    """One change of a cycle's or a region's self-assessment status, with who, when and why.
    Append-only: rows are added by the services and never updated or deleted."""

    class Subject(models.TextChoices):
        CYCLE = "cycle", _("Cycle")
        SELF_ASSESSMENT = "self_assessment", _("Self-assessment")

    class Action(models.TextChoices):
        OPEN = "open", _("Opened")
        CLOSE = "close", _("Closed")
        REOPEN = "reopen", _("Reopened")
        PUBLISH = "publish", _("Published")
        SUBMIT = "submit", _("Submitted")

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="status_changes")
    participation = models.ForeignKey(
        Participation, null=True, blank=True, on_delete=models.CASCADE, related_name="status_changes"
    )
    subject = models.CharField(_("subject"), max_length=20, choices=Subject.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=20)
    to_status = models.CharField(_("to"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("status change")

    def __str__(self) -> str:
        return f"{self.cycle} {self.subject} {self.from_status}→{self.to_status}"
