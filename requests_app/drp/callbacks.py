"""Status callbacks to agents (§2.03): POST the status object to the request's ``status_callback``.

Best effort that the agent's last 200 is for the newest status: every callback
carries a sequence number, and one that is older than a callback already
delivered is dropped instead of overwriting it. Transient failures (network,
5xx, 408/425/429) raise ``TransientCallbackError`` for the task to retry with
backoff (``Retry-After`` honoured); a 4xx is permanent and only recorded.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.db.models import F
from django.db.models.functions import Greatest

from requests_app.drp.models import DrpRequest

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


class TransientCallbackError(Exception):
    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def deliver(drp_id: int, seq: int, payload: dict[str, Any]) -> str:
    """POST one status; returns what happened (for logs and tests)."""
    drp = DrpRequest.objects.filter(pk=drp_id).only("status_callback", "callback_delivered_seq").first()
    if drp is None or not drp.status_callback:
        return "no callback"
    if drp.callback_delivered_seq >= seq:
        return "superseded"
    body = json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 (https, or http when the operator allows it)
        drp.status_callback,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "privacy-portal-drp/1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1024)  # §2.03.1: the body is discarded
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code} from the agent's status_callback"
        retry_after = exc.headers.get("Retry-After", "")
        if exc.code >= 500 or exc.code in (408, 425, 429):
            _record_error(drp_id, error)
            raise TransientCallbackError(error, int(retry_after) if retry_after.isdigit() else None) from None
        _record_error(drp_id, error)
        log.warning("DRP callback of request %s refused for good: %s", drp_id, error)
        return "refused"
    except (urllib.error.URLError, OSError) as exc:
        error = f"cannot reach the agent's status_callback: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        _record_error(drp_id, error)
        raise TransientCallbackError(error) from None
    DrpRequest.objects.filter(pk=drp_id).update(
        callback_delivered_seq=Greatest(F("callback_delivered_seq"), seq), callback_error=""
    )
    return "delivered"


def _record_error(drp_id: int, error: str) -> None:
    DrpRequest.objects.filter(pk=drp_id).update(callback_error=error[:300])
