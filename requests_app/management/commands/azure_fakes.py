"""Run the local Azure fakes (Face, Video Indexer, Speech) for ``make run`` demos.

    python manage.py azure_fakes --seed            # fixed ports 7101-7103, demo data for user_id 1
    python manage.py azure_fakes --latency 0.02 --tps 10

Prints a stores-file snippet pointing at them. The fakes follow the REST
contracts of the real services (see requests_app/stores/azure/fakes/); nothing leaves this machine.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run local fakes of Azure AI Face, Video Indexer and Speech (for demos; never for production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=7101, help="First port (Face); VI and Speech use the next two."
        )
        parser.add_argument("--latency", type=float, default=0.0, help="Seconds added to every reply.")
        parser.add_argument("--tps", type=float, default=None, help="Requests per second before 429s.")
        parser.add_argument("--seed", action="store_true", help="Create demo data for user_id 1.")

    def handle(self, *args: Any, **options: Any) -> None:
        from requests_app.stores.azure.fakes.face import FakeFace
        from requests_app.stores.azure.fakes.speech import FakeSpeech
        from requests_app.stores.azure.fakes.video_indexer import FakeVideoIndexer

        knobs = {"latency": options["latency"], "tps_limit": options["tps"]}
        face, vi, speech = FakeFace(**knobs), FakeVideoIndexer(**knobs), FakeSpeech(**knobs)
        for offset, fake in enumerate((face, vi, speech)):
            fake.start(port=options["port"] + offset)
        if options["seed"]:
            face.add_person("app-users", user_data="1", faces=2)
            face.add_person("app-users", user_data="2")
            vi.add_video(external_id="1")
            speech.add_transcription({"user_id": "1"})
        self.stdout.write(f"""Azure fakes running (Ctrl-C stops them). Stores-file snippet:

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
""")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        for fake in (face, vi, speech):
            fake.stop()
