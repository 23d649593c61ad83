"""A worker killed with SIGKILL mid-erasure, a broker restarted with tasks queued, a slow task: all end well.

Real processes: a Celery worker (with embedded beat) in a subprocess, its own
Redis server, the portal database and the host-app database on PostgreSQL
(the worker and this test must share them, so this runs only when
DATABASE_URL is PostgreSQL — CI sets it).

How the kill lands mid-erasure, deterministically: the test holds a lock on
the host app's ``accounts_user`` table (reads still pass, so discovery works).
The erasure deletes children first, in one transaction, and then waits on that
lock. The test kills the worker there (and, in one variant, restarts Redis:
every queued message is lost), releases the lock and starts a fresh worker. The
sweeper must notice the stale heartbeat and run the erasure again; the result
must be exact. The same lock, held longer than the stale period while the
worker keeps beating, shows a live task is never run twice.

The periods are shortened (stale 3 s, lost 2 s, sweep 1 s); the shipped
defaults and the minute they promise are checked in test_recovery_defaults.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest, StoreTask
from tests.conftest import service_unavailable
from tests.helpers import wait_until
from tests.requests_app.engine_fixtures import *  # noqa: F403
from tests.requests_app.engine_fixtures import pg_schema_host, write_stores

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "PORTAL_STORE_TASK_STALE_SECONDS": "3",
    "PORTAL_STORE_TASK_LOST_SECONDS": "2",
    "PORTAL_ENGINE_SWEEP_SECONDS": "1",
    "PORTAL_STORE_TASK_BACKOFF_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    assert wait_until(answers, timeout=10), "redis-server did not start"
    return redis


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    return subprocess.Popen(
        [
            celery,
            "-A",
            "portal",
            "worker",
            "-B",
            "--pool",
            "solo",
            "--queues",
            "default,stores,azure",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def diagnose(request, log: Path) -> str:
    request.refresh_from_db()
    tasks = [(t.store, t.phase, t.status, t.attempts, t.last_error[:100]) for t in request.store_tasks.all()]
    return f"request {request.status} {request.attention_reason!r}; tasks {tasks}\n{log.read_text()[-4000:]}"


def kill(process: subprocess.Popen | None) -> None:
    if process and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


class Rig:
    """The host-app schema, a throwaway Redis, worker processes, and a lock on ``accounts_user``."""

    def __init__(self, tmp_path: Path, host, stores: Path):
        db = connection.settings_dict
        self.port = free_port()
        self.log = tmp_path / "worker.log"
        self.host = host
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.port}/0",
            "PORTAL_STORES_FILE": str(stores),
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            **FAST,
        }
        self.env.pop("CACHE_URL", None)
        self.redis: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.blocker = host.connect()

    def start_redis(self) -> None:
        self.redis = start_redis(self.port)

    def restart_redis(self) -> None:
        """The broker goes away with every message in it, and comes back empty."""
        assert self.redis is not None
        self.redis.kill()
        self.redis.wait(timeout=10)
        self.start_redis()

    def start_worker(self) -> None:
        self.worker = start_worker(self.env, self.log)

    def kill_worker(self) -> None:
        kill(self.worker)

    def lock_users(self) -> None:
        with self.blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE accounts_user IN EXCLUSIVE MODE")  # reads pass, writes wait

    def unlock_users(self) -> None:
        self.blocker.rollback()

    def erasure_waits_on_the_lock(self, request) -> bool:
        erase = StoreTask.objects.filter(request=request, store="app-db", phase="erase").first()
        if not erase or erase.status != "running":
            return False
        with self.blocker.cursor() as cursor:
            # The blocker's transaction (it holds the lock) would otherwise see one cached snapshot
            # of pg_stat_activity, taken before the erasure blocked, for ever.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            return cursor.fetchone()[0] > 0

    def shell(self, code: str) -> None:
        """Run engine code in a separate process that talks to this rig's broker (and no worker)."""
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]

    def close(self) -> None:
        kill(self.worker)
        if self.redis and self.redis.poll() is None:
            self.redis.kill()
            self.redis.wait(timeout=10)
        self.blocker.close()


@pytest.fixture
def rig(tmp_path, settings, media_root):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL: the worker subprocess must share the portal database")
    if not any((Path(p) / "redis-server").exists() for p in os.environ.get("PATH", "").split(os.pathsep)):
        service_unavailable("redis-server binary")
    with pg_schema_host() as host:
        host.create()
        host.populate(photos=200, comments=300)
        stores = write_stores(tmp_path / "stores.toml", host, media_root)
        settings.PORTAL_STORES_FILE = str(stores)
        rig = Rig(tmp_path, host, stores)
        try:
            rig.start_redis()
            yield rig
        finally:
            rig.close()


def completed(request) -> bool:
    return PrivacyRequest.objects.get(pk=request.pk).status == "completed"


def assert_exact_erasure(request, host, media_root) -> None:
    """Alice gone, her comments anonymised, everyone else untouched; the receipt counts each row once."""
    assert host.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]
    assert host.rows("SELECT user_id FROM accounts_profile") == [(2,)]
    assert host.rows("SELECT owner_id, COUNT(*) FROM media_photo GROUP BY owner_id") == [(2, 2)]
    assert host.rows("SELECT id FROM media_photo_likes") == [(3,)]
    assert host.rows("SELECT id FROM social_follow") == [(3,)]
    assert host.scalar("SELECT COUNT(*) FROM forum_comment WHERE author_id IS NULL AND body = '[removed]'") == 300
    assert host.rows("SELECT author_id, body FROM forum_comment WHERE id = 100000") == [(2, "bob says hi")]
    # the killed attempt's work was rolled back, not added
    app_db = next(s for s in request.receipt["stores"] if s["store"] == "app-db")
    assert app_db["found"] == 1 + 1 + 200 + 2 + 300 + 2
    assert (app_db["erased"], app_db["anonymised"]) == (1 + 1 + 200 + 2 + 2, 300)
    assert app_db["verified_gone"] is True
    assert AuditEvent.objects.filter(subject_id=str(request.pk), action="execution_completed").count() == 1
    assert not (media_root / "avatars" / "1").exists()


@pytest.mark.parametrize("broker_restart", [False, True], ids=["sigkill", "sigkill+broker-restart"])
def test_worker_killed_mid_erasure_ends_in_an_exact_completed_erasure(rig, media_root, broker_restart):
    rig.lock_users()
    rig.start_worker()
    request = PrivacyRequest.objects.create(kind="deletion", status="approved", email="alice@example.com")
    assert wait_until(lambda: rig.erasure_waits_on_the_lock(request), timeout=90), diagnose(request, rig.log)

    rig.kill_worker()  # SIGKILL, mid-erasure
    if broker_restart:
        rig.restart_redis()
    rig.unlock_users()
    rig.start_worker()
    assert wait_until(lambda: completed(request), timeout=120), diagnose(request, rig.log)

    request.refresh_from_db()
    erase = request.store_tasks.get(store="app-db", phase="erase")
    assert erase.attempts == 2
    assert "worker stopped" in erase.last_error
    assert_exact_erasure(request, rig.host, media_root)


def test_broker_restart_with_tasks_queued_loses_none(rig, media_root):
    """Requests started while no worker runs; Redis restarts empty; a worker then finishes all of them."""
    requests = [
        PrivacyRequest.objects.create(kind="deletion", status="approved", email=email)
        for email in ("alice@example.com", "nobody@example.com", "ghost@example.org")
    ]
    ids = ",".join(str(r.pk) for r in requests)
    rig.shell(f"from requests_app.engine import plan\nfor pk in [{ids}]: plan.start(pk)")
    assert StoreTask.objects.filter(request__in=requests, dispatched_at__isnull=False).count() >= 3
    assert all(r.store_tasks.filter(status="pending").exists() for r in requests)

    rig.restart_redis()  # every queued message is gone
    rig.start_worker()
    for request in requests:
        assert wait_until(lambda: completed(request), timeout=120), diagnose(request, rig.log)
    alice = PrivacyRequest.objects.get(pk=requests[0].pk)
    assert_exact_erasure(alice, rig.host, media_root)
    # each lost message was sent again once and run once
    assert set(StoreTask.objects.filter(request__in=requests).values_list("attempts", flat=True)) == {1}


def test_a_slow_task_whose_worker_keeps_beating_runs_once(rig, media_root):
    rig.lock_users()
    rig.start_worker()
    request = PrivacyRequest.objects.create(kind="deletion", status="approved", email="alice@example.com")
    assert wait_until(lambda: rig.erasure_waits_on_the_lock(request), timeout=90), diagnose(request, rig.log)
    # held for more than three stale periods while sweeps run every second
    stale = float(FAST["PORTAL_STORE_TASK_STALE_SECONDS"])
    assert not wait_until(lambda: completed(request), timeout=3.5 * stale)
    rig.unlock_users()
    assert wait_until(lambda: completed(request), timeout=120), diagnose(request, rig.log)
    request.refresh_from_db()
    erase = request.store_tasks.get(store="app-db", phase="erase")
    assert erase.attempts == 1 and erase.last_error == ""
    assert_exact_erasure(request, rig.host, media_root)
