"""HTTP calls to the DSA Transparency Database API (v1), answers turned into plain results.

``POST /api/v1/statement`` for one statement, ``POST /api/v1/statements`` for 2 to 100,
``GET /api/v1/statement/existing-puid/{puid}``. Every answer the database can give is
one of the ``Outcome`` kinds below; nothing here touches the portal's models.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from abuse_app.dsa import vocabulary as v


@dataclass
class Outcome:
    """What a call achieved.

    kind: ``created`` (``created`` by puid), ``invalid`` (``invalid`` by batch index: the whole call
    was refused), ``existing`` (``existing`` puids already in the database: the whole call was
    refused unless it held one statement), ``unauthorised`` (401/403), ``transient`` (5xx,
    429, timeouts, unreachable, other 4xx).
    """

    kind: str
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[int, Any] = field(default_factory=dict)
    existing: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str = ""
    retry_after: int | None = None


class TransparencyDatabaseClient:
    def __init__(self, base_url: str, token: str, timeout: float):
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (the operator's configured http(s) URL)
            self.base_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return response.status, _json(response.read()), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, _json(exc.read()), dict(exc.headers or {})

    def send(self, statements: list[dict[str, Any]]) -> Outcome:
        """Send 1 to 100 statements in one call."""
        if not 1 <= len(statements) <= v.MAX_STATEMENTS_PER_CALL:
            raise ValueError(f"send 1 to {v.MAX_STATEMENTS_PER_CALL} statements per call, not {len(statements)}")
        single = len(statements) == 1
        try:
            if single:
                status, body, headers = self._call("POST", "/api/v1/statement", statements[0])
            else:
                status, body, headers = self._call("POST", "/api/v1/statements", {"statements": statements})
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Outcome("transient", error=f"cannot reach the Transparency Database: {type(exc).__name__}: {reason}")
        body = body if isinstance(body, dict) else {}
        if status == 201:
            created = [body] if single else body.get("statements") or []
            return Outcome("created", created={str(s.get("puid")): s for s in created if isinstance(s, dict)})
        if status in (401, 403):
            return Outcome("unauthorised", error=f"HTTP {status}: {body.get('message') or 'token refused'}")
        if status == 422:
            return _unprocessable(body, statements)
        retry_after = headers.get("Retry-After", "")
        return Outcome(
            "transient",
            error=f"HTTP {status} from the Transparency Database: {str(body.get('message', ''))[:300]}".strip(": "),
            retry_after=int(retry_after) if retry_after.isdigit() else None,
        )

    def existing_puid(self, puid: str) -> tuple[bool | None, dict[str, Any]]:
        """(True, body) when the database holds ``puid``, (False, body) when not, (None, {}) when unsure."""
        quoted = urllib.parse.quote(puid, safe="")
        try:
            status, body, _headers = self._call("GET", f"/api/v1/statement/existing-puid/{quoted}")
        except (urllib.error.URLError, OSError):
            return None, {}
        body = body if isinstance(body, dict) else {}
        return {302: True, 200: True, 404: False}.get(status), body


def _unprocessable(body: dict[str, Any], statements: list[dict[str, Any]]) -> Outcome:
    errors: dict[str, Any] = body["errors"] if isinstance(body.get("errors"), dict) else {}
    # Single call: ``existing`` is the whole statement (docs) or only {"puid": …} (the server's code).
    existing = body.get("existing")
    if isinstance(existing, dict):
        puid = str(existing.get("puid") or statements[0].get("puid"))
        return Outcome("existing", existing={puid: existing}, error="puid already in the database")
    if isinstance(errors.get("existing_puids"), list):
        return Outcome(
            "existing",
            existing={str(p): {"puid": str(p)} for p in errors["existing_puids"]},
            error="puids already in the database",
        )
    if len(statements) == 1:
        return Outcome("invalid", invalid={0: errors or body.get("message")}, error="refused as invalid")
    invalid = {}
    for key, value in errors.items():
        if key.startswith("statement_") and key[10:].isdigit():
            invalid[int(key[10:])] = value
    if not invalid:  # e.g. ``statements`` itself refused: nothing per statement to blame
        return Outcome("transient", error=f"HTTP 422: {json.dumps(errors)[:300]}")
    return Outcome("invalid", invalid=invalid, error="batch refused: some statements are invalid")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """``existing-puid`` answers 302 as a plain answer, not as a redirect to follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
