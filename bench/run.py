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
import subprocess
import sys
import tempfile
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


def run_one(stem: str, out: str) -> int:
    """Run one benchmark in this (fresh) process and write its figures, as JSON, to ``out``."""
    sys.path.insert(0, str(HERE))
    from _stack import BenchUnavailable

    path = HERE / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        figures = module.run()
    except BenchUnavailable as exc:
        figures = {"skipped": f"needs {exc}"}
    Path(out).write_text(json.dumps(figures, default=str))
    return 0


def _in_own_process(stem: str) -> dict:
    """Each benchmark in a process of its own: Django's test set-up, the app registry and the peak
    RSS (which a child inherits from its parent across exec) start fresh every time."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([sys.executable, __file__, "--one", stem, out.name], cwd=HERE.parent)
        text = Path(out.name).read_text() if done.returncode == 0 else ""
    if not text:
        print(f"   FAILED (exit {done.returncode}): see its traceback above", flush=True)
        return {"failed": f"exit {done.returncode}"}
    figures: dict = json.loads(text)
    if "skipped" in figures:
        print(f"   skipped: {figures['skipped']}", flush=True)
    return figures


def _report(results: dict[str, dict], missing: list[str], failed: list[str]) -> None:
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
    if failed:
        print("\nFailed (the table above lacks their figures): " + ", ".join(failed), flush=True)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--one"]:
        return run_one(args[1], args[2])
    if "--quick" in args:
        args.remove("--quick")
        os.environ["BENCH_QUICK"] = "1"
    only = args
    sys.path.insert(0, str(HERE))

    results: dict[str, dict] = {}
    missing: list[str] = []
    failed: list[str] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        started = time.perf_counter()
        print(f"== {path.stem}", flush=True)
        figures = _in_own_process(path.stem)
        results[path.stem] = figures
        if "failed" in figures:
            failed.append(path.stem)
        elif "skipped" in figures:
            missing.append(f"{path.stem}: {figures['skipped']}")
        else:
            figures["wall_seconds"] = round(time.perf_counter() - started, 2)
            for name, value in figures.items():
                if not isinstance(value, dict):
                    print(f"   {name:<48} {value}")
    _report(results, missing, failed)
    return 1 if failed else 2 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
