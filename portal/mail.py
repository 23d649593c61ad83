"""E-mail to people: text + HTML from templates, in their language, absolute links.

Templates live in ``templates/email/<name>.txt``, ``.html`` and
``<name>.subject.txt``. Context gets ``base_url`` and ``app_name``.
``send`` sends after the surrounding transaction commits, so a rolled-back
request never e-mails anyone; ``send_now`` is for queue tasks (see there).
"""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.template.loader import render_to_string
from django.utils import translation

# Options of the Celery tasks that send e-mail off the request path (intake acknowledgements): a
# transport or database failure rolls the task's transaction back (nothing announced, nothing
# recorded) and retries with backoff, for about a day at most.
QUEUED_MAIL_TASK: dict[str, Any] = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (OSError, smtplib.SMTPException, OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 10,
}


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL + path


def render(name: str, context: dict[str, Any], language: str | None = None) -> tuple[str, str, str]:
    ctx = {"base_url": settings.PORTAL_BASE_URL, "app_name": settings.PORTAL_APP_NAME,
           "operator_name": settings.PORTAL_OPERATOR_NAME, "operator_contact": settings.PORTAL_OPERATOR_CONTACT,
           **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"email/{name}.subject.txt", ctx).split())
        text = render_to_string(f"email/{name}.txt", ctx)
        html = render_to_string(f"email/{name}.html", ctx)
    return subject, text, html


def _message(name: str, to: list[str] | str, context: dict[str, Any], language: str | None,
             attachments: list[tuple[str, bytes, str]] | None) -> EmailMultiAlternatives:
    recipients = [to] if isinstance(to, str) else list(to)
    subject, text, html = render(name, context, language)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    return message


def send(name: str, to: list[str] | str, context: dict[str, Any], language: str | None = None,
         attachments: list[tuple[str, bytes, str]] | None = None) -> None:
    message = _message(name, to, context, language, attachments)
    transaction.on_commit(message.send)


def send_now(name: str, to: list[str] | str, context: dict[str, Any], language: str | None = None,
             attachments: list[tuple[str, bytes, str]] | None = None) -> None:
    """Render and send at once, raising if the transport refuses.

    For queue tasks that send inside their transaction: a failed send rolls back
    what the e-mail announced (new links) and the task retries; a sent e-mail is
    recorded by the same commit, so a retry does not send it twice.
    """
    _message(name, to, context, language, attachments).send()
