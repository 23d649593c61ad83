from celery import shared_task

from portal.models import Heartbeat


@shared_task(name="portal.record_worker_heartbeat", acks_late=False)
def record_worker_heartbeat() -> None:
    """Proves to /healthz that a worker is consuming the default queue."""
    Heartbeat.record("worker")
