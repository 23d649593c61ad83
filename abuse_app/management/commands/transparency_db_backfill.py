"""Queue statements of reasons for decisions that have none yet (taken before sending was set up).

    python manage.py transparency_db_backfill --since 2026-01-01 --dry-run
    python manage.py transparency_db_backfill --since 2026-01-01

The sender then sends them like any other (100 per call, exactly once by puid).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from abuse_app.management.commands._args import day
from abuse_app.services.transparency_db import statements_backfill


class Command(BaseCommand):
    help = "Queue Transparency Database submissions for decisions that have none (e.g. taken before set-up)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=day, required=True, help="First decision day to include (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Only count them.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = datetime.combine(options["since"], time.min, tzinfo=timezone.get_current_timezone())
        count = statements_backfill(since=since, dry_run=options["dry_run"])
        verb = "would be queued" if options["dry_run"] else "queued"
        self.stdout.write(f"{count} statement(s) of reasons {verb} for decisions since {options['since']}.")
