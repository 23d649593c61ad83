"""Shared fixtures: named personas, a real Celery worker, service requirements.

Personas (who may see what):
- alice, bob: requesters (e-mail addresses only; no accounts)
- officer: privacy officer (privacy requests, consent, ledger)
- moderator: abuse moderator
- moderator2: a second moderator (appeals must be decided by someone else)
- auditor: read-only everywhere
- admin: superuser
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import hypothesis
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portal import roles

# Tests never assert timings: Hypothesis' default 200 ms deadline per example fails tests at random
# on a loaded CI machine (seen with test_ratelimit.py::test_parse_rate_reads_every_documented_form).
hypothesis.settings.register_profile("portal", deadline=None)
hypothesis.settings.load_profile("portal")

ALICE = "alice@example.com"
BOB = "bob@example.org"

REQUIRE_SERVICES = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"
# The Redis database tests talk to directly; every key they write carries the run's prefix or a uuid.
TEST_REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
# Clock audit (README, "Testing"): PORTAL_TEST_FROZEN_AT=2028-02-29T23:59:59Z starts every test at that
# instant (the clock then ticks on), so a test that silently depends on the time of day, the date or
# the month fails here instead of on some afternoon. Tests that matter set their own clock.
FROZEN_AT = os.environ.get("PORTAL_TEST_FROZEN_AT", "")

# Fixture modules shared by several test packages (pytest only honours this in the root conftest).
# Each package's own fixtures live in its conftest.py.
pytest_plugins = ["tests.requests_app.engine_fixtures", "tests.fakes.fixtures"]


def service_unavailable(what: str) -> None:
    """Skip a test whose service is missing — or fail it when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (PORTAL_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Build missing or stale .mo files (not in git), so a plain ``pytest`` sees German and French too."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller compiled them before it started the workers
    from django.conf import settings

    from portal.translations import compile_all

    compile_all(settings.LOCALE_PATHS)


# The e-mail tasks that intake hands to the queue (on_commit). Tests without a real worker run them
# in-process when they are enqueued — the task's own code, as a worker would — so a test that reads
# mail.outbox after an intake keeps working; tests with ``celery_worker`` go through the broker.
QUEUED_MAIL_TASKS = (
    "requests_app.tasks:send_links",
    "requests_app.tasks:send_requester_mail",
    "abuse_app.tasks:send_notice_acknowledgement",
)


@pytest.fixture(autouse=True)
def _queued_mail_runs_in_process(request, monkeypatch):
    if "celery_worker" in request.fixturenames:
        return
    import importlib

    # apply_async, not delay: services enqueue some of them by name (a signature), which calls it directly.
    for path in QUEUED_MAIL_TASKS:
        module, name = path.split(":")
        task = getattr(importlib.import_module(module), name)
        monkeypatch.setattr(
            task, "apply_async", lambda args=None, kwargs=None, _task=task, **options: _task.apply(args, kwargs).get()
        )


@pytest.fixture(autouse=True)
def _postgres_where_required(request):
    """Tests marked ``postgres`` (hostile input) must not pass on SQLite where CI promises PostgreSQL."""
    if request.node.get_closest_marker("postgres") and REQUIRE_SERVICES:
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.fail(f"this test must run on PostgreSQL (PORTAL_REQUIRE_SERVICES=1), not {connection.vendor}")


@pytest.fixture(autouse=True)
def _frozen_clock_audit():
    if not FROZEN_AT:
        yield
        return
    import time_machine
    from django.utils.dateparse import parse_datetime

    when = parse_datetime(FROZEN_AT.replace("Z", "+00:00"))
    if when is None or when.tzinfo is None:
        pytest.fail(
            f"PORTAL_TEST_FROZEN_AT={FROZEN_AT!r}: expected an ISO date-time with zone, e.g. 2028-02-29T23:59:59Z"
        )
    with time_machine.travel(when, tick=True):
        yield


@pytest.fixture
def one_rate_window():
    """A still clock in the middle of every rate-limit window (15 min, hour, day).

    Rate limits count in sliding windows (``portal.ratelimit_store``); a still clock keeps a test
    that sends N+1 requests to see the 429 independent of how long a slow machine takes.
    """
    import time_machine

    with time_machine.travel(datetime(2026, 3, 2, 10, 7, 30, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def alice_email() -> str:
    return ALICE


@pytest.fixture
def bob_email() -> str:
    return BOB


def _staff(username: str, role: str | None, superuser: bool = False):
    roles.sync_roles()
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@staff.example",
        password="correct horse battery staple",
        is_staff=True,
        is_superuser=superuser,
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officer(db):
    return _staff("olivia", roles.PRIVACY_OFFICERS)


@pytest.fixture
def moderator(db):
    return _staff("mo", roles.MODERATORS)


@pytest.fixture
def moderator2(db):
    return _staff("max", roles.MODERATORS)


@pytest.fixture
def auditor(db):
    return _staff("audrey", roles.AUDITORS)


@pytest.fixture
def admin_user(db):
    return _staff("root", None, superuser=True)


@pytest.fixture
def staff_client(client) -> Callable:
    """``staff_client(user)`` → the test client logged in as that staff user, second factor done."""
    from tests.helpers import login_staff

    def _login(user):
        login_staff(client, user)
        return client

    return _login


@pytest.fixture
def api_key(db) -> Callable:
    """``api_key("requests:write", ...)`` → (ApiKey, raw key) for host-app calls."""
    from portal.models import ApiKey

    def _make(*scopes: str, name: str = "host app"):
        return ApiKey.issue(name=name, scopes=list(scopes))

    return _make


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread) consuming every queue of the configured broker."""
    from celery.contrib.testing.worker import start_worker

    from portal.celery import QUEUES, app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            for queue in QUEUES:
                try:
                    conn.default_channel.queue_purge(queue)
                except Exception:
                    pass  # the queue does not exist yet
    except Exception as exc:
        service_unavailable(f"Celery broker {app.conf.broker_url!r} ({type(exc).__name__})")
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=30, loglevel="WARNING"
    ) as worker:
        yield worker
