"""Processes for bench_azure's rate figure: the Face fake on its own, and erasing workers.

python bench/_azure_processes.py fake <tps> <latency> <persons>
    starts the Face fake, adds <persons> persons, prints {"url", "key", "persons"} as one
    JSON line, then answers "stats" lines on stdin with the fake's counters (JSON); exits on EOF.
python bench/_azure_processes.py worker <url> <key> <tps> <person id>...
    erases those persons through AzureFaceStore (rows handed in as the engine does) and
    prints {"erased": n, "seconds": s}; the rate limiter is the shared Redis bucket.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fake(tps: str, latency: str, persons: str) -> None:
    from requests_app.stores.azure.fakes.face import FakeFace

    server = FakeFace(latency=float(latency), tps_limit=float(tps)).start()
    server.add_group("app-users")
    ids = [server.add_person("app-users", user_data="")[0] for _ in range(int(persons))]
    print(json.dumps({"url": server.url, "key": server.key, "persons": ids}), flush=True)
    for line in sys.stdin:
        if line.strip() == "reset":
            server.reset_counters()
        print(
            json.dumps(
                {
                    "requests": server.requests,
                    "throttled": server.throttled,
                    "achieved_tps": server.achieved_tps(),
                    "persons_left": server.person_count(),
                }
            ),
            flush=True,
        )
    server.stop()


def worker(url: str, key: str, tps: str, *persons: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from requests_app.stores.azure import ratelimit
    from requests_app.stores.azure.face import AzureFaceStore
    from requests_app.stores.base import LedgerRow, Subject

    assert ratelimit.redis_url(), "the two-worker figure needs CACHE_URL=redis://… (the shared bucket)"
    store = AzureFaceStore("face", {"endpoint": url, "key": key, "max_tps": float(tps)})
    rows = [
        LedgerRow(
            id=i,
            service="face",
            account=url,
            resource_kind="person",
            resource_id=person,
            parent_ids={"person_group": "app-users"},
        )
        for i, person in enumerate(persons, start=1)
    ]
    started = time.perf_counter()
    from requests_app.stores.base import TransientStoreError

    erased = retries = 0
    while True:  # like the engine: a task stopped by a transient error runs again (404 = already gone)
        try:
            erased += store.erase(Subject(identities={}, ledger=rows)).erased
            break
        except TransientStoreError as exc:
            retries += 1
            time.sleep(exc.retry_after or 1.0)
    print(json.dumps({"erased": erased, "retries": retries, "seconds": time.perf_counter() - started}), flush=True)


if __name__ == "__main__":
    {"fake": fake, "worker": worker}[sys.argv[1]](*sys.argv[2:])
