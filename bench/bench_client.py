"""The host-app client package's cost per Azure call, in the caller's thread (target: < 1 ms).

What the policy adds to one call once the subject's consent is cached (the steady state: answers are
kept 30 s): matching the URL against the table, the consent lookup, parsing the id out of the answer,
and the durable outbox write (one SQLite commit in WAL mode with ``synchronous=FULL``, i.e. an fsync of
the WAL, in ``var/`` on the working disk). Measured three ways:

- ``pipeline_*``: an azure-core pipeline whose transport answers at once, with and without the policy —
  the difference is what a real call pays on top of its network time;
- ``policy_added_fsync_off_*``: the same with ``PortalClient(fsync=False)`` (``synchronous=NORMAL``);
- ``hooks_*``: the policy's two hooks alone, for a Put Blob (id from the URL) and a Face person
  (id from the JSON answer);
- ``hooks_put_blob_cpu_only``: the same hooks timed with the thread's CPU clock: the work itself,
  without waiting for the disk (the fsync) or for the CPU on a busy machine;
- ``outbox_write_*``: the commit alone, with ``synchronous=FULL`` (what the package does) and ``NORMAL``
  (no fsync per commit: not durable across power loss), to show how much of the cost is the disk.

The first consent check of a subject asks the portal (one HTTP round trip) and is not in these figures.
Not measured: the background flusher (it runs in its own thread, off the caller's path).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
N = 300 if QUICK else 2000


def _client(workdir: Path, fsync: bool = True) -> Any:
    from privacy_portal_client import PortalClient

    client = PortalClient(
        "http://127.0.0.1:9", "pk_bench", workdir / f"outbox-{fsync}.sqlite3", autoflush=False, fsync=fsync
    )
    far = time.monotonic() + 10**6  # a warm cache: what every call after a subject's first one sees
    client.consent._purposes = (far, {"face-verification": {"requires_consent": True}})
    client.consent._answers[("user_id", "42", "face-verification")] = (far, True)
    return client


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.99) - 1] * 1e6


def _pipeline_samples(client: Any, with_policy: bool) -> list[float]:
    from azure.core.pipeline import Pipeline
    from azure.core.pipeline.transport import HttpTransport
    from azure.core.rest import HttpRequest

    class Answer:
        status_code = 201
        headers: dict[str, str] = {}  # noqa: RUF012

        def body(self) -> bytes:
            return b""

    class Instant(HttpTransport):  # answers at once: only the pipeline's own work is timed
        def send(self, request: Any, **kwargs: Any) -> Any:
            return Answer()

        def open(self) -> None: ...
        def close(self) -> None: ...
        def __enter__(self) -> Any:
            return self

        def __exit__(self, *args: Any) -> None: ...

    pipeline = Pipeline(Instant(), policies=[client.azure_policy()] if with_policy else [])
    samples = []
    with client.subject(user_id="42", purpose="face-verification"):
        for n in range(N):
            request = HttpRequest(
                "PUT",
                f"https://acct.blob.core.windows.net/photos/users/42/{n}.jpg",
                headers={
                    "x-ms-version": "2025-07-05",
                    "x-ms-blob-type": "BlockBlob",
                    "Content-Type": "image/jpeg",
                    "Content-Length": "183211",
                },
            )
            started = time.perf_counter()
            pipeline.run(request)
            samples.append(time.perf_counter() - started)
    return samples


def _hook_samples(
    client: Any, url: str, headers: dict[str, str], body: bytes, method: str, clock: Any = time.perf_counter
) -> list[float]:
    samples = []
    with client.subject(user_id="42", purpose="face-verification"):
        for _ in range(N):
            started = clock()
            pending = client.before_send(method, url, headers, 183211)
            client.after_response(pending, 200, lambda: body)
            samples.append(clock() - started)
    return samples


def _outbox_samples(workdir: Path, synchronous: str) -> list[float]:
    from privacy_portal_client.outbox import Outbox

    outbox = Outbox(workdir / f"outbox-{synchronous}.sqlite3")
    outbox._db.execute(f"PRAGMA synchronous={synchronous}")
    record = {
        "service": "blob",
        "account": "acct",
        "resource_kind": "blob",
        "resource_id": "users/42/a.jpg",
        "subject_kind": "user_id",
        "subject_value": "42",
        "purpose": "p",
        "payload_kind": "image",
    }
    samples = []
    for _ in range(N):
        item = {**record, "client_id": "pc-" + uuid.uuid4().hex}
        started = time.perf_counter()
        outbox.add(item)
        samples.append(time.perf_counter() - started)
    outbox.close()
    return samples


def run() -> dict:
    (ROOT / "var").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-client-", dir=ROOT / "var"))
    figures: dict[str, Any] = {"calls_per_figure": N}
    try:
        client = _client(workdir)
        bare = _pipeline_samples(client, with_policy=False)
        policed = _pipeline_samples(client, with_policy=True)
        bare_p50, bare_p99 = _percentiles(bare)
        pol_p50, pol_p99 = _percentiles(policed)
        figures["pipeline_without_policy_us_p50"] = round(bare_p50, 1)
        figures["pipeline_with_policy_us_p50"] = round(pol_p50, 1)
        figures["policy_added_us_p50"] = round(pol_p50 - bare_p50, 1)
        figures["policy_added_us_p99"] = round(pol_p99 - bare_p99, 1)
        quick = _client(workdir, fsync=False)
        nofsync_p50, nofsync_p99 = _percentiles(_pipeline_samples(quick, with_policy=True))
        figures["policy_added_fsync_off_us_p50"] = round(nofsync_p50 - bare_p50, 1)
        figures["policy_added_fsync_off_us_p99"] = round(nofsync_p99 - bare_p99, 1)
        quick.outbox.close()
        blob = _hook_samples(
            client,
            "https://acct.blob.core.windows.net/photos/users/42/a.jpg",
            {"x-ms-version": "2025-07-05", "x-ms-blob-type": "BlockBlob"},
            b"",
            "PUT",
        )
        face = _hook_samples(
            client,
            "https://f.cognitiveservices.azure.com/face/v1.2/persongroups/app-users/persons",
            {},
            json.dumps({"personId": str(uuid.uuid4())}).encode(),
            "POST",
        )
        blob_cpu = _hook_samples(
            client,
            "https://acct.blob.core.windows.net/photos/users/42/a.jpg",
            {"x-ms-version": "2025-07-05", "x-ms-blob-type": "BlockBlob"},
            b"",
            "PUT",
            clock=time.thread_time,
        )
        for name, samples in (
            ("hooks_put_blob", blob),
            ("hooks_face_person", face),
            ("hooks_put_blob_cpu_only", blob_cpu),
        ):
            p50, p99 = _percentiles(samples)
            figures[f"{name}_us_p50"], figures[f"{name}_us_p99"] = round(p50, 1), round(p99, 1)
        for mode in ("FULL", "NORMAL"):
            p50, p99 = _percentiles(_outbox_samples(workdir, mode))
            figures[f"outbox_write_{mode.lower()}_us_p50"] = round(p50, 1)
            figures[f"outbox_write_{mode.lower()}_us_p99"] = round(p99, 1)
        figures["target_added_us_at_most"] = 1000
        client.outbox.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for key, value in run().items():
        print(f"{key:<40} {value}")
