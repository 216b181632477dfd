"""``cityeval manage adduser NAME --role ROLE [--region SLUG] [--opd SLUG]``.

Creates the user if needed (with a generated password, printed once) and gives the role.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from cityeval.web.accounts.models import Role
from cityeval.web.accounts.services import membership_grant
from cityeval.web.regions.models import Opd, Region


class Command(BaseCommand):
    help = "Create a user (if new) and give them a role in a scope."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--region", help="region slug (regional admin, OPD contributor)")
        parser.add_argument("--opd", help="OPD slug within --region (OPD contributor)")
        parser.add_argument("--email", default="")

    @transaction.atomic
    def handle(self, *args, username: str, role: str, region: str | None, opd: str | None, email: str, **kw):
        the_region = the_opd = None
        if role not in (Role.COORDINATOR, Role.ASSESSOR):
            if not region:
                raise CommandError(f"--region is required for {role}")
            the_region = Region.objects.filter(slug=region).first()
            if the_region is None:
                raise CommandError(f"no region with slug {region!r}")
        if role in (Role.OPD_CONTRIBUTOR, Role.CARD_HOLDER):
            the_opd = Opd.objects.filter(region=the_region, slug=opd or "").first()
            if the_opd is None:
                raise CommandError(
                    f"--opd must name an OPD of {region} (slugs: "
                    + ", ".join(Opd.objects.filter(region=the_region).values_list("slug", flat=True))
                    + ")"
                )
        elif role in (Role.COORDINATOR, Role.ASSESSOR) and (region or opd):
            raise CommandError(f"{role} is national: leave out --region and --opd")
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = users.create_user(username=username, email=email, password=password)
            self.stdout.write(f"created user {username} with password {password} (shown once)")
        try:
            with transaction.atomic():
                membership_grant(member=user, role=role, region=the_region, opd=the_opd, by=None)
        except IntegrityError:
            raise CommandError(f"{username} already has that role there") from None
        self.stdout.write(f"{username}: {role}" + (f" in {the_opd or the_region}" if the_region else ""))
