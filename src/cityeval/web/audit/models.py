"""The audit trail: one row per privileged action, appended and never changed.

The app imports no other app (the region and the user are named by string), so that every app
may record into it: it sits lowest in ``tools/import_graph.APP_ORDER``.

Append-only in the code: :class:`AuditEntry` refuses ``save()`` of a stored row and
``delete()``, its queryset refuses ``update()`` and ``delete()``. On PostgreSQL a trigger
(migration 0002) refuses UPDATE and DELETE as well, for whatever bypasses the model.
:class:`AppendOnly` is that behaviour for any model (the follow-up history uses it too).
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntryChanged(Exception):
    """Something tried to change or delete an audit entry."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses every bulk change or deletion, with its model's ``changed`` exception."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise self.model.changed(self.model.changed_message)

    update = _refuse
    delete = _refuse
    _raw_delete = _refuse
    bulk_update = _refuse


class AppendOnly(models.Model):
    """A row written once and never changed or deleted: ``save()`` of a stored row, ``delete()``
    and the queryset's ``update()``, ``delete()`` and ``bulk_update()`` raise ``changed``."""

    changed: ClassVar[type[Exception]] = Exception
    changed_message: ClassVar[str] = "these rows are append-only: they are never changed or deleted"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            self.refuse()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        self.refuse()

    @classmethod
    def refuse(cls) -> NoReturn:
        raise cls.changed(cls.changed_message)


class Action(models.TextChoices):
    """What was done. Codes are stored; labels are shown (and translated)."""

    MEMBERSHIP_GRANT = "membership_grant", _("Role granted")
    MEMBERSHIP_REVOKE = "membership_revoke", _("Role removed")
    MEMBER_DEACTIVATE = "member_deactivate", _("Member deactivated")
    MEMBER_REACTIVATE = "member_reactivate", _("Member reactivated")
    INVITATION_SEND = "invitation_send", _("Invitation sent")
    INVITATION_RESEND = "invitation_resend", _("Invitation sent again")
    INVITATION_REVOKE = "invitation_revoke", _("Invitation revoked")
    INVITATION_ACCEPT = "invitation_accept", _("Invitation accepted")
    TOKEN_CREATE = "token_create", _("API token created")
    TOKEN_REVOKE = "token_revoke", _("API token revoked")
    TWO_FACTOR_ENABLE = "two_factor_enable", _("Two-factor sign-in turned on")
    TWO_FACTOR_DISABLE = "two_factor_disable", _("Two-factor sign-in turned off")
    RECOVERY_CODES_REGENERATE = "recovery_codes_regenerate", _("New recovery codes made")
    CYCLE_TRANSITION = "cycle_transition", _("Cycle status changed")
    CYCLE_REOPEN = "cycle_reopen", _("Cycle reopened")
    SELF_ASSESSMENT_SUBMIT = "self_assessment_submit", _("Self-assessment submitted")
    SELF_ASSESSMENT_REOPEN = "self_assessment_reopen", _("Self-assessment reopened")
    PANEL_CONSOLIDATE = "panel_consolidate", _("Consolidated score recorded")
    RESULTS_COMPUTE = "results_compute", _("Results computed")
    RESULTS_PUBLISH = "results_publish", _("Results published")
    ASSESSOR_DATA_DOWNLOAD = "assessor_data_download", _("Individual assessors' data read")
    FOLLOWUP_CREATE = "followup_create", _("Follow-up action created")
    FOLLOWUP_UPDATE = "followup_update", _("Follow-up action changed")
    FOLLOWUP_EVIDENCE = "followup_evidence", _("Follow-up evidence added")
    JOBS_PRUNE = "jobs_prune", _("Old background jobs deleted")


class AuditEntry(AppendOnly):
    """Who did what, to what, in which region, when and from where."""

    changed = AuditEntryChanged
    changed_message = "audit entries are append-only: they are never changed or deleted"

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # the entry outlives the account: see username
        db_constraint=False,
        related_name="+",
        verbose_name=_("who"),
    )
    username = models.CharField(_("who"), max_length=150, blank=True)  # kept as it was then
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    target_type = models.CharField(_("target type"), max_length=40, blank=True)
    target_id = models.CharField(_("target id"), max_length=100, blank=True)
    target_text = models.CharField(_("target"), max_length=200, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # the entry outlives the region; target_text names it
        db_constraint=False,
        related_name="+",
        verbose_name=_("region"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    network = models.CharField(_("from network"), max_length=50, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["region", "at"], name="audit_region_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_text}"
