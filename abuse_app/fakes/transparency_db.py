"""A fake of the DSA Transparency Database API (``digital-services-act/transparency-database``).

Written from its ``resources/markdown/api-documentation.md`` and, where they differ, its
code (``routes/api_v1.php``, ``StatementStoreRequest.php``, ``GroupedSubmissionsService.php``,
``StatementAPIController.php``, ``PuidNotUnique*Exception.php``):

- ``Authorization: Bearer <token>``; a wrong or missing token → 401 ``{"message": "Unauthenticated."}``.
- ``POST /api/v1/statement``: 201 with the statement plus ``uuid``, ``permalink``, ``self``,
  ``puid``; 422 ``{"message", "errors": {field: [..]}}`` when invalid; a repeated ``puid`` → 422
  with ``existing``: the code sends only ``{"puid": …}``, the docs the whole statement
  (``existing_shape="puid"`` or ``"statement"``).
- ``POST /api/v1/statements`` ``{"statements": [..]}``: 1 to 100, else 422 on ``statements``;
  any invalid statement rejects the whole batch with ``errors.statement_N``; repeated puids
  (in the call or already stored) reject it with ``errors.existing_puids``; 201
  ``{"statements": [..]}``.
- ``GET /api/v1/statement/existing-puid/{puid}``: 302 ``{"message", "puid"}`` or 404.
- ``GET /api/v1/statement/{uuid}``: the statement or 404.

Knobs for tests: ``fault_rate`` (share of calls answered 500/503, seeded), ``fail_next(status, n)``,
``lose_next_response(n)`` (store the statements, then answer 500: a response lost on the way).
Counters: ``calls`` (``"POST /api/v1/statements"``…), ``statements`` (by puid), ``received``.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid as uuidlib
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from abuse_app.dsa import vocabulary as v

REQUIRED = (
    "decision_ground", "content_type", "category", "content_date", "application_date", "decision_facts",
    "source_type", "automated_detection", "automated_decision", "puid",
)  # fmt: skip
DECISIONS = {
    "decision_visibility": v.DECISION_VISIBILITIES,
    "decision_monetary": v.DECISION_MONETARIES,
    "decision_provision": v.DECISION_PROVISIONS,
    "decision_account": v.DECISION_ACCOUNTS,
}
CHOICES = {
    "account_type": v.ACCOUNT_TYPES,
    "decision_ground": v.DECISION_GROUNDS,
    "category": v.STATEMENT_CATEGORIES,
    "source_type": v.SOURCE_TYPES,
    "automated_detection": v.YES_NO,
    "automated_decision": v.AUTOMATED_DECISIONS,
    "incompatible_content_illegal": v.YES_NO,
}
ARRAYS = {
    "content_type": v.CONTENT_TYPES,
    "category_addition": v.STATEMENT_CATEGORIES,
    "category_specification": v.KEYWORDS,
    "territorial_scope": v.EUROPEAN_COUNTRY_CODES,
}
MAX_LENGTHS = {
    "decision_facts": v.MAX_FACTS, "puid": v.MAX_PUID, "illegal_content_legal_ground": v.MAX_GROUND,
    "incompatible_content_ground": v.MAX_GROUND, "illegal_content_explanation": v.MAX_EXPLANATION,
    "incompatible_content_explanation": v.MAX_EXPLANATION, "content_type_other": v.MAX_OTHER,
    "decision_visibility_other": v.MAX_OTHER, "decision_monetary_other": v.MAX_OTHER,
    "category_specification_other": v.MAX_OTHER, "source_identity": v.MAX_OTHER,
    "decision_ground_reference_url": 500,
}  # fmt: skip
GROUND_FIELDS: dict[str, tuple[str, ...]] = {
    "DECISION_GROUND_ILLEGAL_CONTENT": ("illegal_content_legal_ground", "illegal_content_explanation"),
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": ("incompatible_content_ground", "incompatible_content_explanation"),
}
DATES = {"content_date": "2000-01-01", "application_date": "2020-01-01"}
END_DATES = (
    "end_date_account_restriction", "end_date_monetary_restriction",
    "end_date_service_restriction", "end_date_visibility_restriction",
)  # fmt: skip
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _label(field: str) -> str:
    return field.replace("_", " ")


def _valid_date(value: Any, earliest: str = "0001-01-01") -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return earliest <= value <= "2038-01-01"


def validate(statement: Any) -> dict[str, list[str]]:
    """The database's validation rules for one statement: field → messages (empty when valid)."""
    if not isinstance(statement, dict):
        return {"statement": ["The statement must be an object."]}
    check = _Check(statement)
    for rules in (_required, _choices, _formats, _conditions):  # the database's order of messages
        rules(check)
    return check.errors


class _Check:
    """One statement and the messages found so far, by field."""

    def __init__(self, statement: dict[str, Any]) -> None:
        self.s = statement
        self.errors: dict[str, list[str]] = {}

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def present(self, field: str) -> bool:
        return self.s.get(field) not in (None, "", [])


def _required(c: _Check) -> None:
    if not any(c.present(f) for f in DECISIONS):
        for field in DECISIONS:
            others = " / ".join(_label(o) for o in DECISIONS if o != field)
            c.error(field, f"The {_label(field)} field is required when none of {others} are present.")
    for field in REQUIRED:
        if not c.present(field):
            c.error(field, f"The {_label(field)} field is required.")


def _choices(c: _Check) -> None:
    for field, allowed in {**CHOICES, **{k: val for k, val in DECISIONS.items() if k != "decision_visibility"}}.items():
        if c.present(field) and c.s[field] not in allowed:
            c.error(field, f"The selected {_label(field)} is invalid.")
    for field, allowed in {**ARRAYS, "decision_visibility": v.DECISION_VISIBILITIES}.items():
        if not c.present(field):
            continue
        if not isinstance(c.s[field], list) or any(item not in allowed for item in c.s[field]):
            c.error(field, f"The selected {_label(field)} is invalid.")


def _formats(c: _Check) -> None:
    for field, limit in MAX_LENGTHS.items():
        if isinstance(c.s.get(field), str) and len(c.s[field]) > limit:
            c.error(field, f"The {_label(field)} field must not be greater than {limit} characters.")
    for field, earliest in DATES.items():
        if c.present(field) and not _valid_date(c.s[field], earliest):
            c.error(field, f"The {_label(field)} does not match the format YYYY-MM-DD.")
    for field in END_DATES:
        if c.present(field) and not _valid_date(c.s[field]):
            c.error(field, f"The end date of {field.split('_')[2]} restriction does not match the format YYYY-MM-DD.")
    if c.present("puid") and not v.PUID_PATTERN.match(str(c.s["puid"])):
        c.error("puid", "The puid format is invalid.")


def _conditions(c: _Check) -> None:
    """Fields required by the value of another."""
    ground = str(c.s.get("decision_ground") or "")
    for field in GROUND_FIELDS.get(ground, ()):
        if not c.present(field):
            c.error(field, f"The {_label(field)} field is required when decision ground is {_label(ground)[15:]}.")
    if "CONTENT_TYPE_OTHER" in (c.s.get("content_type") or []) and not c.present("content_type_other"):
        c.error("content_type_other", "The content type other field is required when content is other.")
    if "DECISION_VISIBILITY_OTHER" in (c.s.get("decision_visibility") or []) and not c.present(
        "decision_visibility_other"
    ):
        c.error(
            "decision_visibility_other",
            "The decision visibility other field is required when decision visibility is other.",
        )
    if c.s.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not c.present("decision_monetary_other"):
        c.error(
            "decision_monetary_other", "The decision monetary other field is required when decision monetary is other."
        )


class FakeTransparencyDatabase:
    """``start()``/``stop()`` it (or use it in a ``with``); ``url`` is its base URL."""

    def __init__(
        self,
        *,
        token: str = "fake-tdb-token",  # noqa: S107 (a demo token for a local fake)
        platform_name: str = "Demo platform",
        existing_shape: str = "puid",
        fault_rate: float = 0.0,
        seed: int = 21,
    ):
        if existing_shape not in ("puid", "statement"):
            raise ValueError("existing_shape: 'puid' (the server's code) or 'statement' (the docs)")
        self.token, self.platform_name, self.existing_shape = token, platform_name, existing_shape
        self.fault_rate = fault_rate
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.statements: dict[str, dict[str, Any]] = {}  # by puid
        self.calls: list[str] = []
        self.received: list[dict[str, Any]] = []  # every statement in every POST, valid or not
        self._scripted: list[int] = []
        self._lose = 0
        self._hold: threading.Event | None = None
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------
    def start(self, port: int = 0) -> FakeTransparencyDatabase:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-tdb", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeTransparencyDatabase:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # --- knobs -----------------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1) -> None:
        with self.lock:
            self._scripted.extend([status] * count)

    def hold_next_response(self) -> threading.Event:
        """Store the next accepted statements but answer only once the returned event is set
        (a test kills its client meanwhile: the database has them, the client never hears)."""
        with self.lock:
            self._hold = threading.Event()
            return self._hold

    def lose_next_response(self, count: int = 1) -> None:
        with self.lock:
            self._lose += count

    # --- the API -----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path.split("?", 1)[0]
        with self.lock:
            self.calls.append(f"{handler.command} {path}")
            status, body = self._answer(handler.command, path, handler.headers.get("Authorization", ""), raw)
            hold, self._hold = (self._hold, None) if status == 201 else (None, self._hold)
        if hold is not None:
            hold.wait(timeout=120)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, method: str, path: str, auth: str, raw: bytes) -> tuple[int, Any]:
        if self._scripted:
            return self._scripted.pop(0), {"message": "Server Error"}
        if self.fault_rate and self.random.random() < self.fault_rate:
            return self.random.choice((500, 503)), {"message": "Server Error"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Unauthenticated."}
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if method == "POST" and path == "/api/v1/statement":
            status, answer = self._store_one(body)
        elif method == "POST" and path == "/api/v1/statements":
            status, answer = self._store_many(body)
        elif method == "GET" and (m := re.fullmatch(r"/api/v1/statement/existing-puid/(.+)", path)):
            puid = m.group(1)
            found = puid in self.statements
            message = "statement of reason found" if found else "statement of reason not found"
            return (302 if found else 404), {"message": message, "puid": puid}
        elif method == "GET" and (m := re.fullmatch(r"/api/v1/statement/([0-9a-f-]{36})", path)):
            match = [s for s in self.statements.values() if s["uuid"] == m.group(1)]
            return (200, self._public(match[0])) if match else (404, {"message": "Not Found"})
        else:
            return 404, {"message": "Not Found"}
        if status == 201 and self._lose:
            self._lose -= 1
            return 500, {"message": "Server Error"}
        return status, answer

    def _created(self, statement: dict[str, Any]) -> dict[str, Any]:
        ident = str(uuidlib.UUID(int=self.random.getrandbits(128), version=4))
        stored = {
            **statement, "uuid": ident, "platform_name": self.platform_name,
            "created_at": "2026-01-01 00:00:00", "permalink": f"{self.url}/statement/{ident}",
            "self": f"{self.url}/api/v1/statement/{ident}",
        }  # fmt: skip
        self.statements[statement["puid"]] = stored
        return stored

    def _public(self, stored: dict[str, Any]) -> dict[str, Any]:
        return {k: val for k, val in stored.items() if k != "puid"}  # puid is a hidden attribute

    def _store_one(self, body: Any) -> tuple[int, Any]:
        self.received.append(body if isinstance(body, dict) else {})
        errors = validate(body)
        if errors:
            first = next(iter(errors.values()))[0]
            more = sum(len(m) for m in errors.values()) - 1
            message = first + (f" (and {more} more errors)" if more else "")
            return 422, {"message": message, "errors": errors}
        if body["puid"] in self.statements:
            message = "The identifier given is not unique within this platform."
            existing = self.statements[body["puid"]] if self.existing_shape == "statement" else {"puid": body["puid"]}
            return 422, {"message": message, "errors": {"puid": [message]}, "existing": existing}
        return 201, self._created(body)

    def _store_many(self, body: Any) -> tuple[int, Any]:
        statements = body.get("statements") if isinstance(body, dict) else None
        if not isinstance(statements, list) or not 1 <= len(statements) <= v.MAX_STATEMENTS_PER_CALL:
            message = "The statements field must have between 1 and 100 items."
            if not isinstance(statements, list):
                message = "The statements field is required."
            return 422, {"message": message, "errors": {"statements": [message]}}
        self.received.extend(s if isinstance(s, dict) else {} for s in statements)
        errors = {f"statement_{i}": e for i, s in enumerate(statements) if (e := validate(s))}
        if errors:
            return 422, {"errors": errors}
        puids = [s["puid"] for s in statements]
        duplicates = sorted({p for p in puids if puids.count(p) > 1 or p in self.statements})
        if duplicates:
            message = "The platform identifier(s) are not all unique within this call."
            return 422, {"message": message, "errors": {"puid": [message], "existing_puids": duplicates}}
        return 201, {"statements": [self._created(s) for s in statements]}
