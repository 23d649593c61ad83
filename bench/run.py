"""Run every benchmark in bench/ (files named bench_*.py), print figures, write bench/results.json
and bench/results/<short sha>.json (kept per commit, so a regression shows).

Each module exposes ``run() -> dict`` of named figures. Benchmarks are not
tests: they never fail on a number; they show it.

    python bench/run.py [--quick] [bench_e2e bench_erasure ...]

``--quick`` (or BENCH_QUICK=1) runs fewer rounds and requests. The output ends
with one table of the issue-24 targets (bench/_targets.py): measured value,
target, ratio, met / NOT met; it is kept in the results too (``targets``). A benchmark whose
services are missing (PostgreSQL, redis-server) says what it needs and is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def keep_per_commit(text: str) -> Path | None:
    """Also write bench/results/<short sha>.json (``-dirty`` when the work tree has changes)."""
    import subprocess

    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=HERE
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=HERE,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout: results.json only
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    path = folder / f"{sha}{'-dirty' if dirty else ''}.json"
    path.write_text(text)
    return path


def main() -> int:
    args = sys.argv[1:]
    if "--quick" in args:
        args.remove("--quick")
        os.environ["BENCH_QUICK"] = "1"
    only = args
    sys.path.insert(0, str(HERE))
    from _stack import BenchUnavailable

    results: dict[str, dict] = {}
    missing: list[str] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.perf_counter()
        print(f"== {path.stem}", flush=True)
        try:
            figures = module.run()
        except BenchUnavailable as exc:
            print(f"   skipped: needs {exc}", flush=True)
            missing.append(f"{path.stem}: {exc}")
            results[path.stem] = {"skipped": f"needs {exc}"}
            continue
        figures["wall_seconds"] = round(time.perf_counter() - started, 2)
        for name, value in figures.items():
            if not isinstance(value, dict):
                print(f"   {name:<48} {value}")
        results[path.stem] = figures
    import _targets

    results["targets"] = _targets.as_json(results)  # kept per commit with the figures
    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    (HERE / "results.json").write_text(text)
    print(f"wrote {HERE / 'results.json'}")
    kept = keep_per_commit(text)
    if kept:
        print(f"wrote {kept} (commit it: a regression then shows against the commit before)")
    if missing:
        print("\nNot measured, a service is missing:\n  " + "\n  ".join(missing))
    # last: one table of every issue-24 target (bench/_targets.py), whatever ran
    print("\n" + _targets.table(results), flush=True)
    return 2 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
