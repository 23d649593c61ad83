"""One state-machine behaviour for every model with a ``status`` (privacy requests, abuse cases).

A model mixes in :class:`Transitions` and declares its table of allowed moves
(``TRANSITIONS``), its audit subject type (``AUDIT_SUBJECT``), its word for
itself in refusals (``NOUN``) and the exception a refused move raises
(``invalid_transition``). ``transition()`` checks the move, sets the status and
the given fields, saves exactly those fields (never the whole row: a stale
in-memory copy must not overwrite what another step wrote) and records the audit
event once; ``note()`` records an event without a status change. Call both
inside ``transaction.atomic`` on a row locked with ``select_for_update``, so the
change and its audit event commit or roll back together.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet

from portal import audit
from portal.models import AuditEvent


class InvalidTransition(Exception):
    """A status change the state machine does not allow (the message is for people)."""


class Transitions:
    """Mixin for a Django model with a ``status`` choices field; see the module docstring."""

    TRANSITIONS: ClassVar[dict[str, set[str]]]
    AUDIT_SUBJECT: ClassVar[str]
    NOUN: ClassVar[str]
    invalid_transition: ClassVar[type[Exception]] = InvalidTransition

    # Provided by the Django model this is mixed into.
    pk: Any
    status: Any
    Status: Any
    get_status_display: Any
    save: Any

    def transition(
        self,
        to: str,
        *,
        actor: audit.Actor,
        action: str,
        reason: str = "",
        data: dict[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Move to status ``to`` (checked), set ``fields``, save them, and audit — one step."""
        if to not in self.TRANSITIONS[self.status]:
            raise self.invalid_transition(
                f"A {self.NOUN} that is “{self.get_status_display().lower()}” cannot become "
                f"“{self.Status(to).label.lower()}”."
            )
        previous = self.status
        fields = {**fields, **self.transition_fields(to)}
        self.status = to
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        self._record(action=action, actor=actor, from_status=previous, to_status=to, reason=reason, data=data)
        for listener in getattr(type(self), "_transition_listeners", ()):
            listener(self, previous, to)

    @classmethod
    def register_transition_listener(cls, listener: Any) -> None:
        """Call ``listener(obj, previous, to)`` after every transition of this model, inside its transaction.

        Apps register from ``AppConfig.ready()`` (the Data Rights Protocol tells agents of status changes);
        keep listeners cheap: they run in every transition of the model.
        """
        listeners = list(getattr(cls, "_transition_listeners", ()))
        if listener not in listeners:
            cls._transition_listeners = [*listeners, listener]  # type: ignore[attr-defined]  # per model class

    def transition_fields(self, to: str) -> dict[str, Any]:
        """Fields a move to ``to`` sets besides those the caller gives (override: e.g. ``closed_at``)."""
        return {}

    def note(
        self,
        *,
        actor: audit.Actor,
        action: str,
        reason: str = "",
        data: dict[str, Any] | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
    ) -> None:
        """Audit something that happened without a status change (assign, extend, download...).

        The event carries the current status on both sides. A caller that records a change made
        outside ``transition()`` (a case's creation: ``to_status`` only) gives the sides itself;
        a side it leaves out is then empty.
        """
        if from_status is None and to_status is None:
            from_status = to_status = self.status
        self._record(
            action=action,
            actor=actor,
            from_status=from_status or "",
            to_status=to_status or "",
            reason=reason,
            data=data,
        )

    def timeline(self) -> QuerySet[AuditEvent]:
        """This object's audit events, oldest first."""
        return audit.timeline(self.AUDIT_SUBJECT, self.pk)

    def _record(
        self,
        *,
        action: str,
        actor: audit.Actor,
        from_status: str,
        to_status: str,
        reason: str,
        data: dict[str, Any] | None,
    ) -> None:
        audit.record(
            subject_type=self.AUDIT_SUBJECT,
            subject_id=self.pk,
            action=action,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            data=data,
        )
