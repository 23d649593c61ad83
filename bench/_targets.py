"""The targets of issue 24 as one table, built from the figures bench/run.py collected.

Each row: what is measured, the measured value, the target, the ratio the target
is about, and met / NOT met ("not measured" when its benchmark did not run or was
skipped). Not a benchmark itself (bench/run.py only runs bench_*.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Row:
    target: str
    measured: str
    bar: str
    ratio: float | None
    met: bool | None  # None: not measured

    @property
    def verdict(self) -> str:
        return "not measured" if self.met is None else ("met" if self.met else "NOT met")


def _get(results: dict, *path: str) -> Any:
    node: Any = results
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _erasure(results: dict) -> list[Row]:
    big = _get(results, "bench_e2e", "erasure_end_to_end", "100000")
    small = _get(results, "bench_e2e", "erasure_end_to_end", "1000")
    rows = [Row("erasure e2e, 100k rows, x hand SQL", "-", "<= 1.5x", None, None)]
    if big:
        ratio = big["portal_e2e_s"] / big["hand_sql_s"]
        measured = f"{big['portal_e2e_s']} s vs {big['hand_sql_s']} s"
        rows[0] = Row(rows[0].target, measured, "<= 1.5x", ratio, ratio <= 1.5)
    rows.append(Row("erasure e2e, 1k rows, added over hand SQL", "-", "<= +50 ms", None, None))
    if small:
        rows[1] = Row(rows[1].target, f"+{small['added_ms']} ms", "<= +50 ms", None, small["added_ms"] <= 50)
    return rows


def _access(results: dict) -> list[Row]:
    memory = results.get("bench_package_memory") or {}
    ratio, peak = memory.get("hand_ratio_100k"), memory.get("peak_ratio_100k_to_1k")
    e2e = _get(results, "bench_e2e", "access_end_to_end", "100000")
    return [
        Row(
            "access e2e, 100k rows, x hand ZIP",
            f"{e2e['portal_e2e_s']} s vs {e2e['hand_zip_s']} s" if e2e else "-",
            "<= 2x",
            e2e["ratio"] if e2e else None,
            None if not e2e else e2e["ratio"] <= 2.0,
        ),
        Row(
            "access export + ZIP alone, 100k rows, x hand",
            f"{memory['export_and_zip_seconds_100k']} s vs {memory['hand_zip_seconds_100k']} s" if ratio else "-",
            "<= 2x",
            ratio,
            None if ratio is None else ratio <= 2.0,
        ),
        Row(
            "access package peak RSS, 100k / 1k",
            f"{memory['peak_rss_mb_100k']} / {memory['peak_rss_mb_1k']} MB" if peak else "-",
            "<= 1.2x (flat)",
            peak,
            None if peak is None else peak <= 1.2,
        ),
    ]


def _intake(results: dict) -> list[Row]:
    intake = _get(results, "bench_e2e", "intake") or {}
    floor = _get(intake, "one-insert view", "requests_per_second")
    rows = []
    for name in ("public form POST", "host-app API POST", "abuse report POST"):
        figure = intake.get(name)
        if not figure or not floor or "ratio_to_one_insert" not in figure:
            rows.append(Row(f"intake: {name} / one-insert view", "-", ">= 50 %", None, None))
            continue
        ratio = figure["ratio_to_one_insert"]
        measured = f"{figure['requests_per_second']} vs {floor} req/s"
        rows.append(Row(f"intake: {name} / one-insert view", measured, ">= 50 %", ratio, ratio >= 0.5))
    return rows


def _throughput(results: dict) -> list[Row]:
    one = _get(results, "bench_e2e", "throughput", "1_workers", "requests_per_minute")
    two = _get(results, "bench_e2e", "throughput", "2_workers", "requests_per_minute")
    if not one or not two:
        return [Row("throughput: 2 workers / 1 worker", "-", ">= 1.7x", None, None)]
    n = _get(results, "bench_e2e", "throughput", "1_workers", "requests")
    measured = f"{two} vs {one} req/min ({n} requests)"
    return [Row("throughput: 2 workers / 1 worker", measured, ">= 1.7x", two / one, two / one >= 1.7)]


def _recovery(results: dict) -> list[Row]:
    rows = []
    for name, label in (("sigkill_worker", "SIGKILLed worker"), ("lost_broker_message", "lost broker message")):
        seconds = _get(results, "bench_recovery", name, "to_rerun_s")
        measured = f"{seconds} s to re-run" if seconds is not None else "-"
        rows.append(Row(f"recovery: {label}", measured, "<= 10 s", None, None if seconds is None else seconds <= 10))
    return rows


PARTS: tuple[Callable[[dict], list[Row]], ...] = (_erasure, _access, _intake, _throughput, _recovery)


def rows(results: dict) -> list[Row]:
    return [row for part in PARTS for row in part(results)]


def table(results: dict) -> str:
    lines = [
        "Issue 24 targets",
        f"  {'target':<44} {'measured':<36} {'target':<15} {'ratio':>6}  verdict",
    ]
    for row in rows(results):
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
        lines.append(f"  {row.target:<44} {row.measured:<36} {row.bar:<15} {ratio:>6}  {row.verdict}")
    return "\n".join(lines)


def as_json(results: dict) -> list[dict]:
    return [asdict(row) | {"verdict": row.verdict} for row in rows(results)]
