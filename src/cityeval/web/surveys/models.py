"""The impact survey: a region's plan per cycle, the forms it produces, and the raw responses.

Raw responses are never overwritten or deleted: quality exclusions (non-users, duplicates,
straight-lining, implausibly fast, bursts) are computed by the engine each time they are shown;
the one input stored for them is ``burst``, decided when the response arrived. A
respondent's phone or ID number is never stored, only a salted hash of it (see
``responses.identity_salt``); the same goes for the submitting IP address.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.models import Participation
from cityeval.web.programmes.models import Programme

DEFAULT_TARGET = 50


def new_token() -> str:
    """The unguessable part of a form's public link (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


class Mode(models.TextChoices):
    COMBINED = "combined", _("Combined: one form per dimension (9 statements)")
    SPLIT = "split", _("Split: one form per sub-dimension (3 statements)")


class SurveyPlan(models.Model):
    """How a region runs its impact survey in one cycle."""

    participation = models.OneToOneField(Participation, on_delete=models.CASCADE, related_name="survey_plan")
    target = models.PositiveIntegerField(_("target respondents per form"), default=DEFAULT_TARGET)
    demographics = models.BooleanField(_("ask age band, sex and district"), default=True)
    # Known population shares for raking: [{"age_band": …, "sex": …, "share": 0.12}, …].
    margins = models.JSONField(_("population margins"), null=True, blank=True)
    margins_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("survey plan")

    def __str__(self) -> str:
        return f"{self.participation} — survey"


class PlanEntry(models.Model):
    """The programme or service surveyed for one sub-dimension."""

    plan = models.ForeignKey(SurveyPlan, on_delete=models.CASCADE, related_name="entries")
    subdimension = models.CharField(_("sub-dimension"), max_length=40)
    programme = models.ForeignKey(
        Programme,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("programme"),
    )
    known_users = models.PositiveIntegerField(
        _("known users (overrides the programme's)"), null=True, blank=True
    )

    class Meta:
        ordering = ["plan", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "subdimension"], name="plan_entry_unique_subdimension")
        ]

    @property
    def users(self) -> int | None:
        """The service's number of users: the override, else the programme's beneficiaries."""
        if self.known_users is not None:
            return self.known_users
        return self.programme.beneficiaries if self.programme is not None else None


class DimensionMode(models.Model):
    plan = models.ForeignKey(SurveyPlan, on_delete=models.CASCADE, related_name="modes")
    dimension = models.CharField(_("dimension"), max_length=40)
    mode = models.CharField(_("form mode"), max_length=10, choices=Mode.choices, default=Mode.SPLIT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "dimension"], name="dimension_mode_unique")]


class SurveyForm(models.Model):
    """One questionnaire of the plan, collected on the web at /s/<token>/ or offline (XLSForm)."""

    plan = models.ForeignKey(SurveyPlan, on_delete=models.CASCADE, related_name="forms")
    code = models.CharField(_("code"), max_length=80)
    dimension = models.CharField(_("dimension"), max_length=40)
    subdimension = models.CharField(_("sub-dimension"), max_length=40, blank=True)
    statements = models.JSONField(_("statements"))
    mode = models.CharField(_("form mode"), max_length=10, choices=Mode.choices)
    target = models.PositiveIntegerField(_("target"), default=DEFAULT_TARGET)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    is_open = models.BooleanField(_("open"), default=True)
    demographics = models.BooleanField(_("demographics"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "id"]
        verbose_name = _("survey form")
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="survey_form_code_unique")]

    def __str__(self) -> str:
        return self.code


class ImportBatch(models.Model):
    """One uploaded export (KoboToolbox, ODK Central or the cityeval template)."""

    plan = models.ForeignKey(SurveyPlan, on_delete=models.CASCADE, related_name="imports")
    form = models.ForeignKey(
        SurveyForm, null=True, blank=True, on_delete=models.PROTECT, related_name="imports"
    )
    kind = models.CharField(_("format"), max_length=12)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    rows_added = models.PositiveIntegerField(default=0)
    rows_skipped_duplicate = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]


class Response(models.Model):
    """One respondent's submission, as received. Unique per form by its client-made id."""

    class Source(models.TextChoices):
        WEB = "web", _("Web form")
        IMPORT = "import", _("Imported file")

    form = models.ForeignKey(SurveyForm, on_delete=models.PROTECT, related_name="responses")
    response_id = models.CharField(max_length=100)
    source = models.CharField(max_length=10, choices=Source.choices)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)
    used_service = models.BooleanField(null=True)
    answers = models.JSONField(default=dict)  # {statement code: 0..4 or None}
    age_band = models.CharField(max_length=20, blank=True)
    sex = models.CharField(max_length=20, blank=True)
    district = models.CharField(max_length=120, blank=True)
    identity_hash = models.CharField(max_length=64, blank=True)
    assisted = models.BooleanField(default=False)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_hash = models.CharField(max_length=64, blank=True)
    # The collecting tool's review mark (engine REVIEW_STATES: "rejected" rows are excluded
    # from the statistics), blank when not reviewed or entered on the web form.
    review_state = models.CharField(max_length=20, blank=True)
    # Arrived while its sender's network was over the burst rate: stored, shown in
    # the quality view, excluded from the statistics (see ``surveys.limits``).
    burst = models.BooleanField(default=False)

    class Meta:
        ordering = ["form", "submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "response_id"], name="survey_response_unique_id")
        ]


class RateCounter(models.Model):
    """Submissions counted in one fixed time window, shared by every app process (the public
    survey's abuse limits). ``key`` names what is counted and the window; addresses appear in
    it only as salted hashes. Rows past ``expires_at`` are deleted as new windows open."""

    key = models.CharField(max_length=150, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}={self.count}"
