"""Plain words for requesters: what a status means and what happened, without staff names or internals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry

Status = PrivacyRequest.Status


def status_explanation(request: PrivacyRequest) -> str:
    deletion = request.kind == PrivacyRequest.Kind.DELETION
    texts = {
        Status.UNVERIFIED: _(
            "We are waiting for you to confirm your e-mail address with the link we sent. "
            "Nothing happens until you confirm."
        ),
        Status.VERIFIED: _("You confirmed your request. A member of our privacy team will review it."),
        Status.APPROVED: (
            _(
                "Your request is approved and your data will be deleted shortly. You can still "
                "cancel until the deletion starts."
            )
            if deletion
            else _("Your request is approved; we will start collecting your data shortly.")
        ),
        Status.RUNNING: (
            _("We are deleting your data in every place we keep it.")
            if deletion
            else _("We are collecting your data from every place we keep it.")
        ),
        Status.NEEDS_ATTENTION: _(
            "Part of the work needs a person to look at it. Our team has been told; you do not need to do anything."
        ),
        Status.COMPLETED: (
            _("Done: your data has been deleted. Your receipt is below; we also e-mailed it to you.")
            if deletion
            else _("Done: your copy is ready. Download it below or with the link we e-mailed you.")
        ),
        Status.DENIED: _("We could not carry out this request. The reason is below and in the e-mail we sent."),
        Status.EXPIRED: _("This request expired because it was never confirmed. You can make a new one at any time."),
        Status.CANCELED: _("This request was canceled. Nothing was changed in your data."),
    }
    if request.status == Status.COMPLETED and found_nothing(request):
        return str(
            _("Done: we looked everywhere we keep data and found nothing about you, so there was nothing to delete.")
            if deletion
            else _("Done: we looked everywhere we keep data and found nothing about you. There is nothing to download.")
        )
    exceptions = (request.receipt or {}).get("completed_with_exceptions") if deletion else None
    if request.status == Status.COMPLETED and exceptions:
        return str(
            _(
                "Done, with exceptions: we deleted your data wherever we could, but %(n)d item(s) could not "
                "be deleted by us (for example, a service of Microsoft's that offers no way to delete). "
                "Our privacy team closed the request with this reason: %(reason)s. The receipt we e-mailed "
                "you lists each item."
            )
            % {"n": len(exceptions.get("left") or []), "reason": exceptions.get("reason", "")}
        )
    return str(texts.get(Status(request.status), request.get_status_display()))


Words = Callable[[AuditEvent], str]

ACTION_WORDS: dict[str, Words] = {
    "request.received": lambda e: _("We received your request."),
    "request.verification_resent": lambda e: _("We sent you a new confirmation link."),
    "request.duplicate_submitted": lambda e: _(
        "You asked again while this request was open; we pointed you here instead of starting a second one."
    ),
    "request.repeat_answered": lambda e: _(
        "You asked for a copy again; the copy from this request can still be downloaded, so we pointed you here "
        "instead of collecting everything a second time."
    ),
    "request.agent_filed": lambda e: _("An authorized agent filed this request on your behalf."),
    "drp.received": lambda e: _("An authorized agent asked for this through the Data Rights Protocol."),
    "request.verified": lambda e: _("Your request was confirmed."),
    "request.approved": lambda e: _("Your request was approved."),
    "request.denied": lambda e: _("Your request was denied: %(reason)s") % {"reason": e.reason},
    "request.extended": lambda e: _("We extended the deadline: %(reason)s") % {"reason": e.reason},
    "request.canceled": lambda e: _("The request was canceled."),
    "request.expired": lambda e: _("The request expired because it was never confirmed."),
}
STATUS_WORDS: dict[str, Words] = {
    Status.RUNNING: lambda e: _("Work on your request started."),
    Status.COMPLETED: lambda e: _("Your request was completed."),
    Status.NEEDS_ATTENTION: lambda e: _("Part of the work needs a person to look at it."),
}


@dataclass
class TimelineEntry:
    at: datetime
    text: str


def public_timeline(request: PrivacyRequest) -> list[TimelineEntry]:
    """The audit trail as a requester may see it: only events that concern them, no staff names.

    Status changes made by the engine (whatever it names its actions) are
    described by the status they led to.
    """
    entries = []
    for event in request.timeline():
        words = ACTION_WORDS.get(event.action)
        if words is None and event.to_status != event.from_status:
            words = STATUS_WORDS.get(event.to_status)
        if words is not None:
            entries.append(TimelineEntry(event.at, str(words(event))))
    return entries


# --- where the work is, per place the data is kept ------------------------------------------
@dataclass
class StoreLine:
    label: str  # "Your account data", or the store's own label from the stores file
    state: str  # "collecting", "deleted", "nothing found"...
    key: str  # working / done / nothing / attention: for styling and tests, not for people


KIND_LABELS: dict[str, Callable[[], str]] = {
    "sql": lambda: _("Your account data"),
    "files": lambda: _("Your files"),
    "webhook": lambda: _("Data in our other systems"),
    "azure_blob": lambda: _("Your files in cloud storage"),
    "azure_ledger": lambda: _("Data sent to Microsoft's AI services"),
}


def _store_label(name: str, kind: str) -> str:
    try:
        label = getattr(registry.get(name), "label", "")
    except Exception:  # a store renamed or removed since: fall back on words for its kind
        label = ""
    if isinstance(label, str) and label:
        return label
    if kind.startswith("azure") and kind not in KIND_LABELS:
        return str(KIND_LABELS["azure_ledger"]())
    words = KIND_LABELS.get(kind)
    return str(words()) if words else str(_("Other data we keep"))


def store_lines(request: PrivacyRequest) -> list[StoreLine]:
    """One line per store in plain words: "Your account data: collecting", "…: deleted"."""
    ST, PH = StoreTask.Status, StoreTask.Phase
    deletion = request.kind == PrivacyRequest.Kind.DELETION
    by_store: dict[str, list[StoreTask]] = {}
    for task in request.store_tasks.order_by("id"):
        by_store.setdefault(task.store, []).append(task)
    lines = []
    for name, tasks in by_store.items():
        finished = all(t.status in (ST.SUCCEEDED, ST.SKIPPED) for t in tasks)
        found = sum(t.found_count for t in tasks if t.phase == PH.DISCOVER)
        looked = [t for t in tasks if t.phase == PH.DISCOVER]
        discovered = all(t.status in (ST.SUCCEEDED, ST.SKIPPED) for t in looked)
        if any(t.status == ST.FAILED for t in tasks):
            state, key = _("our team is looking at it"), "attention"
        elif looked and discovered and found == 0:
            state, key = _("nothing found"), "nothing"
        elif finished:
            state, key = (_("deleted"), "done") if deletion else (_("collected"), "done")
        elif not discovered:
            state, key = _("looking for your data"), "working"
        else:
            state, key = (_("deleting"), "working") if deletion else (_("collecting"), "working")
        lines.append(StoreLine(_store_label(name, tasks[0].store_kind), str(state), key))
    return lines


def found_nothing(request: PrivacyRequest) -> bool:
    """True when every store looked and none found anything about the person."""
    discover = list(request.store_tasks.filter(phase=StoreTask.Phase.DISCOVER).only("status", "found_count"))
    return bool(discover) and all(
        t.status in (StoreTask.Status.SUCCEEDED, StoreTask.Status.SKIPPED) and t.found_count == 0 for t in discover
    )
