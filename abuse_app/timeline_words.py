"""The case timeline in moderators' words: audit actions and case statuses as the admin names them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from abuse_app.models import Case
from portal import audit
from portal.models import AuditEvent

ACTION_WORDS: dict[str, Any] = {
    "abuse.case_opened": _("Case opened"),
    "abuse.notice_received": _("Report received"),
    "abuse.notice_joined": _("Another report joined the case"),
    "abuse.assigned": _("Assigned"),
    "abuse.note_added": _("Internal note added"),
    "abuse.decided": _("Decided (statement of reasons sent)"),
    "abuse.appeal_filed": _("Appeal filed"),
    "abuse.appeal_decided": _("Appeal decided"),
    "abuse.legal_hold": _("Placed on legal hold"),
    "abuse.evidence_viewed": _("Evidence opened"),
    "abuse.evidence_revealed": _("Blurred evidence revealed"),
    "abuse.evidence_purged": _("Evidence deleted (retention)"),
    "abuse.reporter_purged": _("Reporter's details deleted (retention)"),
    "abuse.appellant_contact_purged": _("Appellant's e-mail deleted (retention)"),
    "abuse.webhook_retried": _("Host app notification sent again"),
    "abuse.authorities_notified": _("Authorities notified (DSA Art. 18)"),
    "abuse.sor_resend": _("Statement of reasons queued again for the Transparency Database"),
    "abuse.sor_refused": _("Statement of reasons refused by the Transparency Database"),
    "abuse.sor_token_refused": _("Transparency Database refused the token"),
}


def action_words(action: str) -> str:
    return audit.action_words(action, ACTION_WORDS, prefix="abuse.")


def _status(value: str) -> str:
    try:
        return str(Case.Status(value).label)
    except ValueError:
        return value


def change_words(from_status: str, to_status: str) -> str:
    if not to_status or from_status == to_status:
        return _status(to_status) if to_status else ""
    return f"{_status(from_status) if from_status else '—'} → {_status(to_status)}"


def timeline_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at,
            "who": e.who,
            "what": action_words(e.action),
            "change": change_words(e.from_status, e.to_status),
            "reason": e.reason,
        }
        for e in events
    ]
