"""Export the DSA transparency report (Implementing Regulation (EU) 2024/2835) for a period.

    python manage.py dsa_transparency_report --from 2026-01-01 --to 2026-06-30 --format xlsx -o report.xlsx
    python manage.py dsa_transparency_report --from 2026-01-01 --to 2026-06-30 --format csv

``--to`` is the last day included. The items the portal cannot know are left empty and
listed (on stderr, and in the file).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abuse_app.dsa.report import build_report, period, report_csv, report_xlsx
from abuse_app.management.commands._args import day


class Command(BaseCommand):
    help = "Export the DSA transparency report for a period as XLSX or CSV (empty cells listed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", type=day, required=True, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="last", type=day, required=True, help="Last day included (YYYY-MM-DD).")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("-o", "--output", help="File to write (CSV: stdout when omitted).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["last"] < options["first"]:
            raise CommandError(f"--to {options['last']} is before --from {options['first']}")
        report = build_report(*period(options["first"], options["last"]))
        if options["format"] == "xlsx":
            if not options["output"]:
                raise CommandError("--output: give a file name for the XLSX report")
            with open(options["output"], "wb") as handle:
                handle.write(report_xlsx(report))
        elif options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(report_csv(report))
        else:
            self.stdout.write(report_csv(report), ending="")
        for section, item, why in report.unknown:
            sys.stderr.write(f"empty (fill in by hand): {section} / {item}: {why}\n")
