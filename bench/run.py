"""Run every benchmark in bench/ (files named bench_*.py), print figures, write bench/results.json.

Each module exposes ``run() -> dict`` of named figures. Benchmarks are not
tests: they never fail on a number; they show it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> int:
    only = sys.argv[1:]
    results: dict[str, dict] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        if only and path.stem not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        started = time.perf_counter()
        print(f"== {path.stem}", flush=True)
        figures = module.run()
        figures["wall_seconds"] = round(time.perf_counter() - started, 2)
        for name, value in figures.items():
            print(f"   {name:<48} {value}")
        results[path.stem] = figures
    (HERE / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
