"""A worker killed with SIGKILL in the middle of an erasure, and the broker restarted, still end well.

Real processes: a Celery worker (with embedded beat) in a subprocess, its own
Redis server, the portal database and the host-app database on PostgreSQL
(the worker and this test must share them, so this runs only when
DATABASE_URL is PostgreSQL — CI sets it).

How the kill lands mid-erasure, deterministically: the test holds a lock on
the host app's ``accounts_user`` table (reads still pass, so discovery works).
The erasure deletes children first, in one transaction, and then waits on that
lock. The test kills the worker there, restarts Redis (every queued message is
lost), releases the lock and starts a fresh worker. The sweeper must notice the
stale heartbeat and run the erasure again; the result must be exact.
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


def test_worker_killed_mid_erasure_and_broker_restart_end_in_an_exact_completed_erasure(
    tmp_path, settings, media_root
):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL: the worker subprocess must share the portal database")
    if not any((Path(p) / "redis-server").exists() for p in os.environ.get("PATH", "").split(os.pathsep)):
        service_unavailable("redis-server binary")
    db = connection.settings_dict
    portal_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = free_port()
    redis = worker = None
    with pg_schema_host() as host:
        host.create()
        host.populate(photos=200, comments=300)
        stores = write_stores(tmp_path / "stores.toml", host, media_root)
        settings.PORTAL_STORES_FILE = str(stores)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": portal_url,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "PORTAL_STORES_FILE": str(stores),
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "PORTAL_STORE_TASK_STALE_SECONDS": "3",
            "PORTAL_ENGINE_SWEEP_SECONDS": "1",
            "PORTAL_STORE_TASK_BACKOFF_SECONDS": "1",
        }
        env.pop("CACHE_URL", None)
        log = tmp_path / "worker.log"
        blocker = host.connect()
        try:
            redis = start_redis(port)
            with blocker.cursor() as cursor:
                cursor.execute("LOCK TABLE accounts_user IN EXCLUSIVE MODE")  # reads pass, writes wait
            worker = start_worker(env, log)
            request = PrivacyRequest.objects.create(
                kind="deletion", status="approved", email="alice@example.com"
            )

            def erasure_waits_on_the_lock() -> bool:
                erase = StoreTask.objects.filter(request=request, store="app-db", phase="erase").first()
                if not erase or erase.status != "running":
                    return False
                with blocker.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                    return cursor.fetchone()[0] > 0

            assert wait_until(erasure_waits_on_the_lock, timeout=90), diagnose(request, log)

            kill(worker)  # SIGKILL, mid-erasure
            redis.kill()  # the broker goes away with every message in it ...
            redis.wait(timeout=10)
            redis = start_redis(port)  # ... and comes back empty
            blocker.rollback()  # release the lock
            worker = start_worker(env, log)

            assert wait_until(
                lambda: PrivacyRequest.objects.get(pk=request.pk).status == "completed", timeout=120
            ), diagnose(request, log)
        finally:
            kill(worker)
            if redis and redis.poll() is None:
                redis.kill()
                redis.wait(timeout=10)
            blocker.close()

        request.refresh_from_db()
        erase = request.store_tasks.get(store="app-db", phase="erase")
        assert erase.attempts == 2
        assert "worker stopped" in erase.last_error or erase.last_error == ""
        # exact: alice gone, her comments anonymised, everyone else untouched
        assert host.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]
        assert host.rows("SELECT user_id FROM accounts_profile") == [(2,)]
        assert host.rows("SELECT owner_id, COUNT(*) FROM media_photo GROUP BY owner_id") == [(2, 2)]
        assert host.rows("SELECT id FROM media_photo_likes") == [(3,)]
        assert host.rows("SELECT id FROM social_follow") == [(3,)]
        assert (
            host.scalar("SELECT COUNT(*) FROM forum_comment WHERE author_id IS NULL AND body = '[removed]'")
            == 300
        )
        assert host.rows("SELECT author_id, body FROM forum_comment WHERE id = 100000") == [
            (2, "bob says hi")
        ]
        # the receipt counts each row once: the killed attempt's work was rolled back, not added
        app_db = next(s for s in request.receipt["stores"] if s["store"] == "app-db")
        assert app_db["found"] == 1 + 1 + 200 + 2 + 300 + 2
        assert (app_db["erased"], app_db["anonymised"]) == (1 + 1 + 200 + 2 + 2, 300)
        assert app_db["verified_gone"] is True
        assert (
            AuditEvent.objects.filter(subject_id=str(request.pk), action="execution_completed").count() == 1
        )
        assert not (media_root / "avatars" / "1").exists()
