"""manage.py erase_subject --email X [--dry-run] [--notify]: erase one person's data across every store.

Staff tool for requests received outside the portal (letter, phone). It files
a deletion request (channel "staff"), runs it here with the same engine the
workers use, shows a progress bar and a summary table, and keeps the signed
receipt on the request. Everything is audited. ``--dry-run`` only discovers:
it shows what would be erased and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal import audit
from requests_app.engine import cli
from requests_app.management.commands import _subject_command as common
from requests_app.stores import registry
from requests_app.stores.base import StoreError, Subject


class Command(BaseCommand):
    help = "Erase a person's data from every configured store (audited; --dry-run shows what would go)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="The person's e-mail address.")
        parser.add_argument("--dry-run", action="store_true", help="Only find and count; change nothing.")
        parser.add_argument("--notify", action="store_true", help="E-mail the receipt to the person.")
        parser.add_argument(
            "--reason", default="Erasure requested outside the portal", help="Why (kept in the audit trail)."
        )

    def handle(self, *args, email, dry_run=False, notify=False, reason="", **options):
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
        try:
            stores = registry.stores()
        except registry.StoresConfigError as exc:
            raise CommandError("The stores file has errors; run manage.py check_stores:\n" + str(exc))
        subject = Subject(identities={"email": {email}})
        pending = list(stores)
        rows: list[list[Any]] = []
        warnings: list[str] = []
        bar = cli.ProgressBar(self.stdout, len(pending))
        # dependency order: a store runs once every kind it needs has been looked for
        while pending:
            provided_later = set().union(*(s.provides for s in pending))
            ready = [s for s in pending if not (s.needs & provided_later - s.provides)] or pending[:1]
            for store in ready:
                pending.remove(store)
                try:
                    found = store.discover(subject)
                except StoreError as exc:
                    rows.append([store.name, store.kind, "error", str(exc)[:100]])
                    bar.step(f"{store.name} · error")
                    continue
                for kind, values in found.provides.items():
                    subject.identities.setdefault(kind, set()).update(values)
                detail = found.detail.get("tables") or {
                    k: v for k, v in found.detail.items() if isinstance(v, int)
                }
                rows.append(
                    [
                        store.name,
                        store.kind,
                        found.found,
                        ", ".join(f"{k}: {v}" for k, v in detail.items() if v) or "-",
                    ]
                )
                for gap in found.detail.get("not_covered", []):
                    gap_rows = gap.get("rows")
                    count = (
                        "rows unknown: cannot read it" if gap_rows is None else f"{gap_rows} row(s) of this person"
                    )
                    warnings.append(
                        f"not covered: {store.name} · {gap['table']} ({count}) — {gap['why']}"
                        + (
                            "; the erasure would FAIL on it (its rows reference rows being deleted)"
                            if gap.get("blocks_erasure") and gap_rows
                            else "; the erasure may fail on it (its rows may reference rows being deleted)"
                            if gap.get("blocks_erasure")
                            else ""
                        )
                    )
                bar.step(f"{store.name} · found {found.found}")
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
