"""Run the local Azure fakes (Face, Video Indexer, Speech) for ``make run`` demos.

    python manage.py azure_fakes --seed            # fixed ports 7101-7103, demo data for user_id 1
    python manage.py azure_fakes --latency 0.02 --tps 10

Prints a stores-file snippet pointing at them. The fakes follow the REST
contracts of the real services (see requests_app/stores/azure/fakes/); nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from requests_app.stores.azure.fakes.face import FakeFace
from requests_app.stores.azure.fakes.speech import FakeSpeech
from requests_app.stores.azure.fakes.video_indexer import FakeVideoIndexer


def _port(value: str) -> int:
    """The first of three ports: all three must be valid TCP ports."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number")
    if not 1 <= port <= 65533:
        raise argparse.ArgumentTypeError(f"{port}: give a port from 1 to 65533 (three ports from it are used)")
    return port


def _at_least(minimum: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number")
        if not number >= minimum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{value}: give {minimum} or more")
        return number

    return parse


class Command(BaseCommand):
    help = "Run local fakes of Azure AI Face, Video Indexer and Speech (for demos; never for production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=_port, default=7101, help="First port (Face); VI and Speech use the next two."
        )
        parser.add_argument("--latency", type=_at_least(0), default=0.0, help="Seconds added to every reply.")
        parser.add_argument("--tps", type=_at_least(0.1), default=None, help="Requests per second before 429s.")
        parser.add_argument("--seed", action="store_true", help="Create demo data for user_id 1.")

    def handle(self, *args: Any, **options: Any) -> None:
        knobs = {"latency": options["latency"], "tps_limit": options["tps"]}
        face, vi, speech = FakeFace(**knobs), FakeVideoIndexer(**knobs), FakeSpeech(**knobs)
        _start((face, vi, speech), options["port"])
        if options["seed"]:
            face.add_person("app-users", user_data="1", faces=2)
            face.add_person("app-users", user_data="2")
            vi.add_video(external_id="1")
            speech.add_transcription({"user_id": "1"})
        self.stdout.write(_snippet(face, vi, speech))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        for fake in (face, vi, speech):
            fake.stop()


def _start(fakes: tuple[FakeFace, FakeVideoIndexer, FakeSpeech], first_port: int) -> None:
    """Start each fake on its port (the first, then the next two); on a busy port, stop those started."""
    for offset, fake in enumerate(fakes):
        try:
            fake.start(port=first_port + offset)
        except OSError as exc:
            for started in fakes[:offset]:
                started.stop()
            raise CommandError(
                f"--port: cannot listen on 127.0.0.1:{first_port + offset} "
                f"({exc.strerror or exc}); choose another first port, e.g. --port 7201"
            )


def _snippet(face: FakeFace, vi: FakeVideoIndexer, speech: FakeSpeech) -> str:
    """What the command prints: the stores-file entries that point at the running fakes."""
    return f"""Azure fakes running (Ctrl-C stops them). Stores-file snippet:

[[store]]
name = "face"
kind = "azure_face"
endpoint = "{face.url}"
key = "{face.key}"
person_groups = ["app-users"]

[[store]]
name = "videos"
kind = "azure_video_indexer"
endpoint = "{vi.url}"
arm_endpoint = "{vi.url}"
location = "{vi.location}"
account_id = "{vi.account_id}"
subscription_id = "demo"
resource_group = "demo"
account_name = "demo"
bearer_token = "{vi.arm_token}"
external_ids = ["{{user_id}}"]

[[store]]
name = "speech"
kind = "azure_speech"
endpoint = "{speech.url}"
key = "{speech.key}"
custom_property = "user_id"

[[store]]
name = "azure-ledger"
kind = "azure_ledger"
"""
