"""Art. 18 DSA: notifying law enforcement of a suspected offence threatening life or safety.

The portal writes the notice text from the case (the reporter's identity withheld unless
the moderator includes it on purpose), records who sent what to whom and when, and keeps
the case from being closed as "no action" afterwards. Sending itself happens through the
authority's own channel; the record says which.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.dsa.vocabulary import EU_COUNTRY_CODES
from abuse_app.models import AuthorityNotification, Case, Decision
from abuse_app.services.errors import AbuseError

PERMISSION = "abuse_app.notify_authorities"


def authority_notice_text(case: Case, *, include_reporter: bool = False) -> str:
    """The notice: what is suspected, where, since when; reporters only when ``include_reporter``."""
    notices = list(case.notices.order_by("received_at"))
    lines = [
        _("Notification under Article 18 of Regulation (EU) 2022/2065 (Digital Services Act)."),
        _("Case: %(ref)s. Category reported: %(cat)s.") % {"ref": case.reference, "cat": case.get_category_display()},
        _("Reported content: %(target)s") % {"target": case.target_display},
    ]
    if case.target_account_id:
        lines.append(_("Account of the content's author in the service: %(id)s") % {"id": case.target_account_id})
    lines.append(
        _("First reported: %(first)s; %(n)d notice(s).")
        % {"first": timezone.localtime(case.first_received_at).isoformat(timespec="minutes"), "n": len(notices)}
    )
    for notice in notices:
        lines.append(f"- {notice.reference}: {notice.explanation.strip()[:2000]}")
        if include_reporter and (notice.reporter_name or notice.reporter_email):
            who = f"{notice.reporter_name} <{notice.reporter_email}>"
            lines.append("  " + _("Reported by: %(who)s") % {"who": who})
    if not include_reporter:
        lines.append(_("The reporters' identities are withheld; they can be provided on a lawful request."))
    return "\n".join(lines)


def authorities_notify(
    *, case: Case, actor: User, recipient: str, member_state: str, authority: str, channel: str,
    include_reporter: bool = False, authority_reference: str = "", notice_text: str = "",
) -> AuthorityNotification:  # fmt: skip
    """Record an Art. 18 notification on ``case`` (timeline, audit chain). Needs the permission."""
    if not actor.has_perm(PERMISSION):
        raise AbuseError(_("Only staff allowed to notify law enforcement may do this (ask a portal admin)."))
    recipient = AuthorityNotification.Recipient(recipient)
    member_state = member_state.strip().upper()
    if recipient == AuthorityNotification.Recipient.EUROPOL:
        member_state = ""
    elif member_state not in EU_COUNTRY_CODES:
        raise AbuseError(
            _("Member state: give the two-letter code of an EU member state (e.g. DE), or choose Europol.")
        )
    if not authority.strip() or not channel.strip():
        raise AbuseError(_("Say which authority was notified and through which channel."))
    text = notice_text.strip() or authority_notice_text(case, include_reporter=include_reporter)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        notification = AuthorityNotification.objects.create(
            case=case, recipient=recipient, member_state=member_state, authority=authority.strip(),
            channel=channel.strip(), notice_text=text, reporter_data_included=include_reporter,
            authority_reference=authority_reference.strip(), sent_by=actor,
        )  # fmt: skip
        case.note(
            actor=actor,
            action="abuse.authorities_notified",
            reason=_("Art. 18 notification to %(who)s") % {"who": authority.strip()},
            data={
                "notification": notification.pk,
                "recipient": recipient,
                "member_state": member_state,
                "authority": notification.authority,
                "channel": notification.channel,
                "reporter_data_included": include_reporter,
                "text_chars": len(text),
            },
        )
    return notification


def refuse_no_action_after_notification(case: Case, action: str) -> None:
    """Once law enforcement was told of a threat, "no action" is not a possible outcome."""
    if action == Decision.Action.NONE and case.authority_notifications.exists():
        raise AbuseError(
            _("Law enforcement was notified about case %(ref)s (Art. 18): it cannot be closed with no action.")
            % {"ref": case.reference}
        )
