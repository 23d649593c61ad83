"""manage.py api_key create|list|revoke: host-app API keys from the shell (audited).

    python manage.py api_key create --name "host app" --scopes transmissions:write consents:read
    python manage.py api_key list
    python manage.py api_key revoke --prefix AbCdEf12

``create`` prints the key once; only its hash is stored (as in the admin, which
needs a 2FA staff login — this command is for deploy scripts and first setup).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import audit
from portal.models import ApiKey

ACTOR = "command:manage.py api_key"


class Command(BaseCommand):
    help = "Create, list or revoke host-app API keys (the key is printed once at creation)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = actions.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--name", required=True, help="Who uses the key, e.g. the host app's name.")
        create.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            metavar="SCOPE",
            help="One or more of: " + ", ".join(ApiKey.Scope.values),
        )
        actions.add_parser("list", help="List keys (prefix, name, scopes, last use; never the key).")
        revoke = actions.add_parser("revoke", help="Revoke a key by its prefix.")
        revoke.add_argument("--prefix", required=True, help="The key's prefix, as shown by list.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name: str, scopes: list[str], **options: Any) -> None:
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("--name: give the key a name of 1 to 100 characters (who uses it).")
        unknown = [scope for scope in scopes if scope not in ApiKey.Scope.values]
        if unknown:
            raise CommandError(
                f"--scopes: {', '.join(unknown)} not known; use one or more of: {', '.join(ApiKey.Scope.values)}"
            )
        key, raw = ApiKey.issue(name=name, scopes=list(dict.fromkeys(scopes)))
        audit.record(
            subject_type="api_key", subject_id=key.pk, action="api_key.created", actor=ACTOR,
            data={"scopes": key.scopes},
        )
        self.stdout.write(f"Created API key {key.name!r} (prefix {key.prefix}), scopes: {', '.join(key.scopes)}")
        self.stdout.write("Copy the key now; it is not stored and will not be shown again:")
        self.stdout.write(raw)

    def _list(self, **options: Any) -> None:
        keys = ApiKey.objects.order_by("created_at")
        if not keys:
            self.stdout.write("No API keys. Create one: manage.py api_key create --name … --scopes …")
            return
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
            self.stdout.write(f"{key.prefix}  {key.name}  [{', '.join(key.scopes)}]  {state}, last used {used}")

    def _revoke(self, *, prefix: str, **options: Any) -> None:
        key = ApiKey.objects.filter(prefix=prefix.strip()).first()
        if key is None:
            raise CommandError(f"--prefix: no API key with prefix {prefix!r} (see manage.py api_key list).")
        if not key.revoke(actor=ACTOR):
            raise CommandError(f"API key {key.prefix} ({key.name}) was already revoked on {key.revoked_at:%Y-%m-%d}.")
        self.stdout.write(f"Revoked API key {key.prefix} ({key.name}).")
