"""Staff work on cases: assign, note, legal hold, decide (the statement of reasons, DSA Art. 17)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from abuse_app.models import (
    RESTRICTING_ACTIONS,
    Case,
    CaseNote,
    Decision,
    Notice,
)
from abuse_app.services.authorities import refuse_no_action_after_notification
from abuse_app.services.errors import AbuseError
from abuse_app.services.reporters import reporters_record_unfounded
from abuse_app.services.transparency_db import statement_submission_queue
from abuse_app.services.webhooks import webhook_queue
from portal import mail, tokens


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def case_assign(*, case: Case, assignee: User | None, actor: User) -> Case:
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
            case.note(action="abuse.assigned", actor=actor, from_status=case.status, to_status=case.status, data=data)
    return case


def case_add_note(*, case: Case, author: User, body: str) -> CaseNote:
    body = body.strip()
    if not body:
        raise AbuseError(_("The note is empty."))
    with transaction.atomic():
        note = CaseNote.objects.create(case=case, author=author, body=body)
        case.note(action="abuse.note_added", actor=author)
    return note


def case_place_legal_hold(*, case: Case, actor: User, days: int, reason: str) -> Case:
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


def decision_problems(
    *,
    action: str,
    ground: str,
    legal_reference: str,
    facts: str,
    manifestly_unfounded: bool = False,
    restricted_until: date | None = None,
) -> dict[str, str]:
    """What stops a decision from being recorded, by field name; empty when nothing does.

    The one source of the decision rules: the decision form shows each problem next to its field,
    ``case_decide`` refuses with the first (API, tasks and any other caller).
    """
    problems: dict[str, str] = {}
    if action not in Decision.Action.values:
        problems["action"] = _("Choose an action: what happens to the reported content or account.")
    elif action != Decision.Action.NONE and not ground:
        problems["ground"] = _(
            "Say on which ground: illegal content (with the law) or the terms of service (with the clause)."
        )
    if ground and not legal_reference.strip():
        problems["legal_reference"] = _("Name the law or the terms' clause the decision relies on.")
    if not facts.strip():
        problems["facts"] = _("Describe the facts and circumstances the decision relies on.")
    if manifestly_unfounded and action != Decision.Action.NONE:
        problems["manifestly_unfounded"] = _(
            "Only a decision to take no action can find the notices manifestly unfounded."
        )
    restricts = action in RESTRICTING_ACTIONS
    if restricts and restricted_until is not None and restricted_until <= timezone.localdate():
        problems["restricted_until"] = _(
            "The restriction must end after today; leave the date empty for an indefinite restriction."
        )
    return problems


def case_decide(
    *,
    case: Case,
    actor: User,
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
    territorial_scope, restricted_until = _scope_and_end(action, territorial_scope, restricted_until)
    decider = _decider_or_refuse(
        case,
        actor,
        action=action,
        ground=ground,
        legal_reference=legal_reference,
        facts=facts,
        automated=automated,
        manifestly_unfounded=manifestly_unfounded,
        restricted_until=restricted_until,
    )
    target_token = tokens.new_token("tok")
    with transaction.atomic():
        case = _locked_open(case)
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
        _mark_decided(case, decision, actor, target_emailed=bool(target_email))
        notices = list(case.notices.all())
        _announce_decision(case, decision, notices, target_email=target_email, target_token=target_token)
        if manifestly_unfounded:
            reporters_record_unfounded(notices, actor)
    return decision


def _scope_and_end(action: str, territorial_scope: str, restricted_until: date | None) -> tuple[str, date | None]:
    """Where and until when the decision restricts: the default scope for a restriction, nothing otherwise."""
    if action not in RESTRICTING_ACTIONS:
        return "", None
    return territorial_scope.strip() or settings.PORTAL_ABUSE_TERRITORIAL_SCOPE, restricted_until


def _decider_or_refuse(
    case: Case,
    actor: User,
    *,
    action: str,
    ground: str,
    legal_reference: str,
    facts: str,
    automated: bool,
    manifestly_unfounded: bool,
    restricted_until: date | None,
) -> User | None:
    """The person deciding (None when automated), or AbuseError with the first rule the decision breaks."""
    problems = decision_problems(
        action=action,
        ground=ground,
        legal_reference=legal_reference,
        facts=facts,
        manifestly_unfounded=manifestly_unfounded,
        restricted_until=restricted_until,
    )
    if problems:
        raise AbuseError(next(iter(problems.values())))
    refuse_no_action_after_notification(case, action)
    decider = actor if getattr(actor, "is_authenticated", False) else None
    if decider is None and not automated:
        raise AbuseError(_("A decision not taken by a person must be marked as automated."))
    return decider


def _locked_open(case: Case) -> Case:
    """The case, locked for the decision; AbuseError when it was decided meanwhile."""
    case = _locked(case)
    if not case.is_open:
        raise AbuseError(
            _("Case %(ref)s is already decided; an appeal is the way to change the outcome.") % {"ref": case.reference}
        )
    return case


def _mark_decided(case: Case, decision: Decision, actor: User, *, target_emailed: bool) -> None:
    """The case's status change, with the decision on its timeline and in the audit log."""
    case.transition(
        Case.Status.DECIDED,
        actor=actor,
        action="abuse.decided",
        decided_at=decision.decided_at,
        reason=_decision_summary(decision),
        data={
            "decision": decision.pk,
            "action": decision.action,
            "ground": decision.ground,
            "legal_reference": decision.legal_reference,
            "territorial_scope": decision.territorial_scope,
            "restricted_until": decision.restricted_until.isoformat() if decision.restricted_until else None,
            "automated_detection": decision.automated_detection,
            "automated": decision.automated,
            "manifestly_unfounded": decision.manifestly_unfounded,
            "target_emailed": target_emailed,
        },
    )


def _announce_decision(
    case: Case, decision: Decision, notices: list[Notice], *, target_email: str, target_token: str
) -> None:
    """Tell the reporters, the target (when its address is known), the host app and the Transparency Database."""
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
    webhook_queue("abuse.decision", case, decision_payload(decision, target_token))
    statement_submission_queue(decision)


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


def decision_payload(decision: Decision, target_token: str | None) -> dict[str, Any]:
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


def _statement_in_default_language(decision: Decision) -> dict[str, Any]:
    # The host app stores and forwards it; the moderator's admin language must not leak in.
    with translation.override(settings.LANGUAGE_CODE):
        return decision.statement()
