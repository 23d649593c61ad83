"""A worker killed with SIGKILL while the Transparency Database stores its batch: every statement once.

Real processes: a Celery worker with embedded beat in a subprocess, the portal database
on PostgreSQL (shared with the worker, so this runs only when DATABASE_URL is PostgreSQL),
the Redis broker of CELERY_BROKER_URL (redis only), and the fake database in this process.

How the kill lands mid-call, deterministically: the fake stores the batch and holds its
answer; the test kills the worker then, releases the answer to a dead socket and starts a
fresh worker. Its beat job finds the rows still pending once their claim expired and sends
them again; the database answers 422 ``existing_puids`` and they count as sent.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.db import connection

from abuse_app import services
from abuse_app.fakes.transparency_db import FakeTransparencyDatabase
from abuse_app.models import Case, StatementSubmission
from tests.abuse_app.conftest import submit
from tests.helpers import wait_until
from tests.resilience.test_worker_and_broker import kill, start_worker

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL: the worker subprocess must share the portal database")
    broker = django_settings.CELERY_BROKER_URL
    if not broker.startswith("redis"):
        pytest.skip("needs CELERY_BROKER_URL on Redis: the worker runs in another process")
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_DSA_TDB_DELAY_SECONDS": "0",
        "PORTAL_DSA_TDB_CLAIM_SECONDS": "8",
        "PORTAL_DSA_TDB_TIMEOUT": "6",
        "PORTAL_DSA_TDB_SWEEP_SECONDS": "1",
    }


def test_worker_killed_mid_batch_sends_every_statement_once(worker_env, moderator, settings, tmp_path):
    log = tmp_path / "worker.log"
    with FakeTransparencyDatabase() as fake:
        env = {
            **worker_env,
            "PORTAL_DSA_TDB_ENABLED": "true",
            "PORTAL_DSA_TDB_SANDBOX_URL": fake.url,
            "PORTAL_DSA_TDB_TOKEN": fake.token,
        }
        settings.PORTAL_DSA_TDB_ENABLED = False  # this process only decides; the worker sends
        settings.PORTAL_DSA_TDB_DELAY_SECONDS = 0
        for i in range(130):
            submit(email=f"r{i}@example.com", ip=f"198.51.100.{i % 250}", locations=f"https://app.example.com/x/{i}")
        for case in Case.objects.all():
            services.case_decide(
                case=case,
                actor=moderator,
                action="remove_content",
                ground="terms",
                legal_reference="Terms 4",
                facts="Facts.",
            )
        release = fake.hold_next_response()
        worker = start_worker(env, log)
        try:
            assert wait_until(lambda: len(fake.statements) == 100, timeout=60), log.read_text()[-3000:]
            kill(worker)  # SIGKILL while the database holds the first batch's answer
            release.set()
            worker = start_worker(env, log)
            assert wait_until(lambda: not StatementSubmission.objects.exclude(status="sent").exists(), timeout=90), (
                log.read_text()[-3000:]
            )
        finally:
            kill(worker)
        assert len(fake.statements) == 130
        assert sorted(fake.statements) == sorted(StatementSubmission.objects.values_list("puid", flat=True))
        assert fake.calls.count("POST /api/v1/statements") >= 3  # the held batch, the rest, the repeat
