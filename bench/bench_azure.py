"""Azure erasure speed: Face under a 10 TPS limit, Blob batch deletes on Azurite.

1. 500 Face persons (ledger rows of one subject) erased against the Face fake
   at 20 ms latency enforcing 10 TPS: achieved TPS as % of the limit, 429 count.
2. The same limit with two worker processes sharing the Redis bucket and the
   fake in a process of its own (needs CACHE_URL=redis://…): % of the limit, 429s.
3. 1,000 blobs under one prefix erased on Azurite: HTTP calls made vs. the
   bound "listing + ceil(1000/256) batch deletes".
4. 600 ledgered blobs under one prefix: calls to discover, erase and verify vs.
   ceil(n/5000) + ceil(n/256) + ceil(n/5000).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django() -> None:
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bench_face(persons: int = 500, tps: int = 10, latency: float = 0.02) -> dict:
    from django.utils import timezone

    from requests_app.engine.execute import with_ledger
    from requests_app.models import ConsentPurpose, Transmission
    from requests_app.stores.azure import ratelimit
    from requests_app.stores.azure.face import AzureFaceStore
    from requests_app.stores.azure.fakes.face import FakeFace
    from requests_app.stores.base import Subject

    ratelimit.reset_for_tests(local=not ratelimit.redis_url())
    ConsentPurpose.objects.get_or_create(slug="bench", defaults={"title": "bench", "requires_consent": False})
    with FakeFace(latency=latency, tps_limit=tps) as fake:
        fake.add_group("app-users")
        rows = []
        for i in range(persons):
            person, _ = fake.add_person("app-users", user_data="")
            rows.append(
                Transmission(
                    client_id=f"bench-face-{i}-{person}",
                    service="face",
                    account=fake.url,
                    resource_kind="person",
                    resource_id=person,
                    parent_ids={"person_group": "app-users"},
                    subject_value="bench-subject",
                    purpose="bench",
                    payload_kind="image",
                    sent_at=timezone.now(),
                )
            )
        Transmission.objects.bulk_create(rows)
        store = AzureFaceStore("face", {"endpoint": fake.url, "key": fake.key, "max_tps": tps})
        subject = with_ledger(store, Subject(identities={"user_id": {"bench-subject"}}), [store])
        fake.reset_counters()
        started = time.perf_counter()
        outcome = store.erase(subject)
        seconds = time.perf_counter() - started
        achieved = fake.achieved_tps()
        return {
            "face_persons_erased": outcome.erased,
            "face_persons_left": fake.person_count(),
            "face_requests": fake.requests,
            "face_seconds": round(seconds, 1),
            "face_tps_limit": tps,
            "face_achieved_tps": round(achieved, 2),
            "face_pct_of_limit": round(100 * achieved / tps, 1),
            "face_429s": fake.throttled,
            "face_limiter": "redis" if ratelimit.redis_url() else "in-process",
        }


def bench_blob(blobs: int = 1000) -> dict:
    from azure.storage.blob import BlobServiceClient

    from requests_app.stores.azure.blob import AzureBlobStore
    from requests_app.stores.base import Subject
    from tests.fakes import azurite

    try:
        server = azurite.start()
    except azurite.AzuriteUnavailable as exc:
        return {"blob_skipped": str(exc)}
    try:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        container = service.create_container("media")
        for i in range(blobs):
            container.upload_blob(f"users/42/{i:05d}.jpg", b"x" * 64)
        container.upload_blob("users/7/keep.jpg", b"x")
        store = AzureBlobStore(
            "blobs",
            {
                "connection_string": server.connection_string,
                "container": "media",
                "blobs": ["users/{user_id}/"],
            },
        )
        store.counter.calls = 0
        started = time.perf_counter()
        outcome = store.erase(Subject(identities={"user_id": {"42"}}))
        seconds = time.perf_counter() - started
        left = sum(1 for _ in container.list_blobs(name_starts_with="users/42/"))
        bound = 1 + math.ceil(blobs / 256)
        return {
            "blob_erased": outcome.erased,
            "blob_left": left,
            "blob_other_subject_kept": sum(1 for _ in container.list_blobs(name_starts_with="users/7/")),
            "blob_calls": store.counter.calls,
            "blob_call_bound_list_plus_batches": bound,
            "blob_seconds": round(seconds, 2),
        }
    finally:
        server.stop()


def bench_face_two_workers(persons: int = 300, tps: int = 10, latency: float = 0.02) -> dict:
    """Two worker processes share the Redis bucket; the Face fake runs in a third process."""
    import json
    import subprocess

    from requests_app.stores.azure import ratelimit

    if not ratelimit.redis_url():
        return {"two_workers_skipped": "set CACHE_URL=redis://… (the bucket the workers share)"}
    script = str(ROOT / "bench" / "_azure_processes.py")
    fake = subprocess.Popen(
        [sys.executable, script, "fake", str(tps), str(latency), str(persons)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout and fake.stdin
        info = json.loads(fake.stdout.readline())
        halves = [info["persons"][0::2], info["persons"][1::2]]
        fake.stdin.write("reset\n")
        fake.stdin.flush()
        fake.stdout.readline()
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, script, "worker", info["url"], info["key"], str(tps), *half],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ},
            )
            for half in halves
        ]
        reports = [json.loads((w.communicate()[0] or "{}").strip().splitlines()[-1]) for w in workers]
        seconds = time.perf_counter() - started
        fake.stdin.write("stats\n")
        fake.stdin.flush()
        stats = json.loads(fake.stdout.readline())
    finally:
        if fake.stdin:
            fake.stdin.close()
        fake.wait(timeout=10)
    return {
        "two_workers_persons_erased": sum(r.get("erased", 0) for r in reports),
        "two_workers_persons_left": stats["persons_left"],
        "two_workers_requests": stats["requests"],
        "two_workers_seconds": round(seconds, 1),
        "two_workers_tps_limit": tps,
        "two_workers_achieved_tps": round(stats["achieved_tps"], 2),
        "two_workers_pct_of_limit": round(100 * stats["achieved_tps"] / tps, 1),
        "two_workers_429s": stats["throttled"],
        "two_workers_task_retries": sum(r.get("retries", 0) for r in reports),
    }


def bench_blob_ledger(blobs: int = 600) -> dict:
    """n ledgered blobs under one prefix: calls to discover, erase and verify vs. the bound."""
    from azure.storage.blob import BlobServiceClient
    from django.utils import timezone

    from requests_app import ledger
    from requests_app.engine.execute import with_ledger
    from requests_app.models import ConsentPurpose, Transmission
    from requests_app.stores.azure.blob import AzureBlobStore
    from requests_app.stores.base import Subject
    from tests.fakes import azurite

    try:
        server = azurite.start()
    except azurite.AzuriteUnavailable as exc:
        return {"ledger_blob_skipped": str(exc)}
    try:
        service = BlobServiceClient.from_connection_string(server.connection_string)
        container = service.create_container("ledgered")
        ConsentPurpose.objects.get_or_create(slug="bench", defaults={"title": "bench", "requires_consent": False})
        rows = []
        for i in range(blobs):
            name = f"users/42/{i:05d}.jpg"
            container.upload_blob(name, b"x" * 64)
            rows.append(
                Transmission(
                    client_id=f"bench-blob-{i}",
                    service="blob",
                    account=server.blob_endpoint,
                    resource_kind="blob",
                    resource_id=name,
                    parent_ids={"container": "ledgered"},
                    subject_value="42",
                    purpose="bench",
                    payload_kind="image",
                    sent_at=timezone.now(),
                )
            )
        Transmission.objects.bulk_create(rows)
        store = AzureBlobStore("blobs", {"connection_string": server.connection_string})

        def subject() -> Subject:
            return with_ledger(store, Subject(identities={"user_id": {"42"}}), [store])

        store.counter.calls = 0
        found = store.discover(subject())
        discover_calls = store.counter.calls
        outcome = store.erase(subject())
        ledger.record_result(outcome.ledger, None)
        erase_calls = store.counter.calls - discover_calls
        check = subject()
        check.erased_ledger = [ledger.as_row(r) for r in Transmission.objects.filter(service="blob")]
        gone = store.verify_gone(check)
        verify_calls = store.counter.calls - discover_calls - erase_calls
        return {
            "ledger_blobs": blobs,
            "ledger_blob_found": found.found,
            "ledger_blob_erased": outcome.erased,
            "ledger_blob_left_after_verify": gone.found,
            "ledger_blob_calls_discover": discover_calls,
            "ledger_blob_calls_erase": erase_calls,
            "ledger_blob_calls_verify": verify_calls,
            "ledger_blob_call_bound": f"{math.ceil(blobs / 5000)} + {math.ceil(blobs / 256)} + "
            f"{math.ceil(blobs / 5000)}",
        }
    finally:
        server.stop()


def run() -> dict:
    _django()
    return {**bench_face(), **bench_face_two_workers(), **bench_blob(), **bench_blob_ledger()}


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:<40} {value}")
