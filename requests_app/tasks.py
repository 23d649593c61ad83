"""Celery tasks of requests_app (autodiscovered). Engine tasks live in requests_app.engine.tasks.

E-mails of intake go through here, off the request path (options: ``mail.QUEUED_MAIL_TASK``).
The intake tasks are thin: each calls one service function, which does its own
locking and auditing, and is safe to run twice (beat may overlap a slow run).
"""

from celery import shared_task

from portal import mail, sealed
from requests_app import azure_scan as scanning
from requests_app import consent_email

# Celery autodiscovery imports this module; the engine's tasks live in their own package.
from requests_app.engine import tasks as engine_tasks  # noqa: F401
from requests_app.services import links, queue, requester_mail, schedule


@shared_task(name=queue.SEND_LINKS, **mail.QUEUED_MAIL_TASK)
def send_links(sealed_email: str) -> None:
    """ "I lost my link": the work that depends on whether the address is known (see services)."""
    links.request_send_links(email=sealed.unseal("e-mail address", sealed_email))


@shared_task(name=queue.SEND_REQUESTER_MAIL, **mail.QUEUED_MAIL_TASK)
def send_requester_mail(request_id: int, template: str, key: str) -> bool:
    """An intake e-mail (received, duplicate, confirm again, confirmed); idempotent by ``key``."""
    return requester_mail.requester_mail_send(request_id=request_id, template=template, key=key)


@shared_task(name="requests.expire_unverified", acks_late=True)
def expire_unverified() -> int:
    return schedule.request_expire_unverified()


@shared_task(name="requests.purge_closed_pii", acks_late=True)
def purge_closed_pii() -> int:
    return schedule.requests_purge_closed_pii()


@shared_task(name="requests.deadline_reminders", acks_late=True)
def deadline_reminders() -> int:
    return schedule.deadline_reminders_send()


@shared_task(name="azure.scan", acks_late=True, ignore_result=True)
def azure_scan() -> int:
    """Weekly orphan scan (on the azure queue: it calls Azure, paced by the shared rate limit)."""
    return scanning.run().pk


@shared_task(
    name=consent_email.SEND_LINK,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    max_retries=3,
)
def send_consent_link(email: str, language: str) -> int:
    """E-mail a consent link to an address typed on the consent page (requests_app.consent_email)."""
    return consent_email.send_link(email, language)
