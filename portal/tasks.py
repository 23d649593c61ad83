from celery import shared_task

from portal import audit_chain
from portal.models import Heartbeat


@shared_task(name="portal.record_worker_heartbeat", acks_late=False)
def record_worker_heartbeat() -> None:
    """Proves to /healthz that a worker is consuming the default queue."""
    Heartbeat.record("worker")


@shared_task(name="portal.audit_seal", acks_late=True)
def audit_seal() -> int:
    """Chain audit events a process wrote but could not seal (killed between commit and seal)."""
    return audit_chain.seal()


@shared_task(name="portal.audit_anchor", acks_late=True)
def audit_anchor() -> bool:
    """Once a day: the head of the audit chain to the operator's log and e-mail."""
    return audit_chain.anchor().ok
