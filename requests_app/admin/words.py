"""Staff screens in plain words: audit actions, statuses, and what approving a deletion will do.

The audit trail stores machine names (``request.verified``, ``unverified → verified``); staff read
the same words the rest of the admin uses ("Confirmed, waiting for review").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from requests_app.engine.local import discover_all
from requests_app.models import PrivacyRequest
from requests_app.stores import registry
from requests_app.stores.base import StoreError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ACTION_WORDS: dict[str, StrOrPromise] = {
    "request.received": _("Request received"),
    "request.verification_resent": _("Confirmation link sent again"),
    "request.duplicate_submitted": _("Asked again while open (pointed to this request)"),
    "request.verified": _("Confirmed by the requester"),
    "request.approved": _("Approved"),
    "request.denied": _("Denied"),
    "request.extended": _("Deadline extended"),
    "request.canceled": _("Canceled"),
    "request.expired": _("Expired (never confirmed)"),
    "request.assigned": _("Assigned"),
    "request.auto_approval_held": _("Held for a person to approve"),
    "request.links_resent": _("Status links sent again"),
    "request.status_links_revoked": _("Status links revoked"),
    "request.pii_purged": _("Requester's details deleted (retention)"),
    "request.dry_run": _("Looked up what a deletion would remove"),
}


def action_words(action: str) -> str:
    """Known actions in words; others readable (``engine.task_failed`` → "Engine task failed")."""
    return audit.action_words(action, ACTION_WORDS)


def status_words(value: str) -> str:
    if not value:
        return "—"
    try:
        return str(PrivacyRequest.Status(value).label)
    except ValueError:
        return value


def status_change_words(from_status: str, to_status: str) -> str:
    if from_status == to_status:
        return status_words(to_status)
    return f"{status_words(from_status) if from_status else '—'} → {status_words(to_status)}"


@dataclass
class StoreFinding:
    store: str
    kind: str
    found: int | None
    detail: str = ""
    error: str = ""


@dataclass
class ApprovalPreview:
    """What approving a request will do: when it runs and, for a deletion, what each store holds now."""

    runs_at: datetime
    grace_hours: int
    findings: list[StoreFinding] = field(default_factory=list)
    error: str = ""

    @property
    def total(self) -> int:
        return sum(f.found or 0 for f in self.findings)


def approval_preview(request: PrivacyRequest, *, actor: audit.Actor) -> ApprovalPreview:
    """Discovery only, through the engine's own steps (the dry run of ``erase_subject``); nothing changes."""
    deletion = request.kind == PrivacyRequest.Kind.DELETION
    grace = int(settings.PORTAL_DELETION_GRACE_HOURS) if deletion else 0
    preview = ApprovalPreview(runs_at=timezone.now() + timedelta(hours=grace), grace_hours=grace)
    if not deletion:
        return preview
    identities: dict[str, set[str]] = {}
    if request.email:
        identities["email"] = {request.email.strip().lower()}
    for kind, value in (request.identifiers or {}).items():
        values = value if isinstance(value, list) else [value]
        identities.setdefault(str(kind), set()).update(str(v).strip() for v in values if v not in (None, ""))
    if not identities:
        preview.error = str(_("The requester's details were already deleted; nothing can be looked up."))
        return preview
    try:
        results = discover_all(identities)
    except registry.StoresConfigError as exc:
        preview.error = str(_("The stores file has errors (run manage.py check_stores): %(e)s") % {"e": exc})
        return preview
    for store, result in results:
        label = str(store.config.get("label") or store.name)
        if isinstance(result, StoreError):
            preview.findings.append(StoreFinding(label, store.kind, None, error=str(result)[:300]))
            continue
        detail = ", ".join(f"{k}: {v}" for k, v in result.summary().items() if v)
        preview.findings.append(StoreFinding(label, store.kind, result.found, detail=detail))
    audit.record(
        subject_type="privacy_request",
        subject_id=request.pk,
        action="request.dry_run",
        actor=actor,
        data={"stores": len(preview.findings), "found": preview.total},
    )
    return preview
