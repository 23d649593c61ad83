"""Through the real path: host-app API POST → gunicorn → Celery worker on Redis → completed.

Four parts, one portal (bench/_stack.py: production settings, its own PostgreSQL
database, its own redis-server, gunicorn, prefork Celery workers):

1. **Erasure, end to end vs hand-written SQL**, at 1k, 10k and 100k child rows of
   one subject in the host-app schema of bench/_hostapp.py (users, profiles,
   photos, likes, comments, key-only follows; 2,000 background users whose rows
   must survive). *End to end* is from just before the API POST to the request's
   ``completed_at`` (receipt signed, e-mail queued), with one idle worker process
   waiting. *Hand SQL* is what a developer would write knowing the schema: connect,
   look the user up by e-mail, six set-based statements, commit — the bar.
   Median of ROUNDS rounds on freshly built, analysed data.
2. **Access, end to end vs a hand-written ZIP**: the same subject's rows exported through an
   access request (API POST → worker → package built) against ``_hostapp.hand_export_zip`` (one
   connection, six SELECTs, each table as JSON and CSV into one deflated ZIP), interleaved.
3. **Throughput**: N deletion requests of 1k rows each (distinct subjects), filed
   through the API while no worker runs; then 1, 2 and 4 worker processes take
   them. Requests per minute = N ÷ (last completed − workers started); latency of
   one request = its ``started_at`` (engine start) → ``completed_at``.
4. **Intake**: requests per second of the public form POST, the host-app API
   POST and the abuse report form POST, against a bare Django view and a view
   that inserts one row and commits (same gunicorn, same middleware; the target
   of issue 24 is ≥ 50 % of the one-insert view), closed loop with CLIENTS
   concurrent clients for INTAKE_SECONDS each, in INTAKE_ROUNDS interleaved slices.

``--quick`` (BENCH_QUICK=1): one round, N=50, 5 s of intake. Figures from a machine
that is busy with anything else are noise: run it alone.
"""

from __future__ import annotations

import http.client
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _hostapp import (  # noqa: E402
    HAND_WRITTEN_ERASURE,
    PG_URL,
    STORE_TOML,
    connect,
    hand_export_zip,
    populate,
    populate_many,
    subject_rows,
)
from _procs import machine_busy, process_cpu, tree  # noqa: E402
from _stack import Stack, require_services, wait_for  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
SIZES = tuple(int(x) for x in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(","))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "3"))
THROUGHPUT_N = int(os.environ.get("BENCH_THROUGHPUT_N", "50" if QUICK else "1000"))
WORKER_COUNTS = tuple(int(x) for x in os.environ.get("BENCH_WORKERS", "1,2,4").split(","))
INTAKE_SECONDS = float(os.environ.get("BENCH_INTAKE_SECONDS", "5" if QUICK else "15"))
INTAKE_ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
PARTS = os.environ.get("BENCH_PARTS", "erasure,access,throughput,intake").split(",")


# --- the host-app schema, under a fixed name (the stores file names it) -------------------------
class HostSchema:
    def __init__(self, name: str):
        self.name = name
        self.url = f"{PG_URL}?options=-csearch_path%3D{name}"

    def reset(self) -> None:
        admin = connect()
        admin.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        admin.execute(f"CREATE SCHEMA {self.name}")
        admin.commit()
        admin.close()

    def drop(self) -> None:
        admin = connect()
        admin.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        admin.commit()
        admin.close()


def hand_erase(schema: str) -> float:
    started = time.perf_counter()
    conn = connect(schema)
    with conn.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts_user WHERE lower(email) = lower(%s)", ["alice@example.com"])
        user_id = cursor.fetchone()[0]
        for statement in HAND_WRITTEN_ERASURE:
            cursor.execute(statement.replace("= 1", "= %s"), [user_id] * statement.count("= 1"))
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def portal_erase(stack: Stack, key: str) -> tuple[float, dict]:
    started = time.time()
    status, body = stack.post_json("/api/v1/privacy-requests/", {"kind": "deletion", "email": "alice@example.com"}, key)
    posted = time.time() - started
    assert status == 201, (status, body)
    reference = body["reference"]
    ((_, _, engine_started, completed),) = stack.wait_closed([reference], timeout=600).values()
    ((count, first_task, last_task, busy, erased, anonymised),) = stack.query(
        "SELECT count(*), extract(epoch from min(t.started_at)), extract(epoch from max(t.finished_at)), "
        "sum(extract(epoch from t.finished_at - t.started_at)), sum(erased_count), sum(anonymised_count) "
        "FROM requests_app_storetask t JOIN requests_app_privacyrequest r ON r.id = t.request_id "
        "WHERE r.reference = %s",
        (reference,),
    )
    # where the time goes: POST and hand-over to a worker; planning; store work and the
    # steps between the tasks; finish (receipt, e-mail)
    return completed - started, {
        "api_post_s": posted,
        "to_engine_start_s": engine_started - started,
        "start_to_first_task_s": float(first_task) - engine_started,
        "store_tasks_busy_s": float(busy),
        "between_tasks_s": float(last_task) - float(first_task) - float(busy),
        "finish_s": completed - float(last_task),
        "store_tasks": count,
        "rows_erased": erased,
        "rows_anonymised": anonymised,
    }


def end_to_end(stack: Stack, host: HostSchema, key: str) -> dict:
    from _hostapp import pg_schema

    results: dict = {}
    stack.start_workers(1)
    stack.wait_workers_ready()
    # one request first: imports, connections, the stores file parsed (a worker's steady state)
    host.reset()
    populate(host.name, 1_000)
    portal_erase(stack, key)
    print("\n  Erasure of one subject, end to end (API POST → worker → completed) vs hand-written SQL")
    print(
        f"  {'child rows':>10} {'portal e2e':>11} {'hand SQL':>9} {'ratio':>6} {'added':>9}   "
        "breakdown: POST+hand-over / plan / store work / between steps / finish"
    )
    for rows in SIZES:
        e2e_times, hand_times, detail, found = [], [], {}, 0
        for _ in range(ROUNDS):
            with pg_schema() as (schema, _url):
                populate(schema, rows)
                found = subject_rows(schema)
                hand_times.append(hand_erase(schema))
            host.reset()
            populate(host.name, rows)
            seconds, detail = portal_erase(stack, key)
            e2e_times.append(seconds)
        e2e, hand = statistics.median(e2e_times), statistics.median(hand_times)
        results[f"{rows}"] = {
            "subject_rows": found,
            "portal_e2e_s": round(e2e, 3),
            "hand_sql_s": round(hand, 3),
            "ratio": round(e2e / hand, 1),
            "added_ms": round((e2e - hand) * 1000),
            "portal_e2e_all_rounds_s": [round(t, 3) for t in e2e_times],
            "hand_sql_all_rounds_s": [round(t, 3) for t in hand_times],
            **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in detail.items()},
        }
        print(
            f"  {found:>10} {e2e:>10.3f}s {hand:>8.3f}s {e2e / hand:>5.1f}x {(e2e - hand) * 1000:>7.0f}ms   "
            + " / ".join(
                f"{detail[k] * 1000:.0f}"
                for k in (
                    "to_engine_start_s",
                    "start_to_first_task_s",
                    "store_tasks_busy_s",
                    "between_tasks_s",
                    "finish_s",
                )
            )
            + f" ms ({detail['store_tasks']} store tasks, last round)"
        )
    stack.stop_workers()
    return results


def portal_access(stack: Stack, key: str) -> tuple[float, dict]:
    """One access request through the API, to its completion (the package built, the e-mail queued)."""
    started = time.time()
    status, body = stack.post_json("/api/v1/privacy-requests/", {"kind": "access", "email": "alice@example.com"}, key)
    assert status == 201, (status, body)
    reference = body["reference"]
    ((state, _, engine_started, completed),) = stack.wait_closed([reference], timeout=600).values()
    assert state == "completed", (reference, state)
    ((export_busy, exported, last_task),) = stack.query(
        "SELECT sum(extract(epoch from t.finished_at - t.started_at)) FILTER (WHERE t.phase = 'export'), "
        "sum(t.exported_count), extract(epoch from max(t.finished_at)) "
        "FROM requests_app_storetask t JOIN requests_app_privacyrequest r ON r.id = t.request_id "
        "WHERE r.reference = %s",
        (reference,),
    )
    return completed - started, {
        "to_engine_start_s": engine_started - started,
        "export_task_s": float(export_busy or 0),
        "finish_with_zip_s": completed - float(last_task),
        "rows_exported": exported,
    }


def access_end_to_end(stack: Stack, host: HostSchema, key: str) -> dict:
    """Access of one subject, end to end, vs a hand-written JSON + CSV ZIP of the same rows, interleaved."""
    import tempfile

    results: dict = {}
    stack.start_workers(1)
    stack.wait_workers_ready()
    target = Path(tempfile.gettempdir()) / f"bench-e2e-hand-{os.getpid()}.zip"
    print("\n  Access of one subject, end to end (API POST → worker → package built) vs a hand-written ZIP")
    print(
        f"  {'child rows':>10} {'portal e2e':>11} {'hand ZIP':>9} {'ratio':>6}   breakdown: hand-over / export / finish"
    )
    for rows in SIZES:
        host.reset()
        populate(host.name, rows)
        portal_access(stack, key)  # warm: the worker's imports and first connection
        e2e_times, hand_times, detail, hand_rows = [], [], {}, 0
        for _ in range(ROUNDS):  # reading changes nothing: the same rows for both, interleaved
            seconds, hand_rows = hand_export_zip(host.name, target)
            hand_times.append(seconds)
            seconds, detail = portal_access(stack, key)
            e2e_times.append(seconds)
        e2e, hand = statistics.median(e2e_times), statistics.median(hand_times)
        results[f"{rows}"] = {
            "hand_rows": hand_rows,
            "portal_e2e_s": round(e2e, 3),
            "hand_zip_s": round(hand, 3),
            "ratio": round(e2e / hand, 2),
            "portal_e2e_all_rounds_s": [round(t, 3) for t in e2e_times],
            "hand_zip_all_rounds_s": [round(t, 3) for t in hand_times],
            **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in detail.items()},
        }
        print(
            f"  {hand_rows:>10} {e2e:>10.3f}s {hand:>8.3f}s {e2e / hand:>5.1f}x   "
            + " / ".join(f"{detail[k] * 1000:.0f}" for k in ("to_engine_start_s", "export_task_s", "finish_with_zip_s"))
            + " ms (last round)"
        )
    stack.stop_workers()
    return results


# --- throughput ------------------------------------------------------------------------------
def _service_cpu(stack: Stack) -> dict[int, float]:
    """CPU seconds so far of this database's PostgreSQL backends and of the Redis server, by pid."""
    assert stack.redis is not None
    backends = [pid for (pid,) in stack.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]
    return {pid: process_cpu([pid]) for pid in [*backends, stack.redis.pid]}


def _snapshot(stack: Stack) -> tuple[float, dict[int, float], tuple[float, float], float]:
    """CPU so far: the worker processes, the services (by pid), the machine; and when."""
    assert stack.workers is not None
    return process_cpu(tree(stack.workers.pid)), _service_cpu(stack), machine_busy(), time.monotonic()


def _cpu_profile(stack: Stack, snapshot: tuple) -> dict:
    """Where the CPU went during one run: ms per request of the workers, of PostgreSQL (this
    database's backends) and of Redis, and how many of the machine's cores were busy (anyone's)."""
    assert stack.workers is not None and stack.redis is not None
    n = THROUGHPUT_N
    workers_before, before, machine_before, since = snapshot
    after = _service_cpu(stack)
    used = {pid: cpu - before.get(pid, 0.0) for pid, cpu in after.items()}
    busy, total = machine_busy()
    seconds = time.monotonic() - since
    per_request = {
        "workers_cpu_ms_per_request": (process_cpu(tree(stack.workers.pid)) - workers_before) / n * 1000,
        "postgres_cpu_ms_per_request": sum(v for pid, v in used.items() if pid != stack.redis.pid) / n * 1000,
        "redis_cpu_ms_per_request": used[stack.redis.pid] / n * 1000,
    }
    return {
        **{k: round(v, 1) for k, v in per_request.items()},
        "stack_cores_busy": round(sum(per_request.values()) * n / 1000 / seconds, 2),
        "machine_cores_busy": round((busy - machine_before[0]) / seconds, 2),
        "machine_cores": round((total - machine_before[1]) / seconds, 1),
    }


def _throughput_run(stack: Stack, host: HostSchema, key: str, count: int) -> dict:
    stack.stop_workers()
    host.reset()
    populate_many(host.name, THROUGHPUT_N, 1_000)
    references = []
    for i in range(1, THROUGHPUT_N + 1):
        status, body = stack.post_json(
            "/api/v1/privacy-requests/", {"kind": "deletion", "email": f"subject{i}@example.com"}, key
        )
        assert status == 201, (status, body)
        references.append(body["reference"])
    started = time.time()
    stack.start_workers(count)
    # the profile starts with the first engine start: worker start-up (imports) is not a request's
    first_start = "SELECT 1 FROM requests_app_privacyrequest WHERE started_at IS NOT NULL LIMIT 1"
    wait_for(lambda: stack.query(first_start), 600, "the first engine start", interval=0.02)
    snapshot = _snapshot(stack)
    closed = stack.wait_closed(references, timeout=3600)
    last = max(v[3] for v in closed.values())
    first = min(v[2] for v in closed.values())  # the first engine start: the workers are up
    cpu = _cpu_profile(stack, snapshot)
    latencies = sorted(v[3] - v[2] for v in closed.values())
    p50 = statistics.median(latencies)
    return {
        "requests": THROUGHPUT_N,
        "requests_per_minute": round(THROUGHPUT_N / (last - first) * 60, 1),
        "requests_per_minute_with_worker_start": round(THROUGHPUT_N / (last - started) * 60, 1),
        "latency_p50_s": round(p50, 3),
        "latency_p99_s": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 3),
        "latency_max_s": round(latencies[-1], 3),
        "max_over_median": round(latencies[-1] / p50, 2),
        **cpu,
    }


def throughput(stack: Stack, host: HostSchema, key: str) -> dict:
    """Requests per minute from the first engine start to the last completion (worker start-up,
    seconds on a busy machine, is left out; ``..._with_worker_start`` keeps it), and the CPU profile."""
    results: dict = {}
    print(f"\n  Throughput: {THROUGHPUT_N} deletion requests of 1k rows each, filed first, then N worker processes")
    print(
        f"  {'workers':>7} {'req/min':>8} {'p50':>7} {'p99':>7} {'speed-up':>8}   CPU ms/request: "
        "workers / PostgreSQL / Redis; cores busy: this stack / the machine (of N)"
    )
    base = None
    for count in WORKER_COUNTS:
        run = _throughput_run(stack, host, key, count)
        base = base or run["requests_per_minute"]
        run["speedup_vs_1"] = round(run["requests_per_minute"] / base, 2)
        results[f"{count}_workers"] = run
        print(
            f"  {count:>7} {run['requests_per_minute']:>8.1f} {run['latency_p50_s']:>6.2f}s "
            f"{run['latency_p99_s']:>6.2f}s {run['speedup_vs_1']:>7.2f}x   "
            f"{run['workers_cpu_ms_per_request']:.0f} / {run['postgres_cpu_ms_per_request']:.0f} / "
            f"{run['redis_cpu_ms_per_request']:.1f}; {run['stack_cores_busy']:.2f} / "
            f"{run['machine_cores_busy']:.2f} (of {run['machine_cores']:.0f})"
        )
    stack.stop_workers()
    return results


# --- intake ----------------------------------------------------------------------------------
def _load(base_url: str, make_request, seconds: float) -> tuple[int, int, float]:
    """Closed loop, CLIENTS threads, fresh connection per request (gunicorn sync workers close them).
    → (answered as expected, refused or failed, elapsed seconds)."""
    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    serial = iter(range(10**9))  # request numbers unique across slices and clients

    def client(n: int) -> None:
        while time.monotonic() < stop:
            with lock:
                i = next(serial)
            method, path, body, headers, good = make_request(n, i)
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers)
                status = conn.getresponse().status
            finally:
                conn.close()
            with lock:
                counts["ok" if status in good else "bad"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts["ok"], counts["bad"], time.monotonic() - started


def _form_token(base_url: str, path: str) -> tuple[str, str]:
    host, port = urllib.parse.urlsplit(base_url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    html = response.read().decode()
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie" and v.startswith("csrftoken=")]
    conn.close()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if response.status != 200 or not cookies or not found:
        raise RuntimeError(f"{path} did not give a CSRF token: {response.status} {response.getheaders()}")
    cookie, token = cookies[0], found.group(1)
    return cookie.split(";", 1)[0], token


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _intake_endpoints(stack: Stack, key: str) -> dict:
    """name → make_request(client, serial) → (method, path, body, headers, good statuses)."""
    import json

    url, run_id = stack.web_url, os.getpid()
    form_cookie, form_token = _form_token(url, "/requests/new/deletion/")
    abuse_cookie, abuse_token = _form_token(url, "/report/")

    def floor(path):
        return lambda n, i: ("POST", path, b"x=1", FORM, (200,))

    def form(n, i):
        fields = {"email": f"f{run_id}-{i}@example.com", "jurisdiction": "gdpr", "confirm": "on"}
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": form_token, **fields})
        return "POST", "/requests/new/deletion/", body, {**FORM, "Cookie": form_cookie}, (302,)

    def api(n, i):
        body = json.dumps({"kind": "access", "email": f"a{run_id}-{i}@example.com"})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        return "POST", "/api/v1/privacy-requests/", body, headers, (201,)

    def abuse(n, i):
        # many reporters, each from its own address (the bench runs with NUM_PROXIES=1)
        fields = {
            "category": "privacy",
            "locations": f"https://app.example.com/photos/{run_id}-{i}/",
            "explanation": "My photo is used for face matching without my consent.",
            "reporter_name": "Alice",
            "reporter_email": f"r{run_id}-{i}@example.com",
            "good_faith": "on",
        }
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": abuse_token, **fields})
        forwarded = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        return "POST", "/report/", body, {**FORM, "Cookie": abuse_cookie, "X-Forwarded-For": forwarded}, (302,)

    return {
        "bare Django view": floor("/bench/bare"),
        "one-insert view": floor("/bench/one-insert"),
        "public form POST": form,
        "host-app API POST": api,
        "abuse report POST": abuse,
    }


def intake(stack: Stack, key: str) -> dict:
    """Each endpoint in turn, INTAKE_ROUNDS slices each, interleaved (all see the same machine)."""
    endpoints = _intake_endpoints(stack, key)
    for make in endpoints.values():  # warm-up: imports, templates, connections in both gunicorn workers
        _load(stack.web_url, make, 1.0)
    totals = {name: [0, 0, 0.0] for name in endpoints}
    for _ in range(INTAKE_ROUNDS):
        for name, make in endpoints.items():
            ok, bad, elapsed = _load(stack.web_url, make, INTAKE_SECONDS / INTAKE_ROUNDS)
            totals[name] = [totals[name][0] + ok, totals[name][1] + bad, totals[name][2] + elapsed]
    rates = {name: ok / elapsed for name, (ok, _bad, elapsed) in totals.items()}
    bare, floor = rates["bare Django view"], rates["one-insert view"]
    print(
        f"\n  Intake: {CLIENTS} clients, {INTAKE_SECONDS:.0f} s each in {INTAKE_ROUNDS} interleaved slices, "
        "gunicorn with 2 sync workers"
    )
    print(f"  {'endpoint':<20} {'req/s':>7} {'vs bare':>8} {'vs one-insert':>14} {'refused':>8}")
    results: dict = {}
    for name, rate in rates.items():
        results[name] = {
            "requests_per_second": round(rate, 1),
            "ratio_to_bare": round(rate / bare, 2),
            "ratio_to_one_insert": round(rate / floor, 2),
            "ok": totals[name][0],
            "refused_or_failed": totals[name][1],
        }
        print(f"  {name:<20} {rate:>7.1f} {rate / bare:>7.0%} {rate / floor:>13.0%} {totals[name][1]:>8}")
    return results


def run() -> dict:
    require_services()
    # Every access round runs again (the stack's processes inherit this): a repeat within
    # PORTAL_REPEAT_ACCESS_DAYS would be answered with the first package instead.
    os.environ.setdefault("PORTAL_REPEAT_ACCESS_DAYS", "0")
    host = HostSchema(f"bench_e2e_{os.getpid()}")
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"portal-bench-stores-{os.getpid()}.toml"
    workdir.write_text(STORE_TOML.format(url=host.url))
    figures: dict = {"quick": QUICK, "rounds": ROUNDS}
    try:
        with Stack(workdir) as stack:
            key = stack.api_key()
            stack.start_web(workers=2)
            if "erasure" in PARTS:
                figures["erasure_end_to_end"] = end_to_end(stack, host, key)
            if "access" in PARTS:
                figures["access_end_to_end"] = access_end_to_end(stack, host, key)
            if "throughput" in PARTS:
                figures["throughput"] = throughput(stack, host, key)
            if "intake" in PARTS:
                figures["intake"] = intake(stack, key)
    finally:
        host.drop()
        workdir.unlink(missing_ok=True)
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
