"""Celery tasks of requests_app (autodiscovered). Engine tasks live in requests_app.engine.tasks.

E-mails of intake go through here, off the request path (options: ``mail.QUEUED_MAIL_TASK``).
The intake tasks are thin: each calls one service function, which does its own
locking and auditing, and is safe to run twice (beat may overlap a slow run).
"""

from celery import shared_task

from portal import mail, sealed

# Celery autodiscovery imports this module; the engine's tasks live in their own package.
from requests_app.engine import tasks as engine_tasks  # noqa: E402,F401


@shared_task(name="requests.send_links", **mail.QUEUED_MAIL_TASK)
def send_links(sealed_email: str) -> None:
    """ "I lost my link": the work that depends on whether the address is known (see services)."""
    from requests_app.services import request_send_links

    request_send_links(email=sealed.unseal("e-mail address", sealed_email))


@shared_task(name="requests.send_requester_mail", **mail.QUEUED_MAIL_TASK)
def send_requester_mail(request_id: int, template: str, key: str) -> bool:
    """An intake e-mail (received, duplicate, confirm again, confirmed); idempotent by ``key``."""
    from requests_app.services import requester_mail_send

    return requester_mail_send(request_id=request_id, template=template, key=key)


@shared_task(name="requests.expire_unverified", acks_late=True)
def expire_unverified() -> int:
    from requests_app.services import request_expire_unverified

    return request_expire_unverified()


@shared_task(name="requests.purge_closed_pii", acks_late=True)
def purge_closed_pii() -> int:
    from requests_app.services import purge_closed_requests_pii

    return purge_closed_requests_pii()


@shared_task(name="requests.deadline_reminders", acks_late=True)
def deadline_reminders() -> int:
    from requests_app.services import send_deadline_reminders

    return send_deadline_reminders()


@shared_task(name="azure.scan", acks_late=True, ignore_result=True)
def azure_scan() -> int:
    """Weekly orphan scan (on the azure queue: it calls Azure, paced by the shared rate limit)."""
    from requests_app import azure_scan as scanning

    return scanning.run().pk


@shared_task(name="consent.send_link", acks_late=True, ignore_result=True,
             autoretry_for=(Exception,), retry_backoff=30, max_retries=3)
def send_consent_link(email: str, language: str) -> int:
    """E-mail a consent link to an address typed on the consent page (requests_app.consent_email)."""
    from requests_app.consent_email import send_link

    return send_link(email, language)
