"""Memberships bind a user to a scope with a role; API tokens authenticate scripts."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cityeval.web.regions.models import Opd, Region


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("National coordinator")
    REGIONAL_ADMIN = "regional_admin", _("Regional admin")
    OPD_CONTRIBUTOR = "opd_contributor", _("OPD contributor")
    ASSESSOR = "assessor", _("Assessor")
    KKPD_ADMIN = "kkpd_admin", _("KKPD administrator")
    CARD_HOLDER = "card_holder", _("KKPD card holder")
    KKPD_INSPECTOR = "kkpd_inspector", _("KKPD inspector")


class Membership(models.Model):
    """A user's role in a scope: national (coordinator, assessor), a region, or one OPD.
    Deactivated (``active`` false) rather than deleted, so that the history stays."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    opd = models.ForeignKey(Opd, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    # A deactivated membership gives no access (``access.memberships`` reads active ones only)
    # but is kept, never deleted: what the person did in the role stays attributed to them.
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.CheckConstraint(
                name="membership_scope_fits_role",
                condition=(
                    Q(role__in=["coordinator", "assessor"], region__isnull=True, opd__isnull=True)
                    | Q(
                        role__in=["regional_admin", "kkpd_admin", "kkpd_inspector"],
                        region__isnull=False,
                        opd__isnull=True,
                    )
                    | Q(role__in=["opd_contributor", "card_holder"], region__isnull=False, opd__isnull=False)
                ),
            ),
            # One membership per user, role and scope (conditional, as SQLite cannot treat
            # NULLs as equal in a unique constraint).
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(region__isnull=True), name="membership_unique_national"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=Q(region__isnull=False, opd__isnull=True),
                name="membership_unique_regional",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "opd"], condition=Q(opd__isnull=False), name="membership_unique_opd"
            ),
        ]

    def __str__(self) -> str:
        scope = self.opd or self.region or _("national")
        return f"{self.user} — {self.get_role_display()} ({scope})"


class HashedToken:
    """A secret kept only as its SHA-256 (``digest``): API tokens and invitation links."""

    PREFIX = ""

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    @classmethod
    def new_token(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)


class ApiToken(HashedToken, models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    PREFIX = "ce_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")


class ResetRequest(models.Model):
    """One password reset request, counted for the rate limits: ``key`` is ``ip:<address>`` or
    ``to:<SHA-256 of the e-mail address>`` (the address itself is not kept). Wrong two-factor
    codes are counted here too, as ``otp:<user id>`` (``accounts.twofactor``)."""

    key = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["key", "created_at"], name="resetrequest_key_time")]


class Invitation(HashedToken, models.Model):
    """An invitation to take a role: a single-use link sent by e-mail that expires. Only the
    token's SHA-256 is stored (as for API tokens); resending makes a new token. The membership
    is created when the invitee accepts. ``ref`` names the invitation in URLs."""

    PREFIX = "inv_"
    ROLES = (Role.REGIONAL_ADMIN, Role.OPD_CONTRIBUTOR, Role.ASSESSOR)

    ref = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    opd = models.ForeignKey(Opd, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations")
    # Assessors: where they come from (the panels' affiliation codes) and their organisation.
    affiliation = models.CharField(_("affiliation"), max_length=20, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, default="id")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")

    def __str__(self) -> str:
        return f"{self.email} — {self.get_role_display()}"

    @property
    def is_pending(self) -> bool:
        return self.used_at is None and self.revoked_at is None
