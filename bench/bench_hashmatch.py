"""Hash matching at 1 million banked PDQ hashes: the lookup behind ``POST /api/v1/media-checks/``.

What is timed: ``PdqIndex.search`` (the in-memory index the API asks; multi-index hashing over 16-bit
chunks, distance ≤ 31), per query, for queries that are copies of a banked hash with 0–31 bits
flipped (must match) and random hashes (must not), and beside it the hand-written baseline: every
hash compared with numpy (``brute_force``). Also: the index's build time and memory, and that both
find the same. The index is rebuilt from the database when a bank changes; loading 1 million rows
from PostgreSQL is not in these figures (it happens once per change per process, off the query path).

Figures are wall-clock on this machine, shared with other work: p99 moves with the load average,
which is printed too. ``BENCH_QUICK=1``: 200 000 hashes, fewer queries.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run() -> dict:
    import numpy as np

    from abuse_app.hashmatch.index import PdqIndex, brute_force

    quick = os.environ.get("BENCH_QUICK") == "1"
    n = 200_000 if quick else 1_000_000
    queries = 400 if quick else 2000
    rng = np.random.default_rng(22)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    started = time.perf_counter()
    index = PdqIndex(hashes)
    build_s = time.perf_counter() - started
    index_mb = (index.hashes.nbytes + index.positions.nbytes + index.offsets.nbytes) / 2**20

    near, truth = [], []
    for _ in range(queries // 2):
        j = int(rng.integers(n))
        query = hashes[j].copy()
        for bit in rng.choice(256, int(rng.integers(0, 32)), replace=False):
            query[bit // 8] ^= 1 << (bit % 8)
        near.append(query.tobytes())
        truth.append(j)
    far = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(queries // 2)]

    timings, cpu, found, false_hits = [], [], 0, 0
    for query, j in [*zip(near, truth, strict=True), *((q, -1) for q in far)]:
        t, c = time.perf_counter(), time.thread_time()
        hits = index.search(query, 31)
        cpu.append((time.thread_time() - c) * 1000)
        timings.append((time.perf_counter() - t) * 1000)
        if j >= 0:
            found += any(h.position == j for h in hits)
        else:
            false_hits += bool(hits)

    baseline = []
    for query in near[:20]:
        t = time.perf_counter()
        brute_force(hashes, query, 31)
        baseline.append((time.perf_counter() - t) * 1000)
    same = all(
        sorted(h.position for h in index.search(q, 31)) == brute_force(hashes, q, 31) for q in near[:20] + far[:20]
    )
    return {
        "banked_hashes": n,
        "queries": len(timings),
        "index_build_s": round(build_s, 2),
        "index_memory_mb": round(index_mb),
        "index_p50_ms": round(statistics.median(timings), 3),
        "index_p99_ms": round(_percentile(timings, 0.99), 3),
        "index_max_ms": round(max(timings), 3),
        # The thread's own CPU time: the work itself, without waiting for a CPU on a busy machine.
        "index_cpu_p50_ms": round(statistics.median(cpu), 3),
        "index_cpu_p99_ms": round(_percentile(cpu, 0.99), 3),
        "baseline_brute_force_p50_ms": round(statistics.median(baseline), 1),
        "near_copies_found": f"{found}/{len(near)}",
        "random_queries_matched": false_hits,
        "index_equals_brute_force": same,
        "load_average_1min": round(os.getloadavg()[0], 1),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value}")
