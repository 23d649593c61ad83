"""A Celery worker killed with SIGKILL in the middle of a CyberTipline submission: the report is finished once.

Real processes: a Celery worker subprocess on Redis (database 15) sharing the test's PostgreSQL
database, and the fake CyberTipline in this process. The fake holds the worker's ``/fileinfo``
call (after ``/submit`` and ``/upload`` went through and were saved on the row); the test kills
the worker there. The row's lease is then made to lapse (as the clock would after
``PORTAL_CYBERTIPLINE_LEASE_SECONDS``), the beat sweep runs, and a fresh worker finishes the
report: one report finished at the API, no second submit, no second upload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from abuse_app.cybertipline.models import CyberTiplineReport
from abuse_app.fakes.cybertipline import FakeCyberTipline
from abuse_app.services import cybertipline as submission
from abuse_app.services.child_safety import case_confirm_reportable
from tests.abuse_app.conftest import child_safety_case, real_png
from tests.conftest import _staff
from tests.helpers import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    celery = str(Path(sys.executable).with_name("celery"))
    return subprocess.Popen(
        [
            celery,
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "default",
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


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def sweep(env: dict) -> str:
    """The beat's sweep, run in a process that talks to the worker's broker."""
    code = "from abuse_app.services.cybertipline import cybertipline_sweep; print(cybertipline_sweep())"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def fake(settings):
    with FakeCyberTipline() as api:
        settings.PORTAL_CYBERTIPLINE_URL = api.url
        settings.PORTAL_CYBERTIPLINE_USERNAME = api.username
        settings.PORTAL_CYBERTIPLINE_PASSWORD = api.password
        submission._SCHEMAS.clear()
        yield api


def test_worker_killed_mid_submission_report_finished_once(tmp_path, settings, fake):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL on PostgreSQL: the worker subprocess must share the portal database")
    db = connection.settings_dict
    broker = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "PORTAL_CYBERTIPLINE_URL": fake.url,
        "PORTAL_CYBERTIPLINE_USERNAME": fake.username,
        "PORTAL_CYBERTIPLINE_PASSWORD": fake.password,
    }
    env.pop("CACHE_URL", None)
    log = tmp_path / "worker.log"
    arrived = fake.hold("/fileinfo")
    cora = _staff("cora", "Child-safety moderators")
    case = child_safety_case(Client(), content=real_png())
    worker = start_worker(env, log)
    try:
        report = case_confirm_reportable(case=case, actor=cora, incident_type="Child Sex Trafficking")
        sweep(env)  # the message the commit hook sends in production (this process has no broker)
        assert arrived.wait(timeout=60), log.read_text()[-3000:]
        kill(worker)
        fake.release("/fileinfo")
        report.refresh_from_db()
        assert report.status == "open" and report.files[0]["file_id"] and not report.files[0]["details_sent"]
        # The lease runs out (the clock would take PORTAL_CYBERTIPLINE_LEASE_SECONDS); beat sweeps.
        CyberTiplineReport.objects.filter(pk=report.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
        assert sweep(env) == "1"
        worker = start_worker(env, log)
        assert wait_until(lambda: CyberTiplineReport.objects.get(pk=report.pk).status == "finished", timeout=60), (
            log.read_text()[-3000:]
        )
    finally:
        kill(worker)
    report.refresh_from_db()
    assert [str(r.report_id) for r in fake.finished()] == [report.ncmec_report_id]
    assert fake.calls.count("POST /submit") == 1 and fake.calls.count("POST /upload") == 1
    assert report.attempts == 2
