"""`make run`'s console (issue 19): quiet routine tasks, a graceful worker stop, one-line command errors."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from portal.logging import QuietRoutineTasks, routine_task_names

ROOT = Path(__file__).resolve().parents[2]


def _record(name: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


def test_routine_beat_tasks_are_lowered_to_debug():
    routine = routine_task_names()
    assert {"portal.record_worker_heartbeat", "requests.engine.sweep"} <= routine
    assert "requests.engine.run_retention" not in routine  # daily: worth a line
    quiet = QuietRoutineTasks()
    for logger, text in [
        ("celery.app.trace", "Task requests.engine.sweep[1-2] succeeded in 0.01s: None"),
        ("celery.worker.strategy", "Task portal.record_worker_heartbeat[3] received"),
        ("celery.beat", "Scheduler: Sending due task engine-sweep (requests.engine.sweep)"),
    ]:
        record = _record(logger, text)
        assert quiet.filter(record) is False
        assert record.levelno == logging.DEBUG
    assert quiet.filter(_record("celery.app.trace", "Task requests.engine.start[9] succeeded in 1s: None"))
    assert quiet.filter(_record("celery.app.trace", "Task requests.engine.sweep[1] raised: boom", logging.ERROR))
    assert quiet.filter(_record("portal.tasks", "requests.engine.sweep did something"))


def test_commands_on_a_never_migrated_database_say_migrate_in_one_line(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_VAR_DIR": str(tmp_path),
        "DJANGO_DEBUG": "true",
    }
    for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "erase_subject", "--email", "ann@example.com"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "AXES" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "The portal's database has no table requests_app_privacyrequest: it has not been set up yet. "
        "Run `python manage.py migrate` first (make run does it for you)."
    ]


def test_graceful_passes_one_sigterm_to_its_command_only(tmp_path):
    """honcho signals the whole process group; the command (a Celery worker) must hear one SIGTERM."""
    log = tmp_path / "signals"
    child = textwrap.dedent(f"""
        import signal, sys, time
        got = []
        def note(signum, frame):
            got.append(signum)
        signal.signal(signal.SIGTERM, note)
        signal.signal(signal.SIGINT, note)
        open({str(log)!r}, "w").write("ready")
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a second signal, if any, would arrive now
        open({str(log)!r}, "w").write(",".join(map(str, got)))
    """)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "portal.graceful", sys.executable, "-c", child], cwd=ROOT, start_new_session=True
    )
    try:
        for _ in range(200):
            if log.exists() and log.read_text() == "ready":
                break
            time.sleep(0.05)  # polling for the child to be ready, not timing anything
        os.killpg(launcher.pid, signal.SIGINT)  # Ctrl-C, then honcho's SIGTERM to the group
        os.killpg(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=20) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert log.read_text() == str(int(signal.SIGTERM))


@pytest.mark.parametrize(
    "line", [line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:")]
)
def test_procfile_worker_runs_under_graceful(line):
    assert "-m portal.graceful" in line
