"""manage.py check_stores [--file PATH] [--no-connect]: validate the stores file and reach every store.

Every problem names the file, the store, the field (or table) and what is wrong.
Connected, it also reads each sql store's schema and warns about tables that may
hold personal data but are not declared (coverage check):

    ⚠ store "app-db" (sql): billing_invoice.user_id references accounts_user.id but is not declared

Exits 1 if anything is wrong or uncovered, so deploy scripts can stop on it;
declare the table, or add it with ignore = "reason" to leave it out on purpose.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from requests_app.engine import retention
from requests_app.management.commands._files import file_errors
from requests_app.stores import registry
from requests_app.stores.base import Store, StoreError


class Command(BaseCommand):
    help = "Validate the stores file (PORTAL_STORES_FILE) and test the connection to every store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="Stores file to check (default: PORTAL_STORES_FILE).")
        parser.add_argument("--no-connect", action="store_true", help="Only validate; do not connect to stores.")

    def handle(self, *args: Any, file: str | None = None, no_connect: bool = False, **options: Any) -> None:
        path = file or settings.PORTAL_STORES_FILE
        loaded = _load(path)
        problems = list(loaded.errors)
        if not loaded.errors:
            problems += retention.policy_errors(loaded)
        self.stdout.write(f"Stores file: {path}")
        for error in problems:
            self.stderr.write(self.style.ERROR(f"  ✗ {error}"))
        failed = bool(problems)
        uncovered = 0
        for store in loaded.stores:
            label = f'store "{store.name}" ({store.kind})'
            if no_connect:
                self.stdout.write(self.style.SUCCESS(f"  ✓ {label}: configuration valid"))
            elif self._reachable(store, label):
                uncovered += self._coverage_gaps(store, label)
            else:
                failed = True
        if uncovered:
            self.stderr.write(
                self.style.WARNING(
                    f"  {uncovered} table link(s) not covered: declare each table in its store "
                    '(erase = "delete", "keep" or anonymize), or add it with ignore = "reason".'
                )
            )
            failed = True
        if failed:
            raise CommandError(f"{path}: the stores configuration has problems (see above)")
        self.stdout.write(self.style.SUCCESS(f"All {len(loaded.stores)} store(s) are ready."))

    def _reachable(self, store: Store, label: str) -> bool:
        """Connect to the store and say how it went."""
        try:
            store.check_connection()
        except StoreError as exc:
            self.stderr.write(self.style.ERROR(f"  ✗ {label}: {exc}"))
            return False
        except Exception as exc:  # a driver error we did not classify: still name the store
            self.stderr.write(self.style.ERROR(f"  ✗ {label}: cannot connect: {type(exc).__name__}"))
            return False
        self.stdout.write(self.style.SUCCESS(f"  ✓ {label}: configuration valid, reachable"))
        return True

    def _coverage_gaps(self, store: Store, label: str) -> int:
        """Warn about each table the store may hold personal data in but does not declare; how many."""
        gaps = getattr(store, "coverage_messages", None)
        if gaps is None:
            return 0
        try:
            messages = gaps()
        except Exception as exc:  # reachable a moment ago; name it and go on
            messages = [f"coverage check failed: {exc}"]
        for message in messages:
            self.stderr.write(self.style.WARNING(f"  ⚠ {label}: {message}"))
        return len(messages)


def _load(path: str) -> registry.Loaded:
    """The stores file read (its errors in it); CommandError when it is no stores file at all."""
    registry._cache.clear()
    with file_errors(path, f"give the stores file itself, e.g. {path}/stores.toml"):
        try:
            loaded = registry.load(path)
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not a text file; a stores file is TOML in UTF-8 (docs/stores.md)")
    return loaded
