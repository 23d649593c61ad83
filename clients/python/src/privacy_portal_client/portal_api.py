"""The portal's host-app API (docs/api.md), over the standard library: transmissions, consent, links."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class PortalError(Exception):
    """The portal answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body

    @property
    def code(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return str(error.get("code", "")) if isinstance(error, dict) else ""


class PortalUnavailable(PortalError):
    """A network error, a timeout, 429 or 5xx: worth trying again later."""

    def __init__(self, message: str, status: int | None = None, body: Any = None, retry_after: float = 0.0):
        super().__init__(message, status, body)
        self.retry_after = retry_after


@dataclass
class Reply:
    status: int
    body: Any


class PortalApi:
    """``base_url`` is the portal (``https://privacy.example.com``); ``api_key`` a ``pk_…`` key with the
    scopes ``transmissions:write``, ``consents:read`` and (for links) ``consents:write``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 5.0):
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"portal URL {base_url!r}: give the portal's address, e.g. https://privacy.example.com")
        self.base_url = base_url.rstrip("/")
        self._auth = f"Bearer {api_key}"
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Reply:
        url = self.base_url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the portal's URL
        request.add_header("Authorization", self._auth)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return Reply(answer.status, _json(answer.read()))
        except urllib.error.HTTPError as exc:
            payload = _json(exc.read())
            if exc.code == 429 or exc.code >= 500:
                retry = exc.headers.get("Retry-After") if exc.headers else None
                raise PortalUnavailable(
                    f"the portal answered {exc.code} to {method} {path}", exc.code, payload, _seconds(retry)
                ) from None
            return Reply(exc.code, payload)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PortalUnavailable(f"the portal at {self.base_url} cannot be reached: {reason}") from None

    def record(self, items: list[dict[str, Any]]) -> Reply:
        return self.call("POST", "/api/v1/transmissions/", {"items": items})

    def consent_state(self, kind: str, value: str, purpose: str) -> bool:
        reply = self.call(
            "GET", "/api/v1/consents/check", query={"subject_kind": kind, "subject": value, "purpose": purpose}
        )
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise PortalError(_message(reply, "consent check"), reply.status, reply.body)
        return reply.body.get("consented") is True

    def purposes(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            reply = self.call("GET", "/api/v1/consents/purposes/", query={"page": str(page), "page_size": "200"})
            if reply.status != 200 or not isinstance(reply.body, dict):
                raise PortalError(_message(reply, "purpose list"), reply.status, reply.body)
            for item in reply.body.get("results") or []:
                if isinstance(item, dict) and isinstance(item.get("slug"), str):
                    found[item["slug"]] = item
            if not reply.body.get("next"):
                return found
            page += 1

    def consent_link(self, kind: str, value: str, purpose: str, email: str = "") -> str:
        body = {"subject_kind": kind, "subject": value, "purpose": purpose}
        if email:
            body["email"] = email
        reply = self.call("POST", "/api/v1/consents/links/", body)
        url = reply.body.get("url") if isinstance(reply.body, dict) else None
        if reply.status != 201 or not isinstance(url, str):
            raise PortalError(_message(reply, "consent link"), reply.status, reply.body)
        return url


class ConsentCache:
    """A "yes" is kept ``ttl`` seconds (a withdrawal takes effect within it), a "no" ``negative_ttl``
    (someone who has just consented is not refused for long); purposes ``purposes_ttl``. Errors are never
    cached and count as *no consent* (fail closed)."""

    def __init__(
        self,
        api: PortalApi,
        *,
        ttl: float = 30.0,
        negative_ttl: float = 2.0,
        purposes_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.api, self.ttl, self.negative_ttl, self.purposes_ttl, self.clock = (
            api,
            ttl,
            negative_ttl,
            purposes_ttl,
            clock,
        )
        self._answers: dict[tuple[str, str, str], tuple[float, bool]] = {}
        self._purposes: tuple[float, dict[str, dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def has_consent(self, kind: str, value: str, purpose: str) -> bool:
        key = (kind, value, purpose)
        now = self.clock()
        cached = self._answers.get(key)
        if cached and cached[0] > now:
            return cached[1]
        try:
            answer = self.api.consent_state(kind, value, purpose)
        except PortalError:
            return False
        with self._lock:
            self._answers[key] = (now + (self.ttl if answer else self.negative_ttl), answer)
        return answer

    def requires_consent(self, purpose: str) -> bool | None:
        """True/False from the portal's purpose list; None when the purpose is unknown or the list unreadable."""
        now = self.clock()
        if self._purposes is None or self._purposes[0] <= now:
            try:
                purposes = self.api.purposes()
            except PortalError:
                return None
            with self._lock:
                self._purposes = (now + self.purposes_ttl, purposes)
        found = self._purposes[1].get(purpose)
        if found is None:
            return None
        return found.get("requires_consent") is not False

    def forget(self) -> None:
        with self._lock:
            self._answers.clear()
            self._purposes = None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _message(reply: Reply, what: str) -> str:
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    detail = error.get("message") if isinstance(error, dict) else ""
    return f"the portal refused the {what} ({reply.status}){': ' + str(detail) if detail else ''}"
