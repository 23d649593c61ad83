"""The SQL store's ``erase()`` alone on one subject with 100k rows, vs the same deletes by hand.

An inner figure, not what a request costs: no Celery, no discovery, no
verification, no finish (bench_e2e.py measures the real path). It shows the
per-row cost of the generated SQL and that the statement count stays flat.

Both run in the same process against identical, freshly built data (a schema
per run, analysed), alternating, three rounds each; the median is reported.
The hand-written version knows the user id already and is one transaction of
six set-based statements — the bar. ``store.erase()`` starts from the e-mail address
and looks up foreign keys to order the tables.
The statement count is shown for 1k and 100k rows: it must not grow.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hostapp import (  # noqa: E402
    HAND_WRITTEN_ERASURE,
    STORE_TOML,
    connect,
    pg_schema,
    populate,
    setup_django,
    subject_rows,
)

ROWS = 100_000
ROUNDS = 3


def engine_erase(url: str) -> tuple[float, dict]:
    from requests_app.stores import registry
    from requests_app.stores.base import Subject

    store = registry.parse(STORE_TOML.format(url=url), "bench.toml").stores[0]
    started = time.perf_counter()
    outcome = store.erase(Subject(identities={"email": {"alice@example.com"}}))
    return time.perf_counter() - started, outcome.detail | {
        "erased": outcome.erased,
        "anonymised": outcome.anonymised,
    }


def hand_erase(schema: str) -> float:
    started = time.perf_counter()
    conn = connect(schema)
    with conn.cursor() as cursor:
        for statement in HAND_WRITTEN_ERASURE:
            cursor.execute(statement)
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def run() -> dict:
    setup_django()
    engine_times, hand_times = [], []
    detail: dict = {}
    found = 0
    for _ in range(ROUNDS):
        with pg_schema() as (schema, _url):
            populate(schema, ROWS)
            found = subject_rows(schema)
            hand_times.append(hand_erase(schema))
        with pg_schema() as (schema, url):
            populate(schema, ROWS)
            seconds, detail = engine_erase(url)
            engine_times.append(seconds)
    with pg_schema() as (schema, url):
        populate(schema, 1_000)
        _, small = engine_erase(url)
    engine, hand = statistics.median(engine_times), statistics.median(hand_times)
    return {
        "subject_rows": found,
        "engine_rows_erased": detail["erased"],
        "engine_rows_anonymised": detail["anonymised"],
        "engine_seconds_median": round(engine, 3),
        "hand_sql_seconds_median": round(hand, 3),
        "ratio_engine_to_hand": round(engine / hand, 2),
        "target_ratio_at_most": 1.5,
        "engine_statements_100k_rows": detail["statements"],
        "engine_statements_1k_rows": small["statements"],
        "hand_sql_statements": len(HAND_WRITTEN_ERASURE),
        "engine_seconds_all_rounds": [round(t, 3) for t in engine_times],
        "hand_sql_seconds_all_rounds": [round(t, 3) for t in hand_times],
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value}")
