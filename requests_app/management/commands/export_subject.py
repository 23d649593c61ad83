"""manage.py export_subject --email X --out FILE: a copy of one person's data as a ZIP file.

Staff tool for access requests received outside the portal. It files an access
request (channel "staff"), runs it here with the same engine the workers use
(progress bar, summary table), and writes the package to FILE. Audited.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from requests_app.management.commands import _subject_command as common
from requests_app.models import AccessPackage


class Command(BaseCommand):
    help = "Export a person's data from every configured store into a ZIP file (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's e-mail address.")
        parser.add_argument("--out", required=True, help="Where to write the ZIP file.")
        parser.add_argument(
            "--reason", default="Access requested outside the portal", help="Why (kept in the audit trail)."
        )

    def handle(self, *args: Any, email: str, out: str, reason: str = "", **options: Any) -> None:
        email = common.clean_email(email)
        target = Path(out)
        if target.exists() and target.is_dir():
            raise CommandError(f"--out: {target} is a folder; give a file name like {target / 'export.zip'}")
        if not target.parent.exists():
            raise CommandError(f"--out: the folder {target.parent} does not exist")
        try:  # before the export runs: a package that cannot be written would stay on the server
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".export-check-"):
                pass
        except OSError as exc:
            raise CommandError(f"--out: cannot write to {target.parent} ({exc.strerror or type(exc).__name__})")
        request = common.create_request("access", email, "export_subject", reason)
        self.stdout.write(f"Exporting the data of request {request.reference} ...")
        request = common.run(request, self.stdout, notify=False)
        self.stdout.write("")
        self.stdout.write(common.summary(request))
        if request.status != "completed":
            raise CommandError(f"{request.reference} needs attention: {request.attention_reason}")
        package = AccessPackage.objects.get(request=request)
        source = Path(settings.PORTAL_PRIVATE_ROOT) / package.path
        try:
            shutil.copyfile(source, target)
        except OSError as exc:  # e.g. the disk filled up meanwhile: the package is still on the request
            raise CommandError(
                f"--out: could not write {target} ({exc.strerror or type(exc).__name__}). The package is still "
                f"on request {request.reference}; free the space and download it from the admin."
            )
        # The staff copy replaces the download link: no second copy stays on the server.
        source.unlink(missing_ok=True)
        package.deleted_at = timezone.now()
        package.save(update_fields=["deleted_at"])
        request.note(
            actor=common.actor("export_subject"),
            action="package_exported_by_command",
            data={"bytes": package.size_bytes, "sha256": package.sha256},
        )
        self.stdout.write(self.style.SUCCESS(f"{request.reference}: wrote {target} ({package.size_bytes} bytes)."))
