"""Purge reporters' names and e-mails no case or appeal needs any more (the beat job runs this daily).

A notice's reporter identity goes once every case it belongs to is decided, no appeal is
pending, and the appeal window closed ``PORTAL_ABUSE_REPORTER_RETENTION_DAYS`` ago. Cases
under legal hold (every child-safety case, for a year at least) are skipped. The notice
keeps a pseudonym so misuse history and the audit trail still connect.
"""

from django.core.management.base import BaseCommand

from abuse_app import services


class Command(BaseCommand):
    help = "Blank reporters' names and e-mails once their cases and appeal windows are closed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be purged.")

    def handle(self, *args, dry_run: bool = False, **options):
        count = services.reporter_identities_purge(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"would purge the reporter's name and e-mail of {count} notice(s)")
        else:
            self.stdout.write(f"purged the reporter's name and e-mail of {count} notice(s)")
