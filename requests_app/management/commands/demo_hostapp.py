"""manage.py demo_hostapp [--reset]: a small demo host app (SQLite database + files) under var/demo/.

The schema and data are ``requests_app.demo``'s, the same the tests and benchmarks use.

Used by ``make run`` so a person can try an access or deletion request end to
end against docs/examples/stores.toml: file a request as alice@example.com (or
bob@example.org) and watch the engine find, export or erase their rows and files.
It also sets up the demo's consent purposes in the portal's database when there are none,
so /consent/ has something to give or withdraw (a person can ask for a consent link there
as alice@example.com).

Idempotent: an existing demo is left alone unless --reset; purposes are never touched once
any exist (the operator's own, set up in the admin, stay as they are).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from portal.config import env_str
from requests_app import consent, demo
from requests_app.models import ConsentPurpose

# The consent purposes of the demo host app: what it would send to Microsoft, and why.
DEMO_PURPOSES = [
    (
        "face-tagging",
        "Face tagging in photos",
        ["face"],
        "We send the photos you upload to Microsoft's Face service to find the faces in them and to "
        "recognise you in new photos. We keep a face template for as long as you keep this feature on.",
    ),
    (
        "voice-note-transcripts",
        "Transcripts of your voice notes",
        ["speech"],
        "We send the voice notes you record to Microsoft's Speech service, which writes down what you "
        "said so you can search your notes. Microsoft does not keep the recordings after transcribing them.",
    ),
]


def demo_dir() -> Path:
    return Path(env_str("PORTAL_DEMO_DIR", "") or settings.BASE_DIR / "var" / "demo")


class Command(BaseCommand):
    help = "Create the demo host app (SQLite database and files) used by docs/examples/stores.toml."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset", action="store_true", help="Recreate it from scratch.")

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        self.seed_purposes()
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

    def seed_purposes(self) -> None:
        if ConsentPurpose.objects.exists():
            return
        for slug, title, services, notice in DEMO_PURPOSES:
            purpose = ConsentPurpose.objects.create(slug=slug, title=title, services=services)
            consent.publish_notice(purpose=purpose, text=notice, actor="system:demo_hostapp")
        self.stdout.write(f"Demo consent purposes set up: {', '.join(slug for slug, *_ in DEMO_PURPOSES)}.")
