"""Writing the audit trail. Every state change calls ``record`` in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db.models import QuerySet

from portal.models import ApiKey, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Whoever acted, as ``actor_fields`` reads it: a staff user (``request.user``, typed as possibly
# anonymous), a host app's API key, a label such as "system:beat" or "requester:consent page", or None
# for the system itself.
Actor: TypeAlias = "User | AnonymousUser | ApiKey | str | None"


def actor_fields(actor: Actor) -> dict[str, Any]:
    """Map whoever acted (a user, an API key, a string like "system:beat") to AuditEvent fields."""
    if actor is None:
        return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_label": "system"}
    if isinstance(actor, ApiKey):
        return {"actor_type": AuditEvent.ActorType.HOST_APP, "actor_label": f"API key {actor.name} ({actor.prefix})"}
    if isinstance(actor, str):
        kind, _, label = actor.partition(":")
        if kind == "requester":
            return {"actor_type": AuditEvent.ActorType.REQUESTER, "actor_label": label or "requester"}
        return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_label": label or actor}
    if getattr(actor, "is_authenticated", False):
        return {"actor_type": AuditEvent.ActorType.STAFF, "actor": actor, "actor_label": actor.get_username()}
    return {"actor_type": AuditEvent.ActorType.SYSTEM, "actor_label": str(actor)}


def record(
    *,
    subject_type: str,
    subject_id: Any,
    action: str,
    actor: Actor = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        subject_type=subject_type,
        subject_id=str(subject_id),
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
        **actor_fields(actor),
    )


def timeline(subject_type: str, subject_id: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).select_related("actor")


def action_words(action: str, known: Mapping[str, Any], prefix: str = "") -> str:
    """An audit action in staff words: the app's own words if known, else the machine name made readable
    (``abuse.webhook_retried`` → "Webhook retried")."""
    words = known.get(action)
    if words is not None:
        return str(words)
    text = action.removeprefix(prefix).replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
