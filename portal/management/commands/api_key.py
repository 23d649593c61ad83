"""manage.py api_key create | list | revoke: host-app API keys from the shell.

The admin can do the same, but only behind a second factor in a browser; a
deployment script or an operator on the server needs this. Both go through
``portal.api_keys.issue_key``/``revoke_key``: same hashing (only the SHA-256 of
the key is stored), same name and scope checks, same audit events — the actor
recorded here is "manage.py api_key" with the shell user.

``create`` writes the key itself, alone, to stdout and everything else to
stderr, so ``KEY=$(manage.py api_key create ...)`` captures just the key. It is
shown this once; ``list`` shows only the 8-character prefix.
"""

from __future__ import annotations

import getpass
import re
from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal import api_keys, tokens
from portal.models import ApiKey

DAYS_RE = re.compile(r"^(\d{1,5})d$")


def shell_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container running as an unnamed uid)
        user = "unknown"
    return f"system:manage.py api_key (shell user {user})"


def parse_expiry(value: str) -> datetime:
    """``2027-06-30`` (00:00 that day, portal time zone), an ISO date-time, or ``90d`` (days from now)."""
    value = value.strip()
    days = DAYS_RE.match(value)
    if days:
        if int(days.group(1)) < 1:
            raise CommandError("--expires: give at least 1 day, e.g. --expires 90d.")
        return timezone.now() + timedelta(days=int(days.group(1)))
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:  # well-formed but impossible, e.g. 2027-02-30
        moment = None
    if moment is None:
        raise CommandError(
            f"--expires: '{value}' is not a date. Use YYYY-MM-DD (e.g. 2027-06-30), an ISO date-time "
            "(2027-06-30T12:00:00Z) or a number of days (90d)."
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Create, list and revoke host-app API keys (the key is printed once, at creation)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--name", required=True, help="Who uses the key, e.g. shop-backend (unique).")
        create.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated, from: {', '.join(ApiKey.Scope.values)}.",
        )
        create.add_argument(
            "--expires",
            help="YYYY-MM-DD (the key stops working at 00:00 that day, portal time zone), "
            "an ISO date-time, or a number of days like 90d. Default: never.",
        )
        actions.add_parser("list", help="Every key: name, prefix, scopes, created, last used, expiry, revoked.")
        revoke = actions.add_parser("revoke", help="Revoke a key by its name or prefix.")
        revoke.add_argument(
            "key", metavar="NAME_OR_PREFIX", help="The key's name, its 8-character prefix, or the whole key."
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"handle_{action}")(**options)

    # --- create ------------------------------------------------------------------------------------
    def handle_create(self, *, name: str, scopes: str, expires: str | None = None, **options: Any) -> None:
        expires_at = parse_expiry(expires) if expires else None
        try:
            key, raw = api_keys.issue_key(
                name=name, scopes=scopes.split(","), expires_at=expires_at, actor=shell_actor()
            )
        except api_keys.ApiKeyError as exc:
            raise CommandError(str(exc)) from exc
        expiry = f"expires {timezone.localtime(key.expires_at):%Y-%m-%d %H:%M %Z}" if key.expires_at else "no expiry"
        self.stderr.write(
            f"Created API key '{key.name}' (prefix {key.prefix}), scopes {', '.join(key.scopes)}, {expiry}.\n"
            "Copy it now: only its hash is stored and it will not be shown again. "
            "Send it as 'Authorization: Bearer <key>'."
        )
        self.stdout.write(raw)

    # --- list --------------------------------------------------------------------------------------------
    def handle_list(self, **options: Any) -> None:
        header = ("name", "prefix", "scopes", "created", "last used", "expires", "revoked")
        rows = [
            (
                key.name,
                key.prefix,
                ",".join(key.scopes),
                _when(key.created_at),
                _when(key.last_used_at),
                (_when(key.expires_at) + (" (expired)" if key.is_expired else "")) if key.expires_at else "never",
                _when(key.revoked_at),
            )
            for key in ApiKey.objects.order_by("created_at", "pk")
        ]
        if not rows:
            self.stdout.write("No API keys yet. Create one: manage.py api_key create --name NAME --scopes SCOPES")
            return
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    # --- revoke ------------------------------------------------------------------------------------------
    def handle_revoke(self, *, key: str, **options: Any) -> None:
        target = self._find(key.strip())
        if api_keys.revoke_key(target, actor=shell_actor()):
            self.stdout.write(
                self.style.SUCCESS(
                    f"Revoked API key '{target.name}' (prefix {target.prefix}). Calls with it now get 401."
                )
            )
        else:
            self.stdout.write(
                f"API key '{target.name}' (prefix {target.prefix}) was already revoked on "
                f"{_when(target.revoked_at)}; nothing changed."
            )

    def _find(self, value: str) -> ApiKey:
        if not value:
            raise CommandError("Give the name or the prefix of the key to revoke (see manage.py api_key list).")
        if value.startswith("pk_") and len(value) > 20:  # the whole key, e.g. one that leaked
            found = ApiKey.objects.filter(key_hash=tokens.hash_token(value)).first()
            if found is None:
                raise CommandError("No API key matches the key given (it may come from another installation).")
            return found
        by_name = list(ApiKey.objects.filter(name=value).order_by("revoked_at", "-created_at"))
        active = [k for k in by_name if k.revoked_at is None]
        if len(active) > 1:
            prefixes = ", ".join(k.prefix for k in active)
            raise CommandError(
                f"{len(active)} keys are named '{value}' (prefixes {prefixes}); revoke one by its prefix."
            )
        if by_name:
            return active[0] if active else by_name[0]
        by_prefix = ApiKey.objects.filter(prefix=value.removeprefix("pk_")).first()
        if by_prefix is None:
            raise CommandError(f"No API key has the name or prefix '{value}'. See manage.py api_key list.")
        return by_prefix
