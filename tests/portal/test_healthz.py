import pytest
from django.utils import timezone

from portal.models import Heartbeat
from tests.helpers import wait_until


@pytest.mark.django_db
def test_healthz_without_worker_or_beat_is_503_naming_them(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["worker"] == {"ok": False, "error": "never seen"}
    assert checks["beat"]["ok"] is False


@pytest.mark.django_db
def test_healthz_all_ok_when_heartbeats_are_fresh(client):
    Heartbeat.objects.create(name="worker", at=timezone.now())
    Heartbeat.objects.create(name="beat", at=timezone.now())
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["ok"] is True


@pytest.mark.django_db
def test_healthz_stale_worker_heartbeat_is_503(client):
    Heartbeat.objects.create(name="worker", at=timezone.now() - timezone.timedelta(minutes=5))
    Heartbeat.objects.create(name="beat", at=timezone.now())
    assert client.get("/healthz").status_code == 503


def test_worker_heartbeat_task_runs_on_a_real_worker(celery_worker):
    from portal.tasks import record_worker_heartbeat

    record_worker_heartbeat.delay()
    assert wait_until(lambda: Heartbeat.objects.filter(name="worker").exists())
