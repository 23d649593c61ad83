"""manage.py invite_second_factor USERNAME: a second-factor enrolment invite, printed once.

For the first admin (nobody else can invite them yet) and for recovery from the
shell. Everyone else gets invites from another admin in the user admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import two_factor


class Command(BaseCommand):
    help = "Issue a single-use second-factor enrolment invite for a staff account and print its link once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--hours", type=int, default=None, help="Valid for this many hours (default PORTAL_2FA_INVITE_HOURS)."
        )

    def handle(self, *args: Any, username: str, hours: int | None = None, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_staff or not user.is_active:
            raise CommandError(f"{username}: no active staff account has this username")
        if hours is not None and hours < 1:
            raise CommandError("--hours: at least 1")
        token = two_factor.issue_invite(user=user, actor="system:manage.py invite_second_factor", hours=hours)
        self.stdout.write(
            f"Invite for {username} (works once; earlier invites are canceled):\n{two_factor.invite_url(token)}"
        )
