"""Child-safety cases: who may handle them, confirming one as reportable, retracting.

Only staff holding ``abuse_app.handle_child_safety`` (the *Child-safety moderators* role,
portal/roles.py) see child-safety evidence or report a case to NCMEC's CyberTipline.
Confirming builds the report from the case (and from what the host-app side registered
about the reported account, ``abuse_app.cybertipline.accounts``), keeps it, extends the
case's legal hold, and queues the submission (``abuse_app.services.cybertipline``).
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.cybertipline import accounts
from abuse_app.cybertipline.models import (
    CyberTiplineReport,
    HeldIdentity,
    IncidentType,
    IndustryClassification,
    identity_digest,
)
from abuse_app.cybertipline.xml import ReportContent, Reporter, report_xml
from abuse_app.models import Case, Evidence
from abuse_app.services.cybertipline import ADVANCE_TASK
from abuse_app.services.errors import AbuseError
from portal.celery import enqueue

PERMISSION = "abuse_app.handle_child_safety"


def may_handle_child_safety(user: Any) -> bool:
    return bool(getattr(user, "is_active", False) and user.has_perm(PERMISSION))


def may_see_case_evidence(user: Any, case: Case) -> bool:
    return not case.is_child_safety or may_handle_child_safety(user)


def is_child_safety_evidence(evidence: Evidence) -> bool:
    """Evidence of a child-safety notice, or of a notice in any child-safety case."""
    return evidence.notice.is_child_safety or evidence.notice.cases.filter(is_child_safety=True).exists()


def may_see_evidence(user: Any, evidence: Evidence) -> bool:
    """Evidence of a notice in any child-safety case is for the child-safety role only."""
    return may_handle_child_safety(user) or not is_child_safety_evidence(evidence)


def cybertipline_enabled() -> bool:
    return bool(settings.PORTAL_CYBERTIPLINE_URL)


def _report_urls(case: Case) -> tuple[str, ...]:
    urls: list[str] = []
    candidates = [case.target_display] + [loc for n in case.notices.all() for loc in n.locations]
    for value in candidates:
        text = str(value).strip()
        if text.startswith(("https://", "http://")) and text not in urls:
            urls.append(text)
    return tuple(urls[:50])


def report_content(case: Case, *, incident_type: str, escalate_reason: str = "") -> ReportContent:
    content_ids = sorted({n.content_id for n in case.notices.all() if n.content_id})
    info = ""
    if content_ids:
        info = _("Reported content ids in %(app)s: %(ids)s") % {
            "app": settings.PORTAL_APP_NAME,
            "ids": ", ".join(content_ids[:50]),
        }
    return ReportContent(
        incident_type=incident_type,
        incident_at=case.first_received_at,
        escalate_reason=escalate_reason.strip(),
        urls=_report_urls(case),
        reporter=Reporter(
            email=settings.PORTAL_CYBERTIPLINE_REPORTER_EMAIL,
            first_name=settings.PORTAL_CYBERTIPLINE_REPORTER_FIRST_NAME,
            last_name=settings.PORTAL_CYBERTIPLINE_REPORTER_LAST_NAME,
            company=settings.PORTAL_OPERATOR_NAME,
            terms_of_service=settings.PORTAL_CYBERTIPLINE_TERMS,
            legal_url=settings.PORTAL_CYBERTIPLINE_LEGAL_URL,
        ),
        person=accounts.reported_account(case.target_account_id),
        additional_info=info,
    )


def case_evidence(case: Case) -> list[Evidence]:
    return list(
        Evidence.objects.filter(notice__cases=case, purged_at__isnull=True).exclude(file="").order_by("pk").distinct()
    )


def case_confirm_reportable(
    *,
    case: Case,
    actor: User,
    incident_type: str,
    escalate_reason: str = "",
    industry_classification: str = "",
) -> CyberTiplineReport:
    """Confirm a child-safety case as reportable: build and keep the report, hold the case, queue it."""
    if not may_handle_child_safety(actor):
        raise AbuseError(_("Only child-safety moderators can report a case to the CyberTipline."))
    if not cybertipline_enabled():
        raise AbuseError(_("CyberTipline reporting is off: set PORTAL_CYBERTIPLINE_URL (docs/configuration.md)."))
    if incident_type not in IncidentType.values:
        raise AbuseError(_("Choose one of the CyberTipline's incident types."))
    if industry_classification not in IndustryClassification.values:
        raise AbuseError(_("The industry classification must be A1, A2, B1, B2 or empty."))
    now = timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.is_child_safety:
            raise AbuseError(_("Only child-safety cases are reported to the CyberTipline."))
        if CyberTiplineReport.objects.filter(case=case, status__in=CyberTiplineReport.LIVE).exists():
            raise AbuseError(_("This case has already been confirmed for the CyberTipline."))
        content = report_content(case, incident_type=incident_type, escalate_reason=escalate_reason)
        report = CyberTiplineReport.objects.create(
            case=case,
            environment=settings.PORTAL_CYBERTIPLINE_ENVIRONMENT,
            incident_type=incident_type,
            escalate_reason=content.escalate_reason,
            industry_classification=industry_classification,
            report_xml=report_xml(content),
            confirmed_by=actor,
            confirmed_at=now,
            next_attempt_at=now,
            files=[{"evidence": e.pk, "file_id": "", "md5": "", "details_sent": False} for e in case_evidence(case)],
        )
        hold_until = now + timedelta(days=settings.PORTAL_ABUSE_LEGAL_HOLD_DAYS)
        if case.legal_hold_until is None or case.legal_hold_until < hold_until:
            case.legal_hold_until = hold_until
            case.save(update_fields=["legal_hold_until"])
        held = _hold_account(case, content)
        case.note(
            actor=actor,
            action="abuse.cybertipline_confirmed",
            reason=_("Confirmed as reportable to the CyberTipline (%(type)s).") % {"type": incident_type},
            data={
                "report": report.pk,
                "environment": report.environment,
                "files": len(report.files),
                "escalated": bool(report.escalate_reason),
                "legal_hold_until": hold_until.isoformat(),
                "held_identities": held,
            },
        )
        transaction.on_commit(functools.partial(enqueue, ADVANCE_TASK, report.pk))
    return report


def _hold_account(case: Case, content: ReportContent) -> int:
    """Preserve the reported account's identifiers the report used for as long as the case is held."""
    person = content.person
    if person is None:
        return 0
    pairs = {(settings.PORTAL_CYBERTIPLINE_ACCOUNT_ID_KIND, person.esp_identifier)}
    pairs |= {("email", email) for email in person.emails}
    rows = [HeldIdentity(case=case, kind=kind, digest=identity_digest(kind, value)) for kind, value in pairs if value]
    HeldIdentity.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def cybertipline_retract(*, report: CyberTiplineReport, actor: User) -> CyberTiplineReport:
    """Withdraw a report before it is finished (at NCMEC too, once opened there)."""
    if not may_handle_child_safety(actor):
        raise AbuseError(_("Only child-safety moderators can retract a CyberTipline report."))
    with transaction.atomic():
        report = CyberTiplineReport.objects.select_for_update().get(pk=report.pk)
        if report.status == CyberTiplineReport.Status.FINISHED:
            raise AbuseError(_("This report is finished at the CyberTipline and can no longer be retracted."))
        if not report.is_active:
            raise AbuseError(_("This report is no longer being sent; there is nothing to retract."))
        report.retract_requested_at = timezone.now()
        report.retract_requested_by = actor
        report.next_attempt_at = report.retract_requested_at
        report.save(update_fields=["retract_requested_at", "retract_requested_by", "next_attempt_at"])
        report.case.note(actor=actor, action="abuse.cybertipline_retract_requested", data={"report": report.pk})
        transaction.on_commit(functools.partial(enqueue, ADVANCE_TASK, report.pk))
    return report
