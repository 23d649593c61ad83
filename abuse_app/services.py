"""Abuse workflows, shared by the public form, the API, the admin and the tasks.

Every function that changes state runs in one transaction and writes the audit
trail (``portal.audit.record``) in it; e-mails and Celery messages go out only
after the commit.
"""

from __future__ import annotations

import functools
import json
import logging
import statistics
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from abuse_app.evidence import CheckedFile
from abuse_app.models import (
    CATEGORY_POLICY,
    RESTRICTING_ACTIONS,
    Appeal,
    Case,
    CaseNote,
    Category,
    Decision,
    Evidence,
    Notice,
    ReporterStanding,
    WebhookDelivery,
    mask_email,
)
from abuse_app.targets import Target
from portal import audit, mail, ratelimit, tokens

log = logging.getLogger(__name__)


class NoticeRefused(Exception):
    """A notice we will not take (rate limit, suspension). The message is for the reporter."""

    def __init__(self, message: str, *, retry_after: int | None = None, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.code = code


class AbuseError(Exception):
    """A staff or appellant action that is not allowed now. The message says why and what to do."""


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


# --- Intake ---------------------------------------------------------------------------------------


def _standing_keys(email: str, ip: str) -> list[str]:
    keys = []
    if email:
        keys.append("email:" + tokens.pseudonymise(email))
    if ip:
        keys.append("ip:" + tokens.pseudonymise(ip))
    return keys


def check_reporter(*, email: str, ip: str, channel: str) -> None:
    """Refuse a notice from a suspended reporter or over the rate limits (before anything is stored)."""
    now = timezone.now()
    keys = _standing_keys(email, ip if channel != Notice.Channel.HOST_APP else "")
    for standing in ReporterStanding.objects.active_for(keys, now):
        if standing.is_address:
            raise NoticeRefused(
                _(
                    "Several reports from your connection were manifestly unfounded. Please wait a "
                    "little before reporting again; nothing you entered was stored. If someone is in "
                    "danger, contact the police."
                ),
                retry_after=max(1, int((standing.suspended_until - now).total_seconds())),
                code="cooldown",
            )
        until = timezone.localtime(standing.suspended_until)
        raise NoticeRefused(
            _(
                "Because several of your earlier reports were manifestly unfounded, "
                "we are not processing new "
                "reports from you until %(date)s. If someone is in danger, contact the police."
            )
            % {"date": until.strftime("%Y-%m-%d")},
            code="suspended",
        )
    # The host app's server sends every in-app report: its IP says nothing about who reports.
    if ip and channel != Notice.Channel.HOST_APP:
        decision = ratelimit.hit("abuse-ip", ip, settings.PORTAL_ABUSE_IP_RATE)
        if not decision.allowed:
            raise NoticeRefused(
                _(
                    "We received many reports from your connection today. "
                    "Please try again later; nothing you "
                    "entered was stored."
                ),
                retry_after=decision.retry_after,
                code="throttled",
            )
    if email:
        decision = ratelimit.hit("abuse-email", email, settings.PORTAL_ABUSE_EMAIL_RATE)
        if not decision.allowed:
            raise NoticeRefused(
                _(
                    "We received many reports from this e-mail address today. "
                    "Please try again later; nothing "
                    "you entered was stored."
                ),
                retry_after=decision.retry_after,
                code="throttled",
            )


def submit_notice(
    data: NoticeInput, *, ip: str, channel: str = Notice.Channel.WEB, api_key: Any = None
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
        raise ValidationError(
            {"good_faith": _("Please confirm the report is accurate and made in good faith.")}
        )
    check_reporter(email=data.reporter_email, ip=ip, channel=channel)

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
    api_key: Any,
    actor: Any,
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
        status_url = mail.absolute(reverse("abuse-status", args=[raw_token]))
        if notice.reporter_email:
            mail.send(
                "abuse_received",
                notice.reporter_email,
                {"notice": notice, "status_url": status_url, "cases": cases},
                notice.language,
            )
        if child_safety:
            mail.send(
                "abuse_oncall",
                settings.PORTAL_ONCALL_EMAIL,
                {
                    "notice": notice,
                    "cases": cases,
                    "admin_urls": [
                        mail.absolute(reverse("admin:abuse_app_case_change", args=[c.pk])) for c in cases
                    ],
                },
            )
    return Submitted(notice=notice, status_token=raw_token, cases=cases)


def _join_case(notice: Notice, target: Target, actor: Any) -> Case:
    """Add the notice to the open case about ``target``, opening one if there is none."""
    priority, sla = CATEGORY_POLICY[Category(notice.category)]
    received = notice.received_at
    child_safety = notice.is_child_safety
    hold = received + timedelta(days=settings.PORTAL_ABUSE_LEGAL_HOLD_DAYS) if child_safety else None
    case = (
        Case.objects.select_for_update().open().filter(target_key=target.key).first()
    )
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
    case.note(
        action="abuse.notice_joined", actor=actor, data={"notice": notice.reference, "category": notice.category}
    )
    return case


def notice_by_token(raw_token: str) -> Notice | None:
    if not raw_token.startswith("st_"):
        return None
    return Notice.objects.filter(status_token_hash=tokens.hash_token(raw_token)).first()


def decision_by_target_token(raw_token: str) -> Decision | None:
    if not raw_token.startswith("tok_"):
        return None
    return (
        Decision.objects.select_related("case").filter(target_token_hash=tokens.hash_token(raw_token)).first()
    )


# --- Staff work on cases ------------------------------------------------------------------------


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def assign(*, case: Case, assignee: Any, actor: Any) -> Case:
    with transaction.atomic():
        case = _locked(case)
        data = {"assignee": assignee.get_username() if assignee else ""}
        if case.status == Case.Status.OPEN and assignee is not None:
            case.transition(
                Case.Status.IN_REVIEW, actor=actor, action="abuse.assigned", data=data, assigned_to=assignee
            )
        else:
            case.assigned_to = assignee
            case.save(update_fields=["assigned_to"])
            case.note(
                action="abuse.assigned", actor=actor, from_status=case.status, to_status=case.status, data=data
            )
    return case


def add_note(*, case: Case, author: Any, body: str) -> CaseNote:
    body = body.strip()
    if not body:
        raise AbuseError(_("The note is empty."))
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=author, body=body)
        case.note(action="abuse.note_added", actor=author)
    return note


def place_legal_hold(*, case: Case, actor: Any, days: int, reason: str) -> Case:
    with transaction.atomic():
        case = _locked(case)
        until = timezone.now() + timedelta(days=days)
        if case.legal_hold_until is None or case.legal_hold_until < until:
            case.legal_hold_until = until
            case.save(update_fields=["legal_hold_until"])
        case.note(
            action="abuse.legal_hold",
            actor=actor,
            reason=reason,
            data={"until": case.legal_hold_until.isoformat() if case.legal_hold_until else None},
        )
    return case


def decide(
    *,
    case: Case,
    actor: Any,
    action: str,
    ground: str,
    legal_reference: str,
    facts: str,
    automated: bool = False,
    automated_detection: bool = False,
    manifestly_unfounded: bool = False,
    territorial_scope: str = "",
    restricted_until: date | None = None,
    target_email: str = "",
) -> Decision:
    """Record a statement of reasons, notify reporters and the target, and handle misuse.

    ``target_email``, when the moderator knows the reported person's address, gets the
    statement of reasons with the appeal link; it is not stored.
    """
    action = Decision.Action(action)
    restricts = action in RESTRICTING_ACTIONS
    territorial_scope = territorial_scope.strip() or (settings.PORTAL_ABUSE_TERRITORIAL_SCOPE if restricts else "")
    if not restricts:
        territorial_scope, restricted_until = "", None
    if restricted_until is not None and restricted_until <= timezone.localdate():
        raise AbuseError(
            _("The restriction must end after today; leave the date empty for an indefinite restriction.")
        )
    if action != Decision.Action.NONE and not ground:
        raise AbuseError(
            _(
                "Say on which ground: illegal content (with the law) or the terms of service "
                "(with the clause)."
            )
        )
    if ground and not legal_reference.strip():
        raise AbuseError(_("Name the law or the terms' clause the decision relies on."))
    if not facts.strip():
        raise AbuseError(_("Describe the facts and circumstances the decision relies on."))
    if manifestly_unfounded and action != Decision.Action.NONE:
        raise AbuseError(_("Only a decision to take no action can find the notices manifestly unfounded."))
    decider = actor if getattr(actor, "is_authenticated", False) else None
    if decider is None and not automated:
        raise AbuseError(_("A decision not taken by a person must be marked as automated."))
    target_token = tokens.new_token("tok")
    with transaction.atomic():
        case = _locked(case)
        if not case.is_open:
            raise AbuseError(
                _("Case %(ref)s is already decided; an appeal is the way to change the outcome.")
                % {"ref": case.reference}
            )
        decision = Decision.objects.create(
            case=case,
            action=action,
            ground=ground,
            legal_reference=legal_reference.strip(),
            facts=facts.strip(),
            territorial_scope=territorial_scope,
            restricted_until=restricted_until,
            automated_detection=automated_detection,
            automated=automated,
            decided_by=decider,
            manifestly_unfounded=manifestly_unfounded,
            target_token_hash=tokens.hash_token(target_token),
        )
        case.transition(
            Case.Status.DECIDED,
            actor=actor,
            action="abuse.decided",
            decided_at=decision.decided_at,
            reason=_decision_summary(decision),
            data={
                "decision": decision.pk,
                "action": action,
                "ground": ground,
                "legal_reference": decision.legal_reference,
                "territorial_scope": territorial_scope,
                "restricted_until": restricted_until.isoformat() if restricted_until else None,
                "automated_detection": automated_detection,
                "automated": automated,
                "manifestly_unfounded": manifestly_unfounded,
                "target_emailed": bool(target_email),
            },
        )
        notices = list(case.notices.all())
        _notify_reporters_of_decision(case, decision, notices)
        if target_email:
            mail.send(
                "abuse_decision_target",
                target_email,
                {
                    "case": case,
                    "decision": decision,
                    "appeal_url": mail.absolute(reverse("abuse-target-decision", args=[target_token])),
                },
            )
        queue_webhook("abuse.decision", case, decision_payload(decision, target_token))
        if manifestly_unfounded:
            _record_unfounded(notices, actor)
    return decision


def _decision_summary(decision: Decision) -> str:
    """One line for the case timeline: what was decided, on which ground, and why."""
    ground = f"{decision.get_ground_display()}: {decision.legal_reference}" if decision.ground else ""
    parts = [str(decision.get_action_display()), ground, decision.facts]
    return " — ".join(p for p in parts if p)[:2000]


def _notify_reporters_of_decision(case: Case, decision: Decision, notices: list[Notice]) -> None:
    seen = set()
    for notice in notices:
        email = notice.reporter_email.lower()
        if not email or email in seen:
            continue
        seen.add(email)
        mail.send(
            "abuse_decision",
            notice.reporter_email,
            {"notice": notice, "case": case, "decision": decision},
            notice.language,
        )


def decision_payload(decision: Decision, target_token: str | None) -> dict:
    """What the host app is told. Never the reporters, their notices or anything identifying them."""
    case = decision.case
    kind, _sep, value = case.target_key.partition(":")
    payload = {
        "event": "abuse.decision",
        "case": case.reference,
        "decision_id": decision.pk,
        "target": {
            "url": value if kind == "url" else None,
            "content_id": value if kind == "content" else None,
            "account_id": case.target_account_id or None,
        },
        "category": case.category,
        "action": decision.action,
        "ground": decision.ground or None,
        "legal_reference": decision.legal_reference or None,
        "facts": decision.facts,
        "automated": decision.automated,
        "decided_at": decision.decided_at.isoformat(),
        "appeal_deadline": decision.appeal_deadline.isoformat(),
        # The full DSA Art. 17 statement, to pass on to the reported person as it is.
        "statement_of_reasons": _statement_in_default_language(decision),
    }
    if target_token:
        payload["appeal_url"] = mail.absolute(reverse("abuse-target-decision", args=[target_token]))
    return payload


def _statement_in_default_language(decision: Decision) -> dict:
    # The host app stores and forwards it; the moderator's admin language must not leak in.
    with translation.override(settings.LANGUAGE_CODE):
        return decision.statement()


def _record_unfounded(notices: list[Notice], actor: Any) -> None:
    """DSA Art. 23: warn a reporter after repeated manifestly unfounded notices, then suspend them."""
    now = timezone.now()
    warn_after = settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER
    suspend_after = settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER
    for notice in notices:
        if notice.channel == Notice.Channel.HOST_APP and not notice.reporter_email:
            continue  # nobody to hold to account: the host app relayed it
        Notice.objects.filter(pk=notice.pk).update(manifestly_unfounded=True)
        keys = []
        if notice.reporter_email:
            keys.append(("email:" + tokens.pseudonymise(notice.reporter_email), mask_email(notice.reporter_email)))
        if notice.ip_hash and notice.channel != Notice.Channel.HOST_APP:
            keys.append(("ip:" + notice.ip_hash, ""))
        for key, label in keys:
            standing, _created = ReporterStanding.objects.select_for_update().get_or_create(key=key)
            if label and not standing.label:
                standing.label = label
            standing.unfounded_count += 1
            action = ""
            if key.startswith("ip:"):
                # An address is shared (NAT, mobile carriers, offices): it only ever gets a short
                # cooldown, never a warning or a suspension that would hit everyone behind it.
                if standing.unfounded_count >= suspend_after:
                    standing.suspended_until = now + timedelta(hours=settings.PORTAL_ABUSE_IP_COOLDOWN_HOURS)
                    action = "abuse.address_cooldown"
            elif standing.warned_at and standing.unfounded_count >= suspend_after:
                standing.suspended_at = now
                standing.suspended_until = now + timedelta(days=settings.PORTAL_ABUSE_SUSPENSION_DAYS)
                action = "abuse.reporter_suspended"
            elif not standing.warned_at and standing.unfounded_count >= warn_after:
                standing.warned_at = now
                action = "abuse.reporter_warned"
            standing.save()
            audit.record(
                subject_type="abuse_reporter",
                subject_id=standing.pk,
                action=action or "abuse.notice_unfounded",
                actor=actor,
                data={
                    "notice": notice.reference,
                    "unfounded_count": standing.unfounded_count,
                    "suspended_until": standing.suspended_until.isoformat()
                    if standing.suspended_until
                    else None,
                },
            )
            if action in ("abuse.reporter_warned", "abuse.reporter_suspended"):
                mail.send(
                    "abuse_reporter_warned"
                    if action == "abuse.reporter_warned"
                    else "abuse_reporter_suspended",
                    notice.reporter_email,
                    {"notice": notice, "standing": standing},
                    notice.language,
                )


def lift_suspensions(*, standings: Any, actor: Any) -> int:
    """End the running suspensions (or cooldowns) among ``standings``; each one audited."""
    now = timezone.now()
    lifted = 0
    with transaction.atomic():
        for standing in standings.select_for_update().filter(suspended_until__gt=now):
            standing.suspended_until = now
            standing.save(update_fields=["suspended_until", "updated_at"])
            audit.record(
                subject_type="abuse_reporter",
                subject_id=standing.pk,
                action="abuse.suspension_lifted",
                actor=actor,
            )
            lifted += 1
    return lifted


# --- Appeals ----------------------------------------------------------------------------------------


def file_appeal(
    *,
    decision: Decision,
    appellant: str,
    statement: str,
    notice: Notice | None = None,
    contact_email: str = "",
) -> Appeal:
    statement = statement.strip()
    if not statement:
        raise AbuseError(_("Tell us why the decision should change."))
    if not decision.appeal_window_open:
        raise AbuseError(
            _("The time to appeal this decision ended on %(date)s.")
            % {"date": timezone.localtime(decision.appeal_deadline).strftime("%Y-%m-%d")}
        )
    if appellant == Appeal.Appellant.REPORTER and notice is None:
        raise AbuseError(_("A reporter's appeal needs their report."))
    if appellant == Appeal.Appellant.REPORTER:
        contact_email = notice.reporter_email if notice else ""
    with transaction.atomic():
        case = _locked(decision.case)
        existing = decision.appeals.filter(appellant=appellant)
        if appellant == Appeal.Appellant.REPORTER:
            existing = existing.filter(notice=notice)
        if existing.exists():
            raise AbuseError(_("You have already appealed this decision; we will write when it is decided."))
        appeal = Appeal.objects.create(
            decision=decision,
            appellant=appellant,
            notice=notice,
            statement=statement,
            contact_email=contact_email,
            original_decider=decision.decided_by,
        )
        case.transition(
            Case.Status.APPEALED,
            actor=f"requester:{appellant}",
            action="abuse.appeal_filed",
            data={"appeal": appeal.pk, "decision": decision.pk, "appellant": appellant},
        )
        if contact_email:
            mail.send(
                "abuse_appeal_received",
                contact_email,
                {"appeal": appeal, "case": case},
                notice.language if notice else None,
            )
    return appeal


def decide_appeal(*, appeal: Appeal, actor: Any, outcome: str, reasons: str, new_action: str = "") -> Appeal:
    """Decide an appeal. Refused when ``actor`` took the original decision (also a database check)."""
    if outcome not in (Appeal.Status.UPHELD, Appeal.Status.OVERTURNED):
        raise AbuseError(_("Choose whether the decision is upheld or overturned."))
    if not reasons.strip():
        raise AbuseError(_("Give the reasons for the outcome; the appellant will read them."))
    if outcome == Appeal.Status.OVERTURNED and not new_action:
        raise AbuseError(_("When overturning, say what should happen now (the host app is told)."))
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("appeals are decided by people")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        case = _locked(appeal.decision.case)
        if appeal.status != Appeal.Status.PENDING:
            raise AbuseError(_("This appeal has already been decided."))
        if appeal.original_decider_id is not None and appeal.original_decider_id == actor.pk:
            raise AbuseError(_("You took the original decision. Another moderator must decide this appeal."))
        appeal.status, appeal.outcome_reasons = outcome, reasons.strip()
        appeal.new_action = new_action if outcome == Appeal.Status.OVERTURNED else ""
        appeal.decided_by, appeal.decided_at = actor, timezone.now()
        appeal.save()
        still_pending = case.decisions.filter(appeals__status=Appeal.Status.PENDING).exists()
        # Another appeal still pending keeps the case appealed; the step is audited either way.
        case.transition(
            Case.Status.APPEALED if still_pending else Case.Status.CLOSED,
            actor=actor,
            action="abuse.appeal_decided",
            reason=f"{appeal.get_status_display()}: {appeal.outcome_reasons}"[:2000],
            data={"appeal": appeal.pk, "outcome": outcome, "new_action": appeal.new_action},
        )
        if appeal.contact_email:
            mail.send(
                "abuse_appeal_decided",
                appeal.contact_email,
                {"appeal": appeal, "case": case},
                appeal.notice.language if appeal.notice else None,
            )
        queue_webhook(
            "abuse.appeal_decided",
            case,
            {
                "event": "abuse.appeal_decided",
                "case": case.reference,
                "decision_id": appeal.decision_id,
                "appeal_id": appeal.pk,
                "appellant": appeal.appellant,
                "outcome": outcome,
                "new_action": appeal.new_action or None,
                "reasons": appeal.outcome_reasons,
                "decided_at": appeal.decided_at.isoformat(),
            },
        )
    return appeal


# --- Evidence -----------------------------------------------------------------------------------------


def open_evidence(*, evidence: Evidence, actor: Any):
    """Open a stored file for a staff member; every access is audited."""
    if evidence.purged_at or not evidence.file:
        raise AbuseError(
            _("This file was deleted on %(date)s under the retention rules.")
            % {"date": evidence.purged_at.strftime("%Y-%m-%d") if evidence.purged_at else "?"}
        )
    audit.record(
        subject_type="abuse_notice",
        subject_id=evidence.notice_id,
        action="abuse.evidence_viewed",
        actor=actor,
        data={"evidence": evidence.pk, "sha256": evidence.sha256},
    )
    return evidence.file.open("rb")


def purge_evidence(*, now: datetime | None = None, dry_run: bool = False) -> int:
    now = now or timezone.now()
    rows = list(Evidence.objects.purgeable(now).select_related("notice"))
    if dry_run:
        return len(rows)
    for evidence in rows:
        with transaction.atomic():
            name = evidence.file.name
            evidence.file = ""
            evidence.purged_at = now
            evidence.save(update_fields=["file", "purged_at"])
            audit.record(
                subject_type="abuse_notice",
                subject_id=evidence.notice_id,
                action="abuse.evidence_purged",
                actor="system:evidence-retention",
                data={"evidence": evidence.pk, "sha256": evidence.sha256},
            )
            if name:
                transaction.on_commit(functools.partial(evidence.file.storage.delete, name))
    return len(rows)


def purge_reporter_identities(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Blank reporters' names and e-mails (and their appeals' contact e-mail) once no case needs them.

    The notice keeps a pseudonym (the keyed hash ReporterStanding uses), so misuse
    history and the audit trail still connect; the audit event holds only that pseudonym.
    """
    now = now or timezone.now()
    ids = list(Notice.objects.reporter_purgeable(now).values_list("pk", flat=True).distinct())
    target_appeals = Appeal.objects.filter(appellant=Appeal.Appellant.TARGET).exclude(contact_email="").exclude(
        decision__case__in=Case.objects.needing_reporter(
            now - timedelta(days=settings.PORTAL_ABUSE_REPORTER_RETENTION_DAYS), now
        )
    )
    if dry_run:
        return len(ids)
    for appeal_id in list(target_appeals.values_list("pk", flat=True)):
        with transaction.atomic():
            Appeal.objects.filter(pk=appeal_id).update(contact_email="")
            audit.record(
                subject_type="abuse_appeal",
                subject_id=appeal_id,
                action="abuse.appellant_contact_purged",
                actor="system:reporter-retention",
            )
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            notices = list(Notice.objects.select_for_update().filter(pk__in=ids[start : start + 500]))
            for notice in notices:
                if notice.reporter_email:
                    notice.reporter_pseudonym = "email:" + tokens.pseudonymise(notice.reporter_email)
                notice.reporter_name = notice.reporter_email = ""
                notice.reporter_purged_at = now
            Notice.objects.bulk_update(
                notices, ["reporter_name", "reporter_email", "reporter_pseudonym", "reporter_purged_at"]
            )
            Appeal.objects.filter(notice__in=notices).exclude(contact_email="").update(contact_email="")
            for notice in notices:
                audit.record(
                    subject_type="abuse_notice",
                    subject_id=notice.pk,
                    action="abuse.reporter_purged",
                    actor="system:reporter-retention",
                    data={"pseudonym": notice.reporter_pseudonym},
                )
    return len(ids)


# --- The host app's webhook ----------------------------------------------------------------------------


def queue_webhook(event: str, case: Case | None, payload: dict) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        event=event,
        case=case,
        payload=payload,
        status=WebhookDelivery.Status.PENDING
        if settings.PORTAL_ABUSE_WEBHOOK_URL
        else WebhookDelivery.Status.SKIPPED,
    )
    if delivery.status == WebhookDelivery.Status.PENDING:
        from abuse_app.tasks import deliver_webhook

        transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return delivery


def signed_body(payload: dict) -> tuple[bytes, dict[str, str]]:
    timestamp = str(int(timezone.now().timestamp()))
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    signature = tokens.hmac_sign(timestamp.encode() + b"." + body)
    return body, {
        "Content-Type": "application/json",
        "X-Portal-Event": payload.get("event", ""),
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": f"sha256={signature}",
    }


class TransientWebhookError(Exception):
    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


MAX_WEBHOOK_ATTEMPTS = 8


def deliver(delivery_id: int) -> WebhookDelivery:
    """POST one delivery. Raises TransientWebhookError when the call should be retried."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status != WebhookDelivery.Status.PENDING:
            return delivery
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    url = settings.PORTAL_ABUSE_WEBHOOK_URL
    body, headers = signed_body(delivery.payload)
    error, retry_after, permanent = "", None, False
    try:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code} from the host app's webhook"
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 409, 425, 429)
        if exc.headers.get("Retry-After", "").isdigit():
            retry_after = int(exc.headers["Retry-After"])
    except (urllib.error.URLError, OSError) as exc:
        error = f"cannot reach the host app's webhook: {type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), last_error=""
        )
    elif permanent or delivery.attempts >= MAX_WEBHOOK_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, last_error=error
        )
        log.warning("abuse webhook delivery %s failed for good: %s", delivery.pk, error)
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
        raise TransientWebhookError(error, retry_after)
    delivery.refresh_from_db()
    return delivery


def retry_webhook_deliveries(*, deliveries: Any, actor: Any) -> int:
    """Queue failed ``deliveries`` again from attempt zero (and nudge pending ones); returns the failed count."""
    from abuse_app.tasks import deliver_webhook

    with transaction.atomic():
        failed = list(
            deliveries.select_for_update()
            .filter(status=WebhookDelivery.Status.FAILED)
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=failed).update(
            status=WebhookDelivery.Status.PENDING, attempts=0
        )
        for pk in failed:
            audit.record(
                subject_type="abuse_webhook", subject_id=pk, action="abuse.webhook_retried", actor=actor
            )
        pending = list(deliveries.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True))
        for pk in pending:
            transaction.on_commit(functools.partial(deliver_webhook.delay, pk))
    return len(failed)


def redeliver_stale_webhooks(older_than: timedelta = timedelta(hours=2)) -> int:
    """Nudge deliveries still pending after the longest retry backoff (a lost message, a dead worker).

    The host app may get a call twice; the payload's decision_id/appeal_id let it ignore repeats.
    """
    from abuse_app.tasks import deliver_webhook

    stale = list(
        WebhookDelivery.objects.stale(older_than).values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        deliver_webhook.delay(pk)
    return len(stale)


# --- Transparency (DSA Art. 15) -----------------------------------------------------------------------


def _count_by(queryset, field_name: str) -> dict:
    rows = queryset.values(field_name).annotate(n=Count("id")).order_by(field_name)
    return {row[field_name]: row["n"] for row in rows}


def transparency_figures(start: datetime, end: datetime) -> dict:
    notices = Notice.objects.filter(received_at__gte=start, received_at__lt=end)
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    appeals = Appeal.objects.filter(filed_at__gte=start, filed_at__lt=end)
    hours = [
        (decided - first).total_seconds() / 3600
        for decided, first in decisions.values_list("decided_at", "case__first_received_at")
    ]
    total_decisions = decisions.count()
    automated = decisions.filter(automated=True).count()
    return {
        "period": {"from": start.date().isoformat(), "to": (end - timedelta(seconds=1)).date().isoformat()},
        "notices": {
            "total": notices.count(),
            "by_category": _count_by(notices, "category"),
            "by_channel": _count_by(notices, "channel"),
        },
        "decisions": {
            "total": total_decisions,
            "by_action": _count_by(decisions, "action"),
            "by_ground": {(k or "none"): v for k, v in _count_by(decisions, "ground").items()},
            "automated_share": round(automated / total_decisions, 4) if total_decisions else None,
            "median_hours_to_decision": round(statistics.median(hours), 1) if hours else None,
        },
        "appeals": {
            "total": appeals.count(),
            "by_outcome": _count_by(appeals, "status"),
            "by_appellant": _count_by(appeals, "appellant"),
        },
        # People, not keys: a suspension is by e-mail; an address only ever gets a cooldown.
        "reporters_suspended": ReporterStanding.objects.suspended_between(start, end).count(),
    }


def transparency_statements(start: datetime, end: datetime) -> list[dict]:
    """Every statement of reasons of the period, with the case's category and no one's identity."""
    decisions = Decision.objects.filter(decided_at__gte=start, decided_at__lt=end).select_related("case")
    return [
        {"case": d.case.reference, "category": d.case.category, **d.statement()}
        for d in decisions.order_by("decided_at", "id")
    ]


def transparency_rows(figures: dict) -> list[tuple[str, str, Any]]:
    """Flatten the figures to (section, key, value) rows for the CSV export."""
    rows: list[tuple[str, str, Any]] = []
    for section in ("notices", "decisions", "appeals"):
        for key, value in figures[section].items():
            if isinstance(value, dict):
                rows.extend((f"{section}.{key}", sub, count) for sub, count in value.items())
            else:
                rows.append((section, key, value))
    rows.append(("reporters", "suspended", figures["reporters_suspended"]))
    return rows
