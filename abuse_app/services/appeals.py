"""Appeals (DSA Art. 20): filed by the reporter or the reported person, decided by another moderator."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.models import (
    Appeal,
    Case,
    Decision,
    Notice,
)
from abuse_app.services.authorities import refuse_no_action_after_notification
from abuse_app.services.errors import AbuseError
from abuse_app.services.webhooks import webhook_queue
from portal import mail


def appeal_file(
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
        case = Case.objects.select_for_update().get(pk=decision.case_id)
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


def appeal_decide(*, appeal: Appeal, actor: User, outcome: str, reasons: str, new_action: str = "") -> Appeal:
    """Decide an appeal. Refused when ``actor`` took the original decision (also a database check)."""
    if outcome not in (Appeal.Status.UPHELD, Appeal.Status.OVERTURNED):
        raise AbuseError(_("Choose whether the decision is upheld or overturned."))
    if not reasons.strip():
        raise AbuseError(_("Give the reasons for the outcome; the appellant will read them."))
    if outcome == Appeal.Status.OVERTURNED and not new_action:
        raise AbuseError(_("When overturning, say what should happen now (the host app is told)."))
    if outcome == Appeal.Status.OVERTURNED:
        refuse_no_action_after_notification(appeal.decision.case, new_action)
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("appeals are decided by people")
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().select_related("decision").get(pk=appeal.pk)
        case = Case.objects.select_for_update().get(pk=appeal.decision.case_id)
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
        webhook_queue(
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
