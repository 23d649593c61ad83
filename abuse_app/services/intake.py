"""Intake: store a notice, group it into cases, acknowledge it; secret-link lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.evidence import CheckedFile
from abuse_app.models import (
    CATEGORY_POLICY,
    Case,
    Category,
    Decision,
    Evidence,
    Notice,
)
from abuse_app.services.reporters import reporter_check
from abuse_app.targets import Target
from portal import audit, compiled_queries, mail, tokens
from portal import sealed as sealed_text
from portal.audit import Actor
from portal.celery import enqueue
from portal.models import ApiKey, AuditEvent

ACKNOWLEDGE_TASK = "abuse.send_notice_acknowledgement"  # abuse_app.tasks, sent by name (no import circle)


@dataclass
class NoticeInput:
    category: str
    locations: list[Target]
    explanation: str
    good_faith: bool
    law: str = ""
    reporter_name: str = ""
    reporter_email: str = ""
    language: str = "en"
    content_id: str = ""
    target_account_id: str = ""
    snapshot: Any = None
    files: list[CheckedFile] = field(default_factory=list)


@dataclass
class Submitted:
    notice: Notice
    status_token: str
    cases: list[Case]

    @property
    def status_url(self) -> str:
        return reverse("abuse-status", args=[self.status_token])


def notice_submit(
    data: NoticeInput, *, ip: str, channel: str = Notice.Channel.WEB, api_key: ApiKey | None = None
) -> Submitted:
    """Store a validated notice, group it into cases, and acknowledge it.

    ``data`` has passed the form's validation (locations parsed, files sniffed).
    """
    child_safety = data.category == Category.MINORS
    if child_safety:
        if data.files:
            raise ValidationError(
                {
                    "evidence": _(
                        "Please do not upload anything for reports about harm to minors. Give the web "
                        "address only; we preserve the content ourselves."
                    )
                }
            )
        # Never asked in this lane; whatever a script sent is not kept either.
        data.reporter_name = data.reporter_email = ""
    if not data.good_faith:
        raise ValidationError({"good_faith": _("Please confirm the report is accurate and made in good faith.")})
    reporter_check(email=data.reporter_email, ip=ip, channel=channel)

    raw_token = tokens.new_token("st")
    now = timezone.now()
    actor = api_key if api_key is not None else "requester:reporter"
    stored: list[str] = []
    try:
        submitted = _store_notice(data, ip, channel, api_key, actor, raw_token, now, stored)
    except BaseException:
        # The rows were rolled back; files written to private storage must not outlive them.
        for name in stored:
            default_storage.delete(name)
        raise
    return submitted


def _store_notice(
    data: NoticeInput,
    ip: str,
    channel: str,
    api_key: ApiKey | None,
    actor: Actor,
    raw_token: str,
    now: datetime,
    stored: list[str],
) -> Submitted:
    child_safety = data.category == Category.MINORS
    with transaction.atomic():
        notice = Notice.objects.create(
            channel=channel,
            category=data.category,
            law=data.law.strip(),
            locations=[t.display for t in data.locations],
            explanation=data.explanation.strip(),
            good_faith=True,
            reporter_name=data.reporter_name.strip(),
            reporter_email=data.reporter_email.strip(),
            language=data.language,
            ip_hash=tokens.pseudonymise(ip) if ip else "",
            content_id=data.content_id,
            target_account_id=data.target_account_id,
            snapshot=data.snapshot,
            api_key=api_key,
            received_at=now,
            acknowledged_at=now,
            status_token_hash=tokens.hash_token(raw_token),
        )
        for checked in data.files:
            evidence = Evidence(
                notice=notice,
                original_name=checked.original_name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                uploaded_at=now,
            )
            evidence.file.save("evidence", checked.upload, save=False)
            stored.append(evidence.file.name)
            evidence.save()
        cases = [_join_case(notice, target, actor) for target in data.locations]
        audit.record(
            subject_type="abuse_notice",
            subject_id=notice.pk,
            action="abuse.notice_received",
            actor=actor,
            data={
                "reference": notice.reference,
                "channel": channel,
                "category": data.category,
                "cases": [c.reference for c in cases],
                "evidence": len(data.files),
            },
        )
        if notice.reporter_email or child_safety:
            _acknowledge_later(notice.pk, raw_token)
    return Submitted(notice=notice, status_token=raw_token, cases=cases)


def _acknowledge_later(notice_id: int, raw_token: str) -> None:
    """Hand the acknowledgement (and the on-call alert) to the queue after the commit.

    Only the token's hash is stored, so the e-mail's link must travel with the
    message: sealed, so that the broker never holds a usable link.
    """
    sealed = sealed_text.seal("abuse status token", raw_token)
    transaction.on_commit(lambda: enqueue(ACKNOWLEDGE_TASK, notice_id, sealed))


def notice_acknowledge(*, notice_id: int, sealed_token: str) -> bool:
    """The queue's half of intake: e-mail the reporter's acknowledgement, and on-call for child safety.

    Idempotent: sent inside the transaction that audits it, so a failed send is
    retried and a retry after success sends nothing (False).
    """
    raw_token = sealed_text.unseal("abuse status token", sealed_token)
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None:
            return False
        done = AuditEvent.objects.filter(
            subject_type="abuse_notice", subject_id=str(notice_id), action="abuse.acknowledgement_sent"
        )
        if done.exists():
            return False
        cases = list(notice.cases.all())
        if notice.reporter_email:
            mail.send_now(
                "abuse_received",
                notice.reporter_email,
                {
                    "notice": notice,
                    "status_url": mail.absolute(reverse("abuse-status", args=[raw_token])),
                    "cases": cases,
                },
                notice.language,
            )
        if notice.category == Category.MINORS:
            mail.send_now(
                "abuse_oncall",
                settings.PORTAL_ONCALL_EMAIL,
                {
                    "notice": notice,
                    "cases": cases,
                    "admin_urls": [mail.absolute(reverse("admin:abuse_app_case_change", args=[c.pk])) for c in cases],
                },
            )
        audit.record(
            subject_type="abuse_notice",
            subject_id=notice.pk,
            action="abuse.acknowledgement_sent",
            actor="system:mail",
            data={"reporter": bool(notice.reporter_email)},
        )
    return True


def _open_cases(target_key: str) -> QuerySet[Case]:
    return Case.objects.select_for_update().open().filter(target_key=target_key).order_by("pk")


def _join_case(notice: Notice, target: Target, actor: Actor) -> Case:
    """Add the notice to the open case about ``target``, opening one if there is none."""
    priority, sla = CATEGORY_POLICY[Category(notice.category)]
    received = notice.received_at
    child_safety = notice.is_child_safety
    hold = received + timedelta(days=settings.PORTAL_ABUSE_LEGAL_HOLD_DAYS) if child_safety else None
    case = compiled_queries.first("abuse.open_case", _open_cases, target.key)  # every notice: compiled once
    if case is None:
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    target_key=target.key,
                    target_display=target.display,
                    target_account_id=notice.target_account_id,
                    category=notice.category,
                    is_child_safety=child_safety,
                    priority=priority,
                    sla_due_at=received + sla,
                    first_received_at=received,
                    last_received_at=received,
                    legal_hold_until=hold,
                )
        except IntegrityError:  # another notice opened it a moment ago
            case = Case.objects.select_for_update().open().get(target_key=target.key)
        else:
            case.notices.add(notice)
            case.note(
                action="abuse.case_opened",
                actor=actor,
                to_status=case.status,
                data={"notice": notice.reference, "category": notice.category, "priority": priority},
            )
            return case
    case.notices.add(notice)
    changed = ["last_received_at"]
    case.last_received_at = max(case.last_received_at, received)
    if priority < case.priority:
        case.priority, case.category = priority, notice.category
        changed += ["priority", "category"]
    if received + sla < case.sla_due_at:
        case.sla_due_at = received + sla
        changed.append("sla_due_at")
    if child_safety and not case.is_child_safety:
        case.is_child_safety = True
        changed.append("is_child_safety")
    if hold and (case.legal_hold_until is None or case.legal_hold_until < hold):
        case.legal_hold_until = hold
        changed.append("legal_hold_until")
    if notice.target_account_id and not case.target_account_id:
        case.target_account_id = notice.target_account_id
        changed.append("target_account_id")
    case.save(update_fields=changed)
    case.note(action="abuse.notice_joined", actor=actor, data={"notice": notice.reference, "category": notice.category})
    return case


def notice_get_by_token(raw_token: str) -> Notice | None:
    if not raw_token.startswith("st_"):
        return None
    return Notice.objects.filter(status_token_hash=tokens.hash_token(raw_token)).first()


def decision_get_by_target_token(raw_token: str) -> Decision | None:
    if not raw_token.startswith("tok_"):
        return None
    return Decision.objects.select_related("case").filter(target_token_hash=tokens.hash_token(raw_token)).first()
