"""manage.py demo_hostapp [--reset]: a small demo host app (SQLite database + files) under var/demo/.

The schema and data are ``requests_app.demo``'s, the same the tests and benchmarks use.

Used by ``make run`` so a person can try an access or deletion request end to
end against docs/examples/stores.toml: file a request as alice@example.com (or
bob@example.org) and watch the engine find, export or erase their rows and files.
Idempotent: an existing demo is left alone unless --reset.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from portal.config import env_str
from requests_app import demo


def demo_dir() -> Path:
    return Path(env_str("PORTAL_DEMO_DIR", "") or settings.BASE_DIR / "var" / "demo")


class Command(BaseCommand):
    help = "Create the demo host app (SQLite database and files) used by docs/examples/stores.toml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Recreate it from scratch.")

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        root = demo_dir()
        database = root / "hostapp.sqlite3"
        if reset:
            shutil.rmtree(root, ignore_errors=True)
        if database.exists():
            self.stdout.write(f"Demo host app already in {root} (use --reset to recreate it).")
            return
        demo.create_demo(root)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo host app created in {root}: try a request as alice@example.com or bob@example.org."
            )
        )
