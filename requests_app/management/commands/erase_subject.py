"""manage.py erase_subject --email X [--dry-run] [--notify]: erase one person's data across every store.

Staff tool for requests received outside the portal (letter, phone). It files
a deletion request (channel "staff"), runs it here with the same engine the
workers use, shows a progress bar and a summary table, and keeps the signed
receipt on the request. Everything is audited. ``--dry-run`` only discovers:
it shows what would be erased and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import audit
from requests_app.engine import cli
from requests_app.engine.local import discover_all
from requests_app.management.commands import _subject_command as common
from requests_app.stores import registry
from requests_app.stores.base import Discovery, Store, StoreError


class Command(BaseCommand):
    help = "Erase a person's data from every configured store (audited; --dry-run shows what would go)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's e-mail address.")
        parser.add_argument("--dry-run", action="store_true", help="Only find and count; change nothing.")
        parser.add_argument("--notify", action="store_true", help="E-mail the receipt to the person.")
        parser.add_argument(
            "--reason", default="Erasure requested outside the portal", help="Why (kept in the audit trail)."
        )

    def handle(
        self, *args: Any, email: str, dry_run: bool = False, notify: bool = False, reason: str = "", **options: Any
    ) -> None:
        email = common.clean_email(email)
        if dry_run:
            return self.dry_run(email, reason)
        request = common.create_request("deletion", email, "erase_subject", reason)
        self.stdout.write(f"Erasing the data of request {request.reference} ...")
        request = common.run(request, self.stdout, notify)
        self.stdout.write("")
        self.stdout.write(common.summary(request))
        if request.status != "completed":
            raise CommandError(
                f"{request.reference} needs attention: {request.attention_reason} — fix it and "
                "use the retry action in the admin."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{request.reference}: completed and verified. The signed receipt is on the request "
                f"(manage.py verify_receipt --reference {request.reference})."
            )
        )

    def dry_run(self, email: str, reason: str) -> None:
        """Discovery only, through the engine's own steps (``engine.local.discover_all``): what workers would find."""
        try:
            stores = registry.stores()
        except registry.StoresConfigError as exc:
            raise CommandError("The stores file has errors; run manage.py check_stores:\n" + str(exc))
        rows: list[list[Any]] = []
        warnings: list[str] = []
        bar = cli.ProgressBar(self.stdout, len(stores))

        def show(store: Store, found: Discovery | StoreError) -> None:
            if isinstance(found, StoreError):
                rows.append([store.name, store.kind, "error", str(found)[:100]])
                bar.step(f"{store.name} · error")
                return
            detail = ", ".join(f"{k}: {v}" for k, v in found.summary().items() if v) or "-"
            rows.append([store.name, store.kind, found.found, detail])
            for gap in found.not_covered:
                warnings.append(_not_covered_line(store.name, gap.as_dict()))
            bar.step(f"{store.name} · found {found.found}")

        discover_all({"email": {email}}, progress=show)
        bar.close()
        audit.record(
            subject_type="command",
            subject_id="erase_subject",
            action="erase_dry_run",
            actor=common.actor("erase_subject"),
            reason=reason,
            data={"stores": len(rows), "found": sum(r[2] for r in rows if isinstance(r[2], int))},
        )
        self.stdout.write("")
        self.stdout.write(cli.table(["store", "kind", "found", "where"], rows))
        for warning in warnings:
            self.stdout.write(self.style.WARNING(warning))
        self.stdout.write(self.style.WARNING("Dry run: nothing was changed."))


def _not_covered_line(store_name: str, gap: dict[str, Any]) -> str:
    gap_rows = gap.get("rows")
    count = "rows unknown: cannot read it" if gap_rows is None else f"{gap_rows} row(s) of this person"
    line = f"not covered: {store_name} · {gap['table']} ({count}) — {gap['why']}"
    if gap.get("blocks_erasure"):
        line += (
            "; the erasure would FAIL on it (its rows reference rows being deleted)"
            if gap_rows
            else "; the erasure may fail on it (its rows may reference rows being deleted)"
        )
    return line
