"""manage.py azure_scan: list Azure resources whose subject the ledger does not cover (changes nothing).

Each Azure store lists what its configured subject patterns point at (paged, at
the shared rate limit); a resource whose subject has no live ledger row, or was
already erased, is an orphan. The result is kept for the admin (*Azure orphan
scans*); beat runs the same scan weekly.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from requests_app import azure_scan
from requests_app.engine import cli
from requests_app.stores import registry


class Command(BaseCommand):
    help = "List Azure resources matching a subject pattern with no ledger row or an erased subject (read-only)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            registry.stores()
        except registry.StoresConfigError as exc:
            raise CommandError("The stores file has errors; run manage.py check_stores:\n" + str(exc))
        scan = azure_scan.run()
        self.stdout.write(f"Scanned {scan.scanned} resource(s) matching a subject pattern.")
        for error in scan.errors:
            self.stderr.write(self.style.ERROR(f'  ✗ store "{error["store"]}": {error["error"]}'))
        if scan.orphans:
            self.stdout.write(
                cli.table(
                    ["store", "what", "where", "subject", "why"],
                    [
                        [o["store"], o["what"], o["where"], f"{o['identity_kind']}={o['identity_value']}", o["why"]]
                        for o in scan.orphans
                    ],
                )
            )
        self.stdout.write(
            self.style.WARNING(f"{len(scan.orphans)} orphan(s); nothing was changed (scan #{scan.pk} in the admin).")
            if scan.orphans
            else self.style.SUCCESS(f"No orphans; nothing was changed (scan #{scan.pk} in the admin).")
        )
