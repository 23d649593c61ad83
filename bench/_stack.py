"""The portal as it runs in production, for the end-to-end benchmarks: real processes, real services.

- a fresh PostgreSQL database for the portal (migrated, dropped afterwards),
- a throwaway ``redis-server`` on a free port (broker and cache; nobody else's keys),
- gunicorn serving the portal (DJANGO_DEBUG=false, the production settings),
- Celery workers (prefork, ``-c N``) consuming every queue.

The bench process itself never sets Django up against that database: it talks
HTTP to gunicorn, SQL to PostgreSQL (psycopg) and runs ``manage.py`` for setup.
Not a benchmark itself (bench/run.py only runs bench_*.py).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# The table of /bench/one-insert (bench/_bench_urls.py): one row per request, as small as a request row.
ONE_INSERT_DDL = (
    "CREATE TABLE bench_one_insert (id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)"
)


class BenchUnavailable(Exception):
    """A service the benchmark needs is missing; the message says which and how to provide it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what} did not happen within {timeout:.0f} s")


def pg_connect(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=3, **kwargs)


def require_services() -> None:
    """Raise BenchUnavailable naming what is missing: PostgreSQL, redis-server, gunicorn, celery."""
    try:
        pg_connect(PG_ADMIN_URL).close()
    except Exception as exc:
        raise BenchUnavailable(
            f"PostgreSQL at {PG_ADMIN_URL} ({type(exc).__name__}): start it or set BENCH_DATABASE_URL "
            "to a server where this user may CREATE DATABASE"
        )
    if not shutil.which("redis-server"):
        raise BenchUnavailable("redis-server (apt-get install redis-server): the bench starts its own on a free port")
    for tool in ("gunicorn", "celery"):
        if not Path(PYTHON).with_name(tool).exists():
            raise BenchUnavailable(f"{tool} in {Path(PYTHON).parent} (make install)")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Stack:
    """``with Stack(stores_file) as stack:`` → a migrated portal database and a Redis; start web/workers."""

    def __init__(self, stores_file: Path):
        self.stores_file = stores_file
        self.db_name = f"bench_portal_{secrets.token_hex(4)}"
        self.db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.db_name
        self.redis_port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.web_url = ""
        self.workers: subprocess.Popen | None = None
        self.others: list[subprocess.Popen] = []  # beat and workers of bench_recovery (spawn)

    # --- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Stack:
        require_services()
        admin = pg_connect(PG_ADMIN_URL, autocommit=True)
        admin.execute(f'CREATE DATABASE "{self.db_name}"')
        admin.close()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda: _answers_ping(self.redis_port), 10, "redis-server start")
        self.manage("migrate", "--noinput", "-v", "0")
        self.execute(ONE_INSERT_DDL)
        self.manage("collectstatic", "--noinput", "-v", "0")  # production pages need the manifest
        self.manage("rotate_receipt_key")  # production mode: deletion receipts need a signing key
        return self

    def __exit__(self, *exc) -> None:
        self.stop_workers()
        for process in self.others:
            self._stop(process)
        self._stop(self.web)
        self._stop(self.redis)
        try:
            admin = pg_connect(PG_ADMIN_URL, autocommit=True)
            admin.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            admin.close()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def env(self) -> dict[str, str]:
        broker = f"redis://127.0.0.1:{self.redis_port}"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
            "DJANGO_SETTINGS_MODULE": "_bench_settings",
            "DJANGO_DEBUG": "false",
            "SECRET_KEY": "bench-" + "k" * 60,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": self.db_url,
            "CELERY_BROKER_URL": f"{broker}/0",
            "CACHE_URL": f"{broker}/1",
            "PORTAL_STORES_FILE": str(self.stores_file),
            "PORTAL_VAR_DIR": str(self.workdir / "var"),
            "PORTAL_AUTO_APPROVE": "access,deletion,consent_withdrawal",
            # the bench is one client address sending thousands of requests
            "PORTAL_REQUEST_RATE": "10000000/hour",
            "PORTAL_REQUEST_EMAIL_RATE": "10000000/day",
            "PORTAL_PUBLIC_RATE": "10000000/hour",
            "PORTAL_API_ANONYMOUS_RATE": "10000000/minute",
            "PORTAL_HOST_APP_RATE": "10000000/minute",
            "PORTAL_ABUSE_IP_RATE": "10000000/day",
            "PORTAL_ABUSE_EMAIL_RATE": "10000000/day",
            # the abuse intake bench plays many reporters, each from its own address (X-Forwarded-For)
            "NUM_PROXIES": "1",
            "LOG_LEVEL": "WARNING",
        }
        for name in ("HOSTAPP_TEST_DATABASE_URL", "PORTAL_TEST_RUN_ID", "PYTEST_XDIST_WORKER"):
            env.pop(name, None)
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=600
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def api_key(self) -> str:
        code = (
            "from portal.models import ApiKey; key, raw = ApiKey.issue(name='bench', "
            "scopes=['requests:write', 'requests:read']); print(raw)"
        )
        return self.manage("shell", "-c", code).strip().splitlines()[-1]

    # --- processes ---------------------------------------------------------------------
    def start_web(self, workers: int = 2) -> str:
        port = free_port()
        self.web = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "portal.wsgi:application",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "web.log", "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
        )
        self.web_url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return urllib.request.urlopen(self.web_url + "/bench/bare", timeout=2).status == 200
            except (urllib.error.URLError, OSError):
                return False

        wait_for(up, 60, "gunicorn start")
        return self.web_url

    def start_workers(self, concurrency: int, queues: str = "default,stores,azure") -> None:
        self.stop_workers()
        self.workers = subprocess.Popen(
            [
                str(Path(PYTHON).with_name("celery")),
                "-A",
                "portal",
                "worker",
                "--pool",
                "prefork",
                "-c",
                str(concurrency),
                "-Q",
                queues,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--prefetch-multiplier",
                "1",
                "-l",
                "WARNING",
                "-n",
                f"bench{concurrency}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "worker.log", "ab"),  # noqa: SIM115
            start_new_session=True,
        )

    def spawn(self, *args: str) -> subprocess.Popen:
        """Another Celery process (``"beat"``, or ``"worker", "-Q", ...``), stopped with the stack."""
        process = subprocess.Popen(
            [str(Path(PYTHON).with_name("celery")), "-A", "portal", *args, "-l", "WARNING"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "worker.log", "ab"),  # noqa: SIM115 - the child keeps it
            start_new_session=True,
        )
        self.others.append(process)
        return process

    def spawn_worker(self, queues: str, name: str, concurrency: int = 1) -> subprocess.Popen:
        return self.spawn(
            "worker",
            "--pool",
            "prefork",
            "-c",
            str(concurrency),
            "-Q",
            queues,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--prefetch-multiplier",
            "1",
            "-n",
            f"{name}@%h",
        )

    def wait_workers_ready(self) -> None:
        """Wait until the workers answer a ping (a request posted now is picked up at once)."""
        code = "from portal.celery import app; import sys; sys.exit(0 if app.control.ping(timeout=1.0) else 1)"

        def ready() -> bool:
            return (
                subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=self.env, capture_output=True, timeout=60).returncode
                == 0
            )

        wait_for(ready, 90, "Celery workers ready", interval=0.5)

    def stop_workers(self) -> None:
        self._stop(self.workers, graceful=True)
        self.workers = None

    @staticmethod
    def _stop(process: subprocess.Popen | None, graceful: bool = False) -> None:
        if not process or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                process.kill()
            process.wait(timeout=10)

    # --- talking to it -------------------------------------------------------------------
    def post_json(self, path: str, body: dict, key: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.web_url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def execute(self, sql: str, params: tuple = ()) -> None:
        conn = pg_connect(self.db_url, autocommit=True)
        try:
            conn.execute(sql, params)
        finally:
            conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = pg_connect(self.db_url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    def wait_closed(self, references: list[str], timeout: float) -> dict[str, tuple]:
        """Poll until every request is completed (or needs attention); → reference: (status, received,
        started, completed) as epoch seconds."""
        pending = set(references)
        found: dict[str, tuple] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            rows = self.query(
                "SELECT reference, status, extract(epoch from received_at), extract(epoch from started_at), "
                "extract(epoch from completed_at) FROM requests_app_privacyrequest "
                "WHERE status IN ('completed', 'needs_attention') AND reference = ANY(%s)",
                (list(pending),),
            )
            for reference, status, received, started, completed in rows:
                found[reference] = (status, float(received), float(started or 0), float(completed or 0))
                pending.discard(reference)
            if pending:
                time.sleep(0.02)
        if pending:
            raise RuntimeError(
                f"{len(pending)} request(s) not closed within {timeout:.0f} s; see {self.workdir / 'worker.log'}"
            )
        bad = {r: v[0] for r, v in found.items() if v[0] != "completed"}
        if bad:
            reasons = self.query(
                "SELECT reference, attention_reason FROM requests_app_privacyrequest WHERE reference = ANY(%s) LIMIT 3",
                (list(bad),),
            )
            raise RuntimeError(f"{len(bad)} request(s) need attention: {reasons}")
        return found
