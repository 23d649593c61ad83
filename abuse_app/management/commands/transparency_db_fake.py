"""Run a local fake of the DSA Transparency Database (for demos and trying the sender).

    python manage.py transparency_db_fake                 # 127.0.0.1:7121
    python manage.py transparency_db_fake --fault-rate 0.3 --existing-shape statement

Prints the settings that point the portal at it. The fake follows the database's
published API and validation rules (abuse_app/fakes/transparency_db.py); nothing leaves
this machine.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from abuse_app.fakes.transparency_db import FakeTransparencyDatabase


class Command(BaseCommand):
    help = "Run a local fake of the DSA Transparency Database API (for demos; never for production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=7121, help="Port to listen on (127.0.0.1).")
        parser.add_argument("--token", default="fake-tdb-token", help="The Bearer token it accepts.")
        parser.add_argument("--fault-rate", type=float, default=0.0, help="Share of calls answered 500/503 (0–1).")
        parser.add_argument(
            "--existing-shape", choices=["puid", "statement"], default="puid",
            help="What a repeated puid's 422 carries: only the puid (the server's code) or the statement (the docs).",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["fault_rate"] <= 1:
            raise CommandError(f"--fault-rate: give a share from 0 to 1, not {options['fault_rate']}")
        if not 1 <= options["port"] <= 65535:
            raise CommandError(f"--port: {options['port']} is not a TCP port")
        fake = FakeTransparencyDatabase(
            token=options["token"], fault_rate=options["fault_rate"], existing_shape=options["existing_shape"]
        )
        try:
            fake.start(port=options["port"])
        except OSError as exc:
            raise CommandError(f"--port: cannot listen on 127.0.0.1:{options['port']} ({exc.strerror or exc})")
        self.stdout.write(f"""Fake DSA Transparency Database on {fake.url} (Ctrl-C stops it). Settings:

PORTAL_DSA_TDB_ENABLED=true
PORTAL_DSA_TDB_ENVIRONMENT=sandbox
PORTAL_DSA_TDB_SANDBOX_URL={fake.url}
PORTAL_DSA_TDB_TOKEN={fake.token}
""")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        fake.stop()
