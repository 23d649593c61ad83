"""The ``webhook`` store kind: the host app's own endpoint finds, exports and erases its data.

Configuration (see docs/stores.md and the protocol in docs/webhook-protocol.md)::

    [[store]]
    name = "app-hook"
    kind = "webhook"
    url = "https://app.example.com/privacy/portal-hook"
    secret = "${APP_WEBHOOK_SECRET}"        # shared HMAC key, 32+ characters
    identities = ["email", "user_id"]       # identity kinds sent (what it needs)
    provides = ["user_id"]                  # identity kinds it may answer with
    timeout = 30                            # seconds per call
    callback_wait = 3600                    # seconds to wait for a callback before asking again

Every call is a POST of JSON signed with HMAC-SHA256 over ``"<timestamp>.<body>"``
(headers ``X-Portal-Timestamp`` and ``X-Portal-Signature: sha256=<hex>``). The
host app answers at once (200, a signed result) or later (202, then a signed
POST to ``/api/v1/store-callbacks/<store>/``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from django.conf import settings

from portal import mail
from requests_app.stores.base import (
    Deferred,
    Discovery,
    ExportSink,
    ManualStep,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
    TransientStoreError,
)

PROTOCOL_VERSION = 1
MAX_SKEW_SECONDS = 300
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
ACTIONS = ("discover", "export", "erase", "verify")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {"X-Portal-Timestamp": timestamp, "X-Portal-Signature": signature(secret, timestamp, body)}


def check_signature(secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None) -> str | None:
    """None if the signature and timestamp are good, else what is wrong (for the error message)."""
    timestamp = headers.get("X-Portal-Timestamp") or ""
    given = headers.get("X-Portal-Signature") or ""
    if not timestamp or not given:
        return "missing X-Portal-Timestamp or X-Portal-Signature header"
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return "X-Portal-Timestamp is not a Unix time in seconds"
    if age > MAX_SKEW_SECONDS:
        return f"X-Portal-Timestamp is {int(age)} s away from our clock (at most {MAX_SKEW_SECONDS} s allowed)"
    if not hmac.compare_digest(signature(secret, timestamp, body), given):
        return "X-Portal-Signature does not match (wrong secret, or the body was changed)"
    return None


class WebhookStore(Store):
    kind = "webhook"
    answers_by_callback = True

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        url = config.get("url")
        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            errors.append(("url", "required: the host app's endpoint, e.g. https://app.example.com/privacy-hook"))
        elif parsed.scheme == "http" and not settings.DEBUG and parsed.hostname not in ("127.0.0.1", "localhost"):
            errors.append(("url", "must use https outside development (the body carries personal data)"))
        secret = config.get("secret")
        if not isinstance(secret, str) or len(secret) < 32:
            errors.append(
                (
                    "secret",
                    "required: a shared random secret of at least 32 characters "
                    "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                )
            )
        for key in ("identities", "provides"):
            value = config.get(key, ["email"] if key == "identities" else [])
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.isidentifier() and v.islower() for v in value
            ):
                errors.append((key, 'a list of identity kinds, e.g. ["email", "user_id"]'))
        if config.get("identities") == []:
            errors.append(("identities", "must name at least one identity kind to send"))
        for key, low, high in (("timeout", 1, 300), ("callback_wait", 60, 7 * 86400)):
            value = config.get(key)
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high
            ):
                errors.append((key, f"seconds, between {low} and {high}"))
        for extra in sorted(set(config) - {"url", "secret", "identities", "provides", "timeout", "callback_wait"}):
            errors.append((extra, "unknown field; expected url, secret, identities, provides, timeout, callback_wait"))
        return errors

    @property
    def needs(self) -> set[str]:
        return set(self.config.get("identities", ["email"]))

    @property
    def provides(self) -> set[str]:
        return set(self.config.get("provides", []))

    def callback_url(self) -> str:
        return mail.absolute(f"/api/v1/store-callbacks/{self.name}/")

    # --- the call ----------------------------------------------------------------
    def call(self, action: str, subject: Subject) -> dict[str, Any] | None:
        """POST one signed action; the verified JSON answer, or None when the app will call back."""
        payload = {
            "version": PROTOCOL_VERSION,
            "action": action,
            "store": self.name,
            "task": subject.task_id,
            "request": subject.request_id,
            "purpose": subject.purpose,
            "identities": {kind: sorted(subject.values(kind)) for kind in sorted(self.needs)},
            "callback_url": self.callback_url(),
        }
        body = json.dumps(payload, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "privacy-portal-engine/1",
            **signed_headers(self.config["secret"], body),
        }
        # config_errors allows only http(s) URLs
        req = urllib.request.Request(self.config["url"], data=body, headers=headers, method="POST")  # noqa: S310
        where = f'store "{self.name}" ({action})'
        try:
            with urllib.request.urlopen(req, timeout=float(self.config.get("timeout", 30))) as response:  # noqa: S310
                status = response.status
                raw = response.read(MAX_RESPONSE_BYTES + 1)
                response_headers = response.headers
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = _short(exc.read(2000))
            retry_after = _retry_after(exc.headers.get("Retry-After"))
            if status == 429 or status >= 500:
                raise TransientStoreError(f"{where}: the host app answered {status}{detail}", retry_after) from exc
            raise PermanentStoreError(
                f"{where}: the host app refused with {status}{detail}; check the url, the "
                "secret and the app's webhook handler"
            ) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientStoreError(f"{where}: cannot reach {urlparse(self.config['url']).netloc}: {reason}") from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise PermanentStoreError(
                f"{where}: the answer is larger than {MAX_RESPONSE_BYTES // 2**20} MB; "
                "answer with 202 and send the result by callback in parts"
            )
        if status == 202:
            return None
        if status != 200:
            raise PermanentStoreError(f"{where}: unexpected status {status}; answer 200 or 202")
        problem = check_signature(self.config["secret"], raw, response_headers)
        if problem:
            raise PermanentStoreError(f"{where}: the answer is not signed correctly: {problem}")
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise PermanentStoreError(f"{where}: the answer is not JSON") from exc
        return validate_answer(answer, action, where)

    # --- operations --------------------------------------------------------------
    def _deferred(self) -> Deferred:
        return Deferred(
            f'store "{self.name}": accepted, waiting for its callback',
            float(self.config.get("callback_wait", 3600)),
        )

    def discover(self, subject: Subject) -> Discovery:
        answer = self.call("discover", subject)
        if answer is None:
            raise self._deferred()
        return discovery_from(answer, self.provides)

    def verify_gone(self, subject: Subject) -> Discovery:
        answer = self.call("verify", subject)
        if answer is None:
            raise self._deferred()
        return discovery_from(answer, set())

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        answer = self.call("export", subject)
        if answer is None:
            raise self._deferred()
        return export_from(answer, sink)

    def erase(self, subject: Subject) -> Outcome:
        answer = self.call("erase", subject)
        if answer is None:
            raise self._deferred()
        return outcome_from(answer)

    # --- callbacks (requests_app.engine.callbacks hands the answer here) -----------------------
    def callback_problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why a callback body is not from the host app (bad signature), or None."""
        return check_signature(self.config["secret"], body, headers)

    def callback_result(
        self, action: str, answer: dict[str, Any], sink: ExportSink | None = None
    ) -> Discovery | Outcome:
        """The result of a deferred operation answered by callback; raises store errors like a call."""
        where = f'store "{self.name}" ({action}, callback)'
        validated = validate_answer(answer, action, where)
        if action == "discover":
            return discovery_from(validated, self.provides)
        if action == "verify":
            result = discovery_from(validated, set())
            if result.found:
                raise TransientStoreError(f"{where}: still finds {result.found} item(s) after erasure")
            return result
        if action == "export":
            assert sink is not None, "an export callback needs the staging sink"
            return export_from(validated, sink)
        return outcome_from(validated)


# --- answers --------------------------------------------------------------------------
def validate_answer(answer: Any, action: str, where: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise PermanentStoreError(f"{where}: the answer must be a JSON object")
    if answer.get("status") == "error":
        message = str(answer.get("message", "no message"))[:500]
        if answer.get("retry"):
            raise TransientStoreError(
                f"{where}: the host app reports: {message}", _retry_after(answer.get("retry_after"))
            )
        raise PermanentStoreError(f"{where}: the host app reports: {message}")
    if answer.get("status") != "done":
        raise PermanentStoreError(f'{where}: "status" must be "done" or "error", got {answer.get("status")!r}')
    for key in ("found", "exported", "erased", "anonymised"):
        if key in answer and (not isinstance(answer[key], int) or isinstance(answer[key], bool) or answer[key] < 0):
            raise PermanentStoreError(f'{where}: "{key}" must be a whole number ≥ 0')
    if action == "export" and not isinstance(answer.get("records", {}), dict):
        raise PermanentStoreError(f'{where}: "records" must be an object of name → list of rows')
    return answer


def discovery_from(answer: dict[str, Any], allowed: set[str]) -> Discovery:
    provides = {}
    for kind, values in (answer.get("provides") or {}).items():
        if kind in allowed and isinstance(values, list):
            provides[kind] = {str(v) for v in values if v not in (None, "")}
    raw_detail = answer.get("detail")
    detail = _counts_only(raw_detail if isinstance(raw_detail, dict) else {})
    tables = detail.pop("tables", {})
    return Discovery(
        found=int(answer.get("found", 0)),
        provides=provides,
        counts=_flat_counts(detail),
        tables=_flat_counts(tables) if isinstance(tables, dict) else {},
    )


def _flat_counts(numbers: dict[str, Any], prefix: str = "") -> dict[str, int]:
    """Nested numbers as one level: {"orders": {"open": 2}} → {"orders.open": 2}."""
    out: dict[str, int] = {}
    for key, value in numbers.items():
        if isinstance(value, dict):
            out.update(_flat_counts(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = int(value)
    return out


def export_from(answer: dict[str, Any], sink: ExportSink) -> Outcome:
    tables: dict[str, int] = {}
    for name, rows in (answer.get("records") or {}).items():
        count = 0
        with sink.records(str(name)) as writer:
            for row in rows if isinstance(rows, list) else []:
                writer.write(row if isinstance(row, dict) else {"value": row})
                count += 1
        tables[str(name)] = count
    total = sum(tables.values())
    return Outcome(
        exported=int(answer.get("exported", total)),
        detail={"tables": tables},
        manual_steps=_manual_steps(answer),
    )


def outcome_from(answer: dict[str, Any]) -> Outcome:
    raw_detail = answer.get("detail")
    detail = raw_detail if isinstance(raw_detail, dict) else {}
    return Outcome(
        erased=int(answer.get("erased", 0)),
        anonymised=int(answer.get("anonymised", 0)),
        detail=_counts_only(detail),
        manual_steps=_manual_steps(answer),
    )


def _manual_steps(answer: dict[str, Any]) -> list[ManualStep]:
    steps = answer.get("manual_steps") or []
    return [
        ManualStep(what=str(s.get("what", ""))[:200], how=str(s.get("how", ""))[:500])
        for s in (steps if isinstance(steps, list) else [])
        if isinstance(s, dict)
    ][:50]


def _counts_only(detail: dict[str, Any]) -> dict[str, Any]:
    """Keep only numbers (and nested numbers): the detail is shown to staff and kept in receipts."""
    out: dict[str, Any] = {}
    for key, value in list(detail.items())[:100]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[str(key)[:100]] = value
        elif isinstance(value, dict):
            out[str(key)[:100]] = _counts_only(value)
    return out


def _retry_after(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _short(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        message = data.get("message") or data.get("error") if isinstance(data, dict) else None
    except ValueError:
        message = None
    return f": {str(message)[:200]}" if message else ""
