"""Peak memory of a worker building an access package: 1k rows vs 100k rows (PostgreSQL host app).

Each size runs in a fresh process (so peaks do not mix) doing exactly what a
worker does: the sql store's export streams rows through a server-side cursor
into the staging JSON files, then the ZIP is assembled from them in chunks.
The figure is the process's peak RSS (ru_maxrss); streaming means the 100k
peak stays within 1.2× of the 1k peak. Extra PACKAGE_SECTIONS (the Azure
ledger section) are left out: they need the portal database and stream the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _hostapp import pg_schema, populate  # noqa: E402

SIZES = (1_000, 100_000)

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {here!r})
from _hostapp import STORE_TOML, setup_django
setup_django()
from requests_app.engine import package
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry
from requests_app.stores.base import Subject

package.PACKAGE_SECTIONS.clear()
store = registry.parse(STORE_TOML.format(url={url!r}), "bench.toml").stores[0]
request = PrivacyRequest(pk={pk}, reference="PR-BENCH-{pk}", kind="access", language="en")
task = StoreTask(request=request, store="app-db", store_kind="sql", phase="export")
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
with package.StagingSink.for_task(task) as sink:
    outcome = store.export(Subject(identities={{"email": {{"alice@example.com"}}}}), sink)
task.detail = outcome.detail
path, size, _ = package.build_package(request, [task])
seconds = time.perf_counter() - started
path.unlink()
package.remove_staging(request.pk)
print(json.dumps({{"peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "baseline_kb": baseline,
                  "rows": outcome.exported, "zip_bytes": size, "seconds": seconds}}))
"""


def measure(url: str, pk: int) -> dict:
    code = CHILD.format(here=str(HERE), url=url, pk=pk)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> dict:
    figures: dict = {}
    peaks = {}
    for size in SIZES:
        with pg_schema() as (schema, url):
            populate(schema, size, others=1_000)
            result = measure(url, pk=900_000 + size)
        label = f"{size // 1000}k"
        peaks[size] = result["peak_kb"]
        figures[f"rows_exported_{label}"] = result["rows"]
        figures[f"peak_rss_mb_{label}"] = round(result["peak_kb"] / 1024, 1)
        figures[f"rss_before_export_mb_{label}"] = round(result["baseline_kb"] / 1024, 1)
        figures[f"zip_mb_{label}"] = round(result["zip_bytes"] / 2**20, 2)
        figures[f"export_and_zip_seconds_{label}"] = round(result["seconds"], 2)
    figures["peak_ratio_100k_to_1k"] = round(peaks[SIZES[1]] / peaks[SIZES[0]], 3)
    figures["target_ratio_at_most"] = 1.2
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value}")
