"""Beat entries come from the kernel's registry: the apps register theirs from AppConfig.ready()."""

from __future__ import annotations

import pytest

from portal import schedule
from portal.celery import HeartbeatScheduler, app
from requests_app.schedule import BEAT_SCHEDULE as REQUESTS_BEAT


def test_every_apps_entries_are_registered():
    tasks = {entry["task"] for entry in schedule.entries().values()}
    assert {"portal.record_worker_heartbeat", "requests.engine.sweep", "abuse.purge_evidence"} <= tasks


def test_registering_the_same_entries_again_is_harmless_but_a_clash_is_refused():
    schedule.register(REQUESTS_BEAT)  # ready() may run twice (tests, reloads)
    with pytest.raises(schedule.ScheduleClash, match="engine-sweep"):
        schedule.register({"engine-sweep": {"task": "somebody.else", "schedule": 60.0}})


def test_beat_schedules_the_registered_entries(tmp_path):
    scheduler = HeartbeatScheduler(app=app, schedule_filename=str(tmp_path / "beat"), lazy=False)
    try:
        assert set(schedule.entries()) <= set(scheduler.schedule)
    finally:
        scheduler.close()
