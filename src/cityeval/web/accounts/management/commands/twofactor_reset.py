"""``cityeval manage twofactor_reset NAME``: turn off a user's two-factor sign-in when they have
lost both their phone and their recovery codes (after checking who is asking, outside the app)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cityeval.web.accounts.twofactor import twofactor_reset


class Command(BaseCommand):
    help = "Remove a user's two-factor devices and recovery codes (recorded in the audit trail)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **kw):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        if twofactor_reset(user=user):
            self.stdout.write(f"{username}: two-factor sign-in removed; the password alone opens the account")
        else:
            self.stdout.write(f"{username} had no two-factor sign-in")
