"""``PortalClient``: the subject context, the consent gate, and the recorder the integrations share."""

from __future__ import annotations

import atexit
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privacy_portal_client import context, routes
from privacy_portal_client.outbox import Flusher, FlushResult, Outbox
from privacy_portal_client.portal_api import ConsentCache, PortalApi

logger = logging.getLogger("privacy_portal_client")


class Refused(PermissionError):
    """The call was not sent to Azure."""


class ConsentRefused(Refused):
    """The subject has no active consent for the purpose (or the portal could not say so)."""


class NoSubject(Refused):
    """A call that leaves personal data in Azure was made outside ``with client.subject(...)``."""


@dataclass
class Pending:
    """A matched request between sending and the answer."""

    found: routes.Match
    subject: context.Subject
    client_id: str
    size_bytes: int | None
    recorded: bool = False


class PortalClient:
    """The host app's handle on the portal.

    ``PortalClient(portal_url, api_key, outbox_path)``; then add ``azure_policy()`` to azure-core
    clients, mount ``requests_adapter()`` on a ``requests.Session`` or pass ``httpx_transport()`` to an
    ``httpx.Client``, and wrap each user's work in ``with client.subject(user_id=..., purpose=...)``.
    """

    def __init__(
        self,
        portal_url: str,
        api_key: str,
        outbox_path: str | Path = "var/portal-outbox.sqlite3",
        *,
        autoflush: bool = True,
        flush_interval: float = 1.0,
        batch_size: int = 500,
        consent_ttl: float = 30.0,
        timeout: float = 5.0,
        fsync: bool = True,
        clock: Callable[[], float] | None = None,
    ):
        self.api = PortalApi(portal_url, api_key, timeout=timeout)
        cache_args: dict[str, Any] = {"ttl": consent_ttl}
        if clock is not None:
            cache_args["clock"] = clock
        self.consent = ConsentCache(self.api, **cache_args)
        self.outbox = Outbox(outbox_path, fsync=fsync)
        self.flusher = Flusher(self.outbox, self.api, batch_size=batch_size, interval=flush_interval)
        self.autoflush = autoflush
        if autoflush:
            self.flusher.start()
            atexit.register(self.close)

    # --- the host app's side ------------------------------------------------------------------
    def subject(
        self, *, purpose: str, payload_kind: str | None = None, **identity: Any
    ) -> AbstractContextManager[context.Subject]:
        return context.subject(purpose=purpose, payload_kind=payload_kind, **identity)

    bind = staticmethod(context.bind)
    not_personal = staticmethod(context.not_personal)

    def has_consent(self, subject: context.Subject | str, purpose: str | None = None) -> bool:
        """Has the subject an active consent for the purpose? ``subject``: a ``Subject``, or a user id.

        Asks the portal (``GET /api/v1/consents/check``), remembers the answer ``consent_ttl`` seconds,
        and answers False when the portal cannot be asked (fails closed).
        """
        kind, value, slug = _subject_parts(subject, purpose)
        return self.consent.has_consent(kind, value, slug)

    def may_send(self, subject: context.Subject) -> bool:
        """Consent, unless the portal says the purpose needs none. Unknown purpose or no answer: False."""
        needed = self.consent.requires_consent(subject.purpose)
        if needed is None:
            return False
        return not needed or self.consent.has_consent(subject.kind, subject.value, subject.purpose)

    def consent_link(
        self, user: context.Subject | str, purpose: str | None = None, *, email: str = "", subject_kind: str = "user_id"
    ) -> str:
        """A link to the portal's consent page for this user and purpose (valid an hour)."""
        if isinstance(user, context.Subject):
            return self.api.consent_link(user.kind, user.value, purpose or user.purpose, email)
        if purpose is None:
            raise TypeError("consent_link(user_id, purpose): name the purpose")
        return self.api.consent_link(subject_kind, str(user), purpose, email)

    def flush(self) -> FlushResult:
        """Send what the outbox holds now (the background flusher does this on its own)."""
        return self.flusher.flush()

    def close(self) -> None:
        """Stop the flusher after a last flush; what is not sent stays on disk for the next start."""
        if self.autoflush:
            self.flusher.stop()
            self.autoflush = False
            atexit.unregister(self.close)

    # --- the integrations (each imports its library only when asked for) ---------------------
    def azure_policy(self) -> Any:
        """An azure-core ``SansIOHTTPPolicy``: ``per_call_policies=[client.azure_policy()]``."""
        from privacy_portal_client.azure_policy import RecordingPolicy

        return RecordingPolicy(self)

    def requests_adapter(self, **kwargs: Any) -> Any:
        """A ``requests`` adapter: ``session.mount("https://", client.requests_adapter())``."""
        from privacy_portal_client.requests_adapter import RecordingAdapter

        return RecordingAdapter(self, **kwargs)

    def httpx_transport(self, **kwargs: Any) -> Any:
        """An ``httpx`` transport: ``httpx.Client(transport=client.httpx_transport())``."""
        from privacy_portal_client.httpx_transport import RecordingTransport

        return RecordingTransport(self, **kwargs)

    def httpx_async_transport(self, **kwargs: Any) -> Any:
        """The same for ``httpx.AsyncClient``."""
        from privacy_portal_client.httpx_transport import AsyncRecordingTransport

        return AsyncRecordingTransport(self, **kwargs)

    # --- what the integrations call ----------------------------------------------------------------
    def before_send(
        self, method: str, url: str, headers: Mapping[str, Any], size_bytes: int | None = None
    ) -> Pending | None:
        """Called before a request goes out: None (nothing to record) or what to record; raises to refuse."""
        found = routes.match(method, url, headers)
        if found is None:
            return None
        who = context.current()
        if who is None and context.exempt_reason():
            logger.info("not recorded (%s): %s %s", context.exempt_reason(), found.operation, found.service)
            return None
        if who is None:
            raise NoSubject(
                f"{found.operation} ({found.service}) leaves personal data in Azure: make the call inside "
                "`with client.subject(user_id=..., purpose=...)` so it can be recorded (or, for data about no one, "
                "`with client.not_personal(reason)`); it was not sent"
            )
        if not self.may_send(who):
            raise ConsentRefused(
                f"{found.operation} not sent: the subject (by {who.kind}) has no active consent for "
                f"purpose {who.purpose!r}, or the portal could not confirm it. Ask for consent first "
                "(client.consent_link). The message leaves out who it is, as it may end up in logs."
            )
        return Pending(found, who, "pc-" + uuid.uuid4().hex, size_bytes)

    def after_response(self, pending: Pending, status: int, body: Callable[[], bytes]) -> None:
        """Called with Azure's answer: a success is written to the outbox before the caller sees it."""
        if not 200 <= status < 300:
            return
        parsed: Any = None
        if pending.found.needs_response:
            try:
                parsed = json.loads(body() or b"null")
            except ValueError:
                parsed = None
        try:
            resource_id = routes.resource_id_from(pending.found, parsed)
        except routes.UnreadableResponse as exc:
            logger.error("%s", exc)
            return
        self._record(pending, resource_id)

    def after_error(self, pending: Pending) -> None:
        """The request failed in transport: if the id is known from the URL, record it (it may exist)."""
        if not pending.found.needs_response:
            self._record(pending, pending.found.resource_id)

    def _record(self, pending: Pending, resource_id: str) -> None:
        if pending.recorded:
            return
        pending.recorded = True
        found, who = pending.found, pending.subject
        record: dict[str, Any] = {
            "client_id": pending.client_id,
            "service": found.service,
            "account": found.account,
            "resource_kind": found.resource_kind,
            "resource_id": resource_id,
            "parent_ids": found.parent_ids,
            "subject_kind": who.kind,
            "subject_value": who.value,
            "purpose": who.purpose,
            "payload_kind": who.payload_kind or found.payload_kind,
            "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if pending.size_bytes is not None:
            record["size_bytes"] = pending.size_bytes
        self.outbox.add(record)
        if self.autoflush:
            self.flusher.wake()


def _subject_parts(subject: context.Subject | str, purpose: str | None) -> tuple[str, str, str]:
    if isinstance(subject, context.Subject):
        return subject.kind, subject.value, purpose or subject.purpose
    if purpose is None:
        raise TypeError("has_consent(user_id, purpose): name the purpose")
    return "user_id", str(subject), purpose
