"""manage.py compile_translations [--all]: build the ``.mo`` files of LOCALE_PATHS (see portal.translations)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.translations import TranslationsError, compile_all


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po into .mo (GNU msgfmt where installed, else polib)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Also those whose .mo is newer than the .po.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = compile_all(settings.LOCALE_PATHS, only_stale=not options["all"])
        except TranslationsError as exc:
            raise CommandError(str(exc))
        for po, tool in done:
            self.stdout.write(f"{po.with_suffix('.mo')} ({tool})")
