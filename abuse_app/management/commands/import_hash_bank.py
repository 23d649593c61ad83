"""Import a hash bank from a CSV file (or a ThreatExchange-style export): ``import_hash_bank NAME FILE``."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from abuse_app.services import hash_matching


class Command(BaseCommand):
    help = (
        "Import PDQ/MD5 hashes into a bank. CSV with a 'hash' (or 'signal') column and a 'kind' "
        "(or 'signal_type': pdq, md5, video_md5) column, optional 'label'; or one hash per line with --kind."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the bank's name (created if new)")
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=["pdq", "md5"], default="", help="kind of every line without one")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read as UTF-8 text ({exc})")
        result = hash_matching.bank_import_csv(name=options["name"], text=text, default_kind=options["kind"])
        for problem in result.refused[:50]:
            self.stderr.write(f"{path}: {problem}")
        self.stdout.write(
            f"Bank {options['name']}: {result.added} added, {result.already} already there, "
            f"{len(result.refused)} refused."
        )
