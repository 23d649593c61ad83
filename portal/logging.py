"""Keep personal data out of logs.

Redaction rewrites e-mail addresses, bearer/API keys, portal tokens, secrets
in query strings, phone numbers and public IP addresses. Code should not log
such values in the first place; this is the net under that rule.

It is applied twice:
- ``install()`` (called when Django starts, in web, worker and beat processes)
  wraps the LogRecord factory, so *every* record of the process is cleaned
  when it is created, whichever handler later writes it: Celery's task
  logger handlers, gunicorn's access and error logs, a library's own handler.
  Exception tracebacks and stack info are cleaned too.
- ``RedactPersonalData`` is a logging filter (in settings.LOGGING) for the
  same job on handlers configured before Django starts.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from django.apps import apps

from portal import schedule

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PATTERNS = [
    (_EMAIL, "[email]"),
    (
        re.compile(
            r"(?i)(bearer|api-key|apikey|ocp-apim-subscription-key|authorization)"
            r"([\"']?\s*[:=]?\s*[\"']?)(?!\[secret\])[^\s\"',}]+"
        ),
        r"\1\2[secret]",
    ),
    # Portal tokens: a short lowercase prefix (pk_, ps_, pv_, st_, dl_...) and a long random tail.
    (re.compile(r"\b[a-z]{2,3}_(?=[A-Za-z0-9_\-]*[A-Z0-9])[A-Za-z0-9_\-]{20,}"), "[token]"),
    (
        re.compile(r"(?i)(token|sig|signature|key|secret|password|sas|code|subject|invite|otp)=([^&\s\"']+)"),
        r"\1=[secret]",
    ),
    # Every URL path that carries a secret, whatever the token looks like (old or future formats).
    (
        re.compile(
            r"(/(?:requests/(?:status|verify|download)|report/(?:status|decision)|account/2fa/invite)/)"
            r"(?!\[token\])[^/\s?#\"']+"
        ),
        r"\1[token]",
    ),
    # Phone numbers: international form, or grouped digits; not plain figures like durations.
    (re.compile(r"\+\d[\d \-]{7,}\d|\b\d{2,5}[ \-]\d{3,4}[ \-]\d{3,6}\b"), "[phone]"),
]
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _ip(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text  # e.g. a time of day "12:30:45"
    # Our own infrastructure (loopback, private networks) is useful to operators and identifies nobody.
    if address.is_loopback or address.is_private or address.is_unspecified or address.is_link_local:
        return text
    return "[ip]"


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = _IPV4.sub(_ip, text)
    return _IPV6.sub(_ip, text)


def clean(record: logging.LogRecord) -> None:
    """Redact a record in place: its message, traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the record
        message = None
    if message is not None:
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        clean(record)
        return True


def install() -> None:
    """Clean every record this process creates (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "portal_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        clean(record)
        return record

    factory.portal_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_CELERY_TASK_LOGGERS = {"celery.app.trace", "celery.worker.strategy", "celery.beat", "celery.worker.request"}


def routine_task_names() -> frozenset[str]:
    """Tasks beat sends every few seconds or minutes (heartbeat, engine sweep): bookkeeping, not news."""
    return frozenset(
        entry["task"]
        for entry in schedule.entries().values()
        if isinstance(entry.get("schedule"), int | float) and entry["schedule"] < 3600
    )


class QuietRoutineTasks(logging.Filter):
    """Lower Celery's "received", "succeeded" and "sending due task" lines of routine tasks to DEBUG.

    ``make run`` printed about one INFO line a second for them. A routine task that fails still
    logs at ERROR; with ``LOG_LEVEL=DEBUG`` the lines come back.
    """

    _names: frozenset[str] | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name not in _CELERY_TASK_LOGGERS or record.levelno != logging.INFO:
            return True
        names = self._names
        if names is None:
            names = routine_task_names()
            if apps.ready:  # logging starts before the apps; once ready, every beat entry is known
                self._names = names
        message = record.getMessage()
        if not any(name in message for name in names):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
