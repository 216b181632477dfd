from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One piece of long work asked for on a page. ``key`` names what it makes (the same
    request twice is one job); ``heartbeat_at`` moves on at every step, so a job whose worker
    died (``kill -9``) is seen as stale and queued again (see ``services.job_recover_stale``)."""

    class Kind(models.TextChoices):
        CYCLE_LETTER = "cycle_letter", _("Whole-cycle letter")
        NATIONAL_EXPORT = "national_export", _("National table download")
        ITEMS_EXPORT = "items_export", _("Item scores download")
        RESULTS_COMPUTE = "results_compute", _("Results computation")
        SURVEY_IMPORT = "survey_import", _("Survey responses import")
        REGION_IMPORT = "region_import", _("Import regions")
        NOTICES_SEND = "notices_send", _("Sending notices")
        JOBS_PRUNE = "jobs_prune", _("Deleting old jobs")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=40, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=300, blank=True)  # in default_storage, once done
    download_name = models.CharField(max_length=150, blank=True)
    # A job that makes no file (it writes to the database) says what it did and where to see it.
    result_text = models.TextField(blank=True)
    result_url = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
