"""Stored results: one run per computation, with every intermediate table the engine returned.

A run records the framework hash and the parameters it was computed with, so it can be
re-run exactly. Runs are never changed or deleted: computing again adds a run and makes it
the current one. Values are stored as the engine returned them, unrounded.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.regions.models import Region


class ResultRun(models.Model):
    class Level(models.TextChoices):
        ITEM = "item", _("Item scores")
        COMPONENT = "component", _("Component scores (imported)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="result_runs")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.Kind.choices)
    framework_digest = models.CharField(_("framework hash"), max_length=64)
    level = models.CharField(_("computed from"), max_length=10, choices=Level.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    previous_cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the cycle improvement was computed against
    computed_at = models.DateTimeField(auto_now_add=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    inputs_version = models.PositiveBigIntegerField(null=True, blank=True)  # the cycle's, when computed
    # SHA-256 of the cycle's conflicted (region, assessor) pairs when computed: with the inputs
    # version unchanged and the same pairs, the assessors left out cannot have changed either.
    conflicts_digest = models.CharField(max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["cycle", "-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle"], condition=Q(is_current=True), name="result_run_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cycle} — {self.computed_at:%Y-%m-%d %H:%M}"


class RegionResult(models.Model):
    """A region's line of the national table: components, final, improvement, ranks."""

    run = models.ForeignKey(ResultRun, on_delete=models.CASCADE, related_name="regions")
    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=40)
    province = models.CharField(_("province"), max_length=100)
    panel = models.CharField(_("panel"), max_length=120, blank=True)
    components = models.JSONField(_("component scores"), default=dict)  # {code: score or null}
    component_items = models.JSONField(default=dict)  # {code: [items scored, items expected]}
    final = models.FloatField(_("final"))
    previous_final = models.FloatField(null=True, blank=True)
    improvement = models.FloatField(_("improvement"), null=True, blank=True)
    rank_national = models.PositiveIntegerField(null=True, blank=True)
    rank_province = models.PositiveIntegerField(null=True, blank=True)
    coverage = models.FloatField(_("coverage"), null=True, blank=True)
    participant = models.BooleanField(default=True)

    class Meta:
        ordering = ["run", "rank_national", "region__name"]
        constraints = [models.UniqueConstraint(fields=["run", "region"], name="region_result_unique")]


class ItemResult(models.Model):
    """A region's consolidated item score (never an individual assessor's score)."""

    run = models.ForeignKey(ResultRun, on_delete=models.CASCADE, related_name="items")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    item = models.CharField(_("item"), max_length=80)
    component = models.CharField(_("component"), max_length=60)
    dimension = models.CharField(_("dimension"), max_length=60, blank=True)
    n_assessors = models.PositiveSmallIntegerField(default=0)
    panel_score = models.FloatField(null=True, blank=True)
    consolidated = models.BooleanField(default=False)
    score = models.FloatField(_("score"), null=True, blank=True)
    score_min = models.FloatField(null=True, blank=True)
    score_max = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "region"])]


class DimensionResult(models.Model):
    run = models.ForeignKey(ResultRun, on_delete=models.CASCADE, related_name="dimensions")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    dimension = models.CharField(_("dimension"), max_length=60)
    score = models.FloatField(_("score"), null=True, blank=True)
    items_scored = models.PositiveIntegerField(default=0)
    items_expected = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["run", "region"])]


class AgreementResult(models.Model):
    """Agreement inside one panel on one component's items (Krippendorff's alpha, ICC)."""

    run = models.ForeignKey(ResultRun, on_delete=models.CASCADE, related_name="agreement")
    panel = models.CharField(_("panel"), max_length=120)
    component = models.CharField(_("component"), max_length=60)
    alpha = models.FloatField(null=True, blank=True)
    icc2 = models.FloatField(null=True, blank=True)
    icc2k = models.FloatField(null=True, blank=True)
    n_units = models.PositiveIntegerField(default=0)
    n_values = models.PositiveIntegerField(default=0)
    n_coders = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "panel", "component"]


class LetterDetails(models.Model):
    """What makes a cycle's results letters official, set by the coordinator: the issuing body
    and letterhead, the letter number, place and date, and who signs. The region letter and the
    cycle letter carry them on their first page, with the results report as the attachment."""

    cycle = models.OneToOneField(Cycle, on_delete=models.CASCADE, related_name="letter_details")
    issuing_body = models.CharField(
        _("issuing body"),
        max_length=200,
        help_text=_("e.g. Kementerian Komunikasi dan Digital Republik Indonesia"),
    )
    issuing_unit = models.CharField(_("issuing unit"), max_length=200, blank=True)
    letterhead_address = models.CharField(
        _("letterhead address"), max_length=300, blank=True, help_text=_("Address, telephone, website")
    )
    number = models.CharField(_("letter number"), max_length=100)
    place = models.CharField(
        _("place"), max_length=100, help_text=_("Where the letter is signed, e.g. Jakarta")
    )
    date = models.DateField(_("date"))
    subject = models.CharField(_("subject"), max_length=200)
    signatory_name = models.CharField(_("signatory name"), max_length=150)
    signatory_position = models.CharField(_("signatory position"), max_length=200)
    signatory_id = models.CharField(_("signatory staff number (NIP)"), max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("letter details")

    def __str__(self) -> str:
        return f"{self.cycle} — {self.number}"


class RunUncertainty(models.Model):
    """How far a run's finals and ranks can be trusted: the parameters of the Monte Carlo
    (``cityeval.engine.uncertainty``) computed with an item-level run, and the sources' shares
    of the variance of all finals together. ``reason`` says why there are no intervals when
    the computation could not give them (the region rows are then absent)."""

    class Reason(models.TextChoices):
        NONE = "", _("Computed")
        POINT_MISMATCH = "point_mismatch", _("The re-scored marks did not give back the stored finals")
        FAILED = "failed", _("The engine refused the marks")

    run = models.OneToOneField(ResultRun, on_delete=models.CASCADE, related_name="uncertainty")
    draws = models.PositiveIntegerField(_("draws"))
    seed = models.BigIntegerField(_("seed"))
    sources = models.JSONField(_("sources"), default=list)  # ["assessors", "weights"]
    weight_range = models.FloatField(_("weight range"), null=True, blank=True)
    shares = models.JSONField(_("variance shares"), default=dict)  # {source: share or null}
    parameters = models.JSONField(_("parameters"), default=dict)  # the engine's, as returned
    seconds = models.FloatField(default=0.0)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True, default=Reason.NONE)


class RegionInterval(models.Model):
    """A region's 90 % interval of the final, its national rank's 5th–95th percentile interval
    and its chance of a top-10 rank, over the run's draws; unrounded, as the engine returned."""

    run = models.ForeignKey(ResultRun, on_delete=models.CASCADE, related_name="intervals")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    final = models.FloatField(_("final"))  # the point result, as in RegionResult
    final_lo = models.FloatField(_("final, 5th percentile"))
    final_hi = models.FloatField(_("final, 95th percentile"))
    rank_national = models.PositiveIntegerField(null=True, blank=True)
    rank_lo = models.PositiveIntegerField(null=True, blank=True)
    rank_hi = models.PositiveIntegerField(null=True, blank=True)
    p_top10 = models.FloatField(_("chance of a top-10 rank"))
    share_assessors = models.FloatField(null=True, blank=True)
    share_weights = models.FloatField(null=True, blank=True)
    share_survey = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "rank_national", "region_id"]
        constraints = [models.UniqueConstraint(fields=["run", "region"], name="region_interval_unique")]


# Follow-up actions live in their own module; imported here so that Django finds them.
from cityeval.web.results.followup_models import (  # noqa: E402, F401
    ActionChange,
    ActionEvidence,
    FollowUpAction,
)
