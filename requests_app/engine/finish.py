"""Finishing a request: the access package or the deletion receipt, the e-mail, the close.

Idempotent: a second finish for the same request finds it completed and does
nothing (a package built by a losing duplicate is deleted again).
"""

from __future__ import annotations

import contextvars
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from portal import mail, task_failures, tokens
from portal.audit import Actor
from portal.models import TaskFailure
from requests_app.engine import package, package_sinks, receipt
from requests_app.engine.dispatch import DB_ERRORS, FINISH_REQUEST
from requests_app.models import AccessPackage, PrivacyRequest, StoreTask, SubjectIdentity
from requests_app.staff import privacy_officer_emails
from requests_app.status_words import found_nothing
from requests_app.stores.base import LeftItem

logger = logging.getLogger(__name__)

# Staff commands (erase_subject, export_subject) turn the requester e-mail off unless asked.
NOTIFY: contextvars.ContextVar[bool] = contextvars.ContextVar("engine_notify", default=True)
PR = PrivacyRequest.Status
ACTOR = "system:engine"


def leftovers(tasks: list[StoreTask]) -> list[dict[str, Any]]:
    """What an erasure left, per store: found but not erased, known but unreachable, no deletion API.

    (A webhook's ``manual_steps`` are the host app's own declared processes, e.g. "paper invoices
    shredded within 30 days": shown on the receipt, not counted as left.)

    Each ``{"store", "what", "ids", "why"}``; empty when everything found is gone.
    """
    left: list[dict[str, Any]] = []
    for task in tasks:
        if task.phase != StoreTask.Phase.ERASE:
            continue
        detail = task.detail or {}
        for stored in detail.get("left") or []:
            if isinstance(stored, dict):  # written by execute from LeftItem.as_dict
                left.append({"store": task.store, **LeftItem.from_dict(stored).as_dict()})
    return left


def describe_leftovers(left: list[dict[str, Any]]) -> str:
    items = "; ".join(f'store "{item["store"]}": {item["what"]} — {item["why"]}' for item in left[:10])
    more = f" (and {len(left) - 10} more)" if len(left) > 10 else ""
    return (
        f"The erasure left {len(left)} thing(s) it could not delete: {items}{more}. "
        "Fix and retry, or close the request as completed with exceptions, giving the reason."
    )


FINISH_TASK = FINISH_REQUEST


def download_path(token: str) -> str:
    """The requester's secret download link (path only)."""
    for name in ("requests_app:package-download", "package-download"):
        try:
            return reverse(name, args=[token])
        except NoReverseMatch:
            continue
    return f"/requests/download/{token}/"


class FinishRetry(Exception):
    """Finishing failed and should be tried again in ``countdown`` seconds."""

    def __init__(self, countdown: int, error: BaseException):
        super().__init__(f"retry in {countdown} s: {task_failures.describe(error)}")
        self.countdown = countdown


def finish_or_give_up(request_id: int) -> str:
    """``finish``, bounded: a failure is recorded and retried with backoff (``FinishRetry``) until
    ``PORTAL_FINISH_MAX_ATTEMPTS`` failures since the request last started running; then the
    request goes to needs_attention with the error as its reason and staff get one e-mail.

    A database blip is not counted: it propagates for the task's own retry.
    """
    if _retry_not_due(request_id):
        return "retry scheduled"
    try:
        return finish(request_id)
    except DB_ERRORS:
        raise
    except Exception as exc:
        logger.warning("finishing request %s failed: %s", request_id, task_failures.describe(exc))
        task_failures.record(FINISH_TASK, request_id, exc)
        return _after_failure(request_id, exc)


def backoff_seconds(failures: int) -> int:
    return min(3600, 30 * (1 << max(0, failures - 1)))  # 30 s doubling, at most an hour


def _retry_not_due(request_id: int) -> bool:
    """True while the backoff after the last failure runs: the sweeper, which re-sends the finish
    of every idle running request, must not turn the backoff into a retry every sweep."""
    recent = list(
        TaskFailure.objects.filter(task=FINISH_TASK, subject=str(request_id))
        .order_by("-at")
        .values_list("at", flat=True)[:50]
    )
    if not recent:
        return False  # the usual case: one indexed look-up
    request = PrivacyRequest.objects.filter(pk=request_id).first()
    if request is None or request.status != PR.RUNNING:
        return False  # finish itself says what there is to do
    since = _running_since(request)
    failures = [at for at in recent if at >= since]
    if not failures:
        return False
    due = failures[0] + timedelta(seconds=backoff_seconds(len(failures)))
    return timezone.now() < due - timedelta(seconds=2)  # the task's own retry arrives right on time


def _running_since(request: PrivacyRequest) -> Any:
    """When the request last became "running" (a staff retry starts the count again)."""
    last = request.timeline().filter(to_status=PR.RUNNING).order_by("-at").values_list("at", flat=True).first()
    return last or request.started_at or request.received_at


def _after_failure(request_id: int, exc: Exception) -> str:
    request = PrivacyRequest.objects.get(pk=request_id)
    failures = task_failures.count(FINISH_TASK, request_id, since=_running_since(request))
    limit = settings.PORTAL_FINISH_MAX_ATTEMPTS
    if failures < limit:
        raise FinishRetry(backoff_seconds(failures), exc) from exc
    reason = (
        f"Finishing failed {failures} times; the last error: {task_failures.describe(exc)} "
        "Fix the cause (see /healthz), then retry the request."
    )
    with transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=request_id)
        if locked.status != PR.RUNNING:
            return "nothing to do"  # another run already gave up (or finished): one e-mail only
        locked.transition(
            PR.NEEDS_ATTENTION,
            actor=ACTOR,
            action="finish_failed",
            attention_reason=reason,
            data={"failures": failures},
        )
        _tell_staff(locked, reason)
    return "needs attention"


def _tell_staff(request: PrivacyRequest, reason: str) -> None:
    mail.send(
        "staff_request_stuck",
        privacy_officer_emails(),
        {
            "reference": request.reference,
            "reason": reason,
            "admin_url": mail.absolute(reverse("admin:requests_app_privacyrequest_change", args=[request.pk])),
        },
    )


def finish(request_id: int, *, manual_reason: str | None = None, actor: Actor = ACTOR, exceptions: bool = False) -> str:
    request = PrivacyRequest.objects.get(pk=request_id)
    allowed = (PR.NEEDS_ATTENTION,) if manual_reason else (PR.RUNNING,)
    if request.status not in allowed:
        return "nothing to do"
    tasks = list(request.store_tasks.order_by("id"))
    if not manual_reason and not all(t.status in (StoreTask.Status.SUCCEEDED, StoreTask.Status.SKIPPED) for t in tasks):
        return "not done yet"
    if request.kind == PrivacyRequest.Kind.ACCESS:
        return _finish_access(request, tasks, manual_reason, actor)
    left = leftovers(tasks)
    if left and not manual_reason:
        # Anything left means the request is not "completed": a person decides.
        with transaction.atomic():
            locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
            if locked.status != PR.RUNNING:
                return "nothing to do"
            locked.transition(
                PR.NEEDS_ATTENTION,
                actor=actor,
                action="execution_left_items",
                attention_reason=describe_leftovers(left),
                data={"left": left},
            )
        return "needs attention"
    return _finish_deletion(request, tasks, manual_reason, actor, left if exceptions else None)


def _close(
    request: PrivacyRequest, manual_reason: str | None, actor: Actor, *, exceptions: bool = False, **fields: Any
) -> None:
    if exceptions:
        action = "completed_with_exceptions"
    else:
        action = "resolved_manually" if manual_reason else "execution_completed"
    request.transition(
        PR.COMPLETED,
        actor=actor,
        action=action,
        reason=manual_reason or "",
        completed_at=timezone.now(),
        attention_reason="",
        **fields,
    )
    # Identities found during the run are personal data needed only while it runs.
    SubjectIdentity.objects.filter(request=request).delete()


def _finish_access(request: PrivacyRequest, tasks: list[StoreTask], manual_reason: str | None, actor: Actor) -> str:
    path, size, sha256 = package.build_package(request, tasks)
    raw_token = tokens.new_token("dl")
    with transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in ((PR.NEEDS_ATTENTION,) if manual_reason else (PR.RUNNING,)):
            Path(path).unlink(missing_ok=True)
            return "nothing to do"
        previous = AccessPackage.objects.filter(request=locked).first()
        if previous is not None:
            (Path(settings.PORTAL_PRIVATE_ROOT) / previous.path).unlink(missing_ok=True)
            previous.delete()
        pkg = AccessPackage.objects.create(
            request=locked,
            path=str(Path(path).relative_to(settings.PORTAL_PRIVATE_ROOT)),
            size_bytes=size,
            sha256=sha256,
            expires_at=timezone.now() + timedelta(days=settings.PORTAL_PACKAGE_DAYS),
            download_token_hash=tokens.hash_token(raw_token),
            max_downloads=settings.PORTAL_PACKAGE_MAX_DOWNLOADS,
        )
        _close(locked, manual_reason, actor)
        if locked.email and NOTIFY.get():
            mail.send(
                "request_completed_access",
                locked.email,
                {
                    "request": locked,
                    "reference": locked.reference,
                    "package": pkg,
                    "download_url": mail.absolute(download_path(raw_token)),
                    "days": settings.PORTAL_PACKAGE_DAYS,
                    "max_downloads": pkg.max_downloads,
                    # Nothing anywhere: say so, rather than send the person through the code to an empty ZIP.
                    "found_nothing": found_nothing(locked),
                },
                language=locked.language,
            )
        transaction.on_commit(lambda: package_sinks.remove_staging(request.pk))
    return "completed"


def _finish_deletion(
    request: PrivacyRequest,
    tasks: list[StoreTask],
    manual_reason: str | None,
    actor: Actor,
    left: list[dict[str, Any]] | None = None,
) -> str:
    document, signature = receipt.sign(receipt.build(request, tasks, manual_reason, left=left))
    with transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in ((PR.NEEDS_ATTENTION,) if manual_reason else (PR.RUNNING,)):
            return "nothing to do"
        _close(
            locked,
            manual_reason,
            actor,
            exceptions=left is not None,
            receipt=document,
            receipt_signature=signature,
        )
        if locked.email and NOTIFY.get():
            html = receipt.as_html(document, signature, locked.language)
            mail.send(
                "request_completed_deletion",
                locked.email,
                {"request": locked, "reference": locked.reference, "receipt": document},
                language=locked.language,
                attachments=[
                    (
                        f"receipt-{locked.reference}.json",
                        receipt.as_json(document, signature),
                        "application/json",
                    ),
                    (f"receipt-{locked.reference}.html", html.encode(), "text/html"),
                ],
            )
    return "completed"


def expire_packages(now: datetime | None = None) -> int:
    """Delete package files that expired or used up their downloads (beat)."""
    now = now or timezone.now()
    expired = AccessPackage.objects.filter(deleted_at__isnull=True).filter(
        Q(expires_at__lte=now) | Q(download_count__gte=F("max_downloads"))
    )
    count = 0
    for pkg in expired:
        (Path(settings.PORTAL_PRIVATE_ROOT) / pkg.path).unlink(missing_ok=True)
        pkg.deleted_at = now
        pkg.save(update_fields=["deleted_at"])
        pkg.request.note(
            actor=ACTOR,
            action="package_deleted",
            reason="expired" if pkg.expires_at <= now else "download limit reached",
        )
        count += 1
    return count
