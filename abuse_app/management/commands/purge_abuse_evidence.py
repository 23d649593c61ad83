"""Delete evidence files no case or appeal can need any more (the beat job runs this daily).

Never touches child-safety cases or cases under legal hold; the rows stay (hash, size,
type) as proof of what was received, only the file goes.
"""

from django.core.management.base import BaseCommand

from abuse_app import services


class Command(BaseCommand):
    help = "Delete evidence files whose case is decided and whose appeal window has closed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, dry_run: bool = False, **options):
        count = services.evidence_purge(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} {count} evidence file(s)")
