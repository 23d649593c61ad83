"""Peak memory and time of a worker building an access package: 1k rows vs 100k rows (PostgreSQL host app).

Each size runs in a fresh process (so peaks do not mix) doing exactly what a
worker does: the sql store's export streams rows through a server-side cursor
into the staging JSON files, then the ZIP is assembled from them in chunks.
The figure is the process's peak RSS (ru_maxrss); streaming means the 100k
peak stays within 1.2× of the 1k peak.

Beside it, the bar for speed (issue 24): a **hand-written export** of the same
rows — one connection, the six SELECTs a developer who knows the schema writes
(``_hostapp.HAND_WRITTEN_EXPORT``), each table written as JSON and as CSV into
one deflated ZIP — in a fresh process too, interleaved with the portal's run.
``hand_ratio_<size>`` = portal seconds ÷ hand seconds; the target at 100k is
≤ 2× (the portal also writes an HTML page per table and index.html, and
replaces other people's ids). Median of BENCH_ROUNDS rounds (1 with --quick). Registered package sections (the Azure
ledger section) are left out: they need the portal database and stream the same way.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _hostapp import pg_schema, populate  # noqa: E402

SIZES = (1_000, 100_000)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if os.environ.get("BENCH_QUICK") == "1" else "3"))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
from _hostapp import STORE_TOML, setup_django
setup_django()
from requests_app.engine import package, package_sinks
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry
from requests_app.stores.base import Subject

package.unregister_section("microsoft")
store = registry.parse(STORE_TOML.format(url={url!r}), "bench.toml").stores[0]
request = PrivacyRequest(pk={pk}, reference="PR-BENCH-{pk}", kind="access", language="en")
task = StoreTask(request=request, store="app-db", store_kind="sql", phase="export")
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
with package_sinks.StagingSink.for_task(task, store) as sink:
    outcome = store.export(Subject(identities={{"email": {{"alice@example.com"}}}}), sink)
task.detail = outcome.detail
path, size, _ = package.build_package(request, [task])
seconds = time.perf_counter() - started
path.unlink()
package_sinks.remove_staging(request.pk)
print(json.dumps({{"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "baseline_kb": baseline,
                  "rows": outcome.exported, "zip_bytes": size, "seconds": seconds}}))
"""


HAND = r"""
import csv, io, json, resource, sys, time, zipfile
sys.path.insert(0, {here!r})
import psycopg  # noqa: F401  (imported before the clock starts, as the portal's worker has it)
from _hostapp import HAND_WRITTEN_EXPORT, connect
started = time.perf_counter()
conn = connect({schema!r})
rows = 0
with zipfile.ZipFile({target!r}, "w", compression=zipfile.ZIP_DEFLATED) as archive, conn.cursor() as cursor:
    for table, sql in HAND_WRITTEN_EXPORT.items():
        cursor.execute(sql)
        names = [c.name for c in cursor.description]
        records = [dict(zip(names, row)) for row in cursor.fetchall()]
        rows += len(records)
        archive.writestr(f"{{table}}.json", json.dumps(records, default=str, ensure_ascii=False))
        text = io.StringIO()
        writer = csv.DictWriter(text, names)
        writer.writeheader()
        writer.writerows(records)
        archive.writestr(f"{{table}}.csv", text.getvalue())
conn.close()
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "rows": rows, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def hand_export(schema: str, target: Path) -> dict:
    """The hand-written JSON + CSV ZIP of the same rows, in a fresh process (same start-up as the portal's)."""
    code = HAND.format(here=str(HERE), schema=schema, target=str(target))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent)
    target.unlink(missing_ok=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(url: str, pk: int) -> dict:
    code = CHILD.format(here=str(HERE), url=url, pk=pk)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent)
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> dict:
    import tempfile

    figures: dict = {"rounds": ROUNDS}
    peaks = {}
    for size in SIZES:
        portal, hand = [], []
        with pg_schema() as (schema, url):
            populate(schema, size, others=1_000)
            for round_ in range(ROUNDS):  # interleaved: both see the same machine at the same time
                result = measure(url, pk=900_000 + size + round_)
                portal.append(result)
                hand.append(hand_export(schema, Path(tempfile.gettempdir()) / f"bench-hand-{os.getpid()}.zip"))
        label = f"{size // 1000}k"
        result = portal[-1]
        peaks[size] = max(r["peak_kb"] for r in portal)
        portal_s = statistics.median(r["seconds"] for r in portal)
        hand_s = statistics.median(r["seconds"] for r in hand)
        figures[f"rows_exported_{label}"] = result["rows"]
        figures[f"hand_rows_{label}"] = hand[-1]["rows"]
        figures[f"peak_rss_mb_{label}"] = round(peaks[size] / 1024, 1)
        figures[f"hand_peak_rss_mb_{label}"] = round(max(r["peak_kb"] for r in hand) / 1024, 1)
        figures[f"rss_before_export_mb_{label}"] = round(result["baseline_kb"] / 1024, 1)
        figures[f"zip_mb_{label}"] = round(result["zip_bytes"] / 2**20, 2)
        figures[f"export_and_zip_seconds_{label}"] = round(portal_s, 3)
        figures[f"hand_zip_seconds_{label}"] = round(hand_s, 3)
        figures[f"hand_ratio_{label}"] = round(portal_s / hand_s, 2)
    figures["peak_ratio_100k_to_1k"] = round(peaks[SIZES[1]] / peaks[SIZES[0]], 3)
    figures["target_ratio_at_most"] = 1.2
    figures["target_hand_ratio_100k_at_most"] = 2.0
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value}")
