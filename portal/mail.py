"""E-mail to people: text + HTML from templates, in their language, absolute links.

Templates live in ``templates/email/<name>.txt``, ``.html`` and
``<name>.subject.txt``. Context gets ``base_url`` and ``app_name``.
``send`` sends after the surrounding transaction commits, so a rolled-back
request never e-mails anyone; ``send_now`` is for queue tasks (see there).

The subject and the text part are plain text: rendered without HTML autoescaping, so a
reason such as ``Links "here" <x>`` reads as written instead of ``&quot;here&quot; &lt;x&gt;``.
Only the HTML part is escaped. Absolute links come from ``absolute`` (``PORTAL_BASE_URL``),
never from a request's Host header.
"""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, transaction
from django.template import Context
from django.template.loader import get_template, render_to_string
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
    """The absolute URL of a site path ("/requests/status/…"), on PORTAL_BASE_URL only.

    Every absolute link the portal hands out (e-mails, API answers, receipts) is built here: the
    Host header of a request is whatever the client sent, so a link built from it could point
    anywhere.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"absolute() takes a site path starting with one '/', not {path!r}")
    return settings.PORTAL_BASE_URL + path


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text template rendered without HTML escaping (e-mail subjects and text parts)."""
    template = get_template(template_name).template  # type: ignore[attr-defined]  # the Django engine's
    return str(template.render(Context(context, autoescape=False)))


def render(name: str, context: dict[str, Any], language: str | None = None) -> tuple[str, str, str]:
    ctx = {
        "base_url": settings.PORTAL_BASE_URL,
        "app_name": settings.PORTAL_APP_NAME,
        "operator_name": settings.PORTAL_OPERATOR_NAME,
        "operator_contact": settings.PORTAL_OPERATOR_CONTACT,
        **context,
    }
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_text(f"email/{name}.subject.txt", ctx).split())
        text = render_text(f"email/{name}.txt", ctx)
        html = render_to_string(f"email/{name}.html", ctx)
    return subject, text, html


def _message(
    name: str,
    to: list[str] | str,
    context: dict[str, Any],
    language: str | None,
    attachments: list[tuple[str, bytes, str]] | None,
) -> EmailMultiAlternatives:
    recipients = [to] if isinstance(to, str) else list(to)
    subject, text, html = render(name, context, language)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients)
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    return message


def send(
    name: str,
    to: list[str] | str,
    context: dict[str, Any],
    language: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    message = _message(name, to, context, language, attachments)
    transaction.on_commit(message.send)


def send_now(
    name: str,
    to: list[str] | str,
    context: dict[str, Any],
    language: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Render and send at once, raising if the transport refuses.

    For queue tasks that send inside their transaction: a failed send rolls back
    what the e-mail announced (new links) and the task retries; a sent e-mail is
    recorded by the same commit, so a retry does not send it twice.
    """
    _message(name, to, context, language, attachments).send()
