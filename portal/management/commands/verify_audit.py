"""manage.py verify_audit [--anchor SEQ:HASH] [--seal]: is the audit trail intact?

Walks the hash chain from the first event and names the first broken link (an
edited, deleted or reordered event). ``--anchor`` also checks the chain against
a head from a daily anchor e-mail, which catches a trail rewritten with freshly
computed hashes. Exits 1 when anything is wrong.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import audit_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; names the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--anchor", help="SEQ:HASH from an audit anchor e-mail")
        parser.add_argument("--seal", action="store_true", help="Seal unsealed events first (as the beat job does).")

    def handle(self, *args: Any, anchor: str | None = None, seal: bool = False, **options: Any) -> None:
        parsed = None
        if anchor:
            match = re.fullmatch(r"\s*(\d+):([0-9a-f]{64})\s*", anchor)
            if not match:
                raise CommandError("--anchor: expected SEQ:HASH as in the anchor e-mail, e.g. 1234:9f86d08…(64 hex)")
            parsed = (int(match.group(1)), match.group(2))
        if seal:
            self.stdout.write(f"Sealed {audit_chain.seal()} event(s).")
        report = audit_chain.verify(anchor=parsed)
        if not report.ok:
            raise CommandError(f"BROKEN after {report.checked} good event(s): {report.problem}")
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.checked} event(s) chained, head seq {report.head_seq} hash {report.head_hash}"
                + (f"; matches the anchor at seq {parsed[0]}" if parsed else "")
            )
        )
