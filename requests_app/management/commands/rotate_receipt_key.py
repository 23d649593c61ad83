"""manage.py rotate_receipt_key: retire the receipt signing key and start signing with a new one.

Run it once to create the key file in production (PORTAL_RECEIPT_KEY_FILE), and
again whenever the key should change (a schedule, staff leaving, a suspected
leak). The retired key's private half is deleted from the file; its public half
stays published, so every receipt it signed keeps verifying. Copy the new file
to every web and worker machine.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from portal import audit
from requests_app.engine import receipt_keys


class Command(BaseCommand):
    help = "Retire the current Ed25519 receipt signing key (keeping its public half) and create a new one."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            old_kid, new_kid = receipt_keys.rotate()
        except receipt_keys.KeyFileError as exc:
            raise CommandError(str(exc))
        except OSError as exc:
            raise CommandError(f"{receipt_keys.path()}: cannot write the key file ({exc.strerror})")
        try:
            audit.record(
                subject_type="receipt_key",
                subject_id=new_kid,
                action="receipt_key.rotated",
                actor="system:manage.py rotate_receipt_key",
                data={"retired": old_kid, "current": new_kid},
            )
        except DatabaseError as exc:  # the key file is what matters; say plainly what was not recorded
            self.stderr.write(f"Note: the rotation was not written to the audit trail (database: {exc}).")
        if old_kid:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Retired key {old_kid} (its public half stays published) and created key {new_kid} in "
                    f"{receipt_keys.path()}. Copy this file to every web and worker machine."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created the first receipt signing key {new_kid} in {receipt_keys.path()}. Give every web "
                    "and worker machine this file (PORTAL_RECEIPT_KEY_FILE) and back it up."
                )
            )
