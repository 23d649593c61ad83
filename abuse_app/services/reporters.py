"""Reporters: misuse (DSA Art. 23: warn, then suspend by e-mail; an address only cools down)
and the retention purge of their names and e-mails."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from abuse_app.models import (
    Appeal,
    Case,
    Notice,
    ReporterStanding,
    mask_email,
)
from abuse_app.services.errors import NoticeRefused
from portal import audit, mail, ratelimit, tokens


def _standing_keys(email: str, ip: str) -> list[str]:
    keys = []
    if email:
        keys.append("email:" + tokens.pseudonymise(email))
    if ip:
        keys.append("ip:" + tokens.pseudonymise(ip))
    return keys


def reporter_check(*, email: str, ip: str, channel: str) -> None:
    """Refuse a notice from a suspended reporter or over the rate limits (before anything is stored)."""
    now = timezone.now()
    keys = _standing_keys(email, ip if channel != Notice.Channel.HOST_APP else "")
    for standing in ReporterStanding.objects.active_for(keys, now):
        assert standing.suspended_until is not None  # active_for selects running suspensions only
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
    _check_rates(email=email, ip=ip, channel=channel)


def _check_rates(*, email: str, ip: str, channel: str) -> None:
    # The host app's server sends every in-app report: its IP says nothing about who reports.
    # Both limits in one atomic step (one Redis round trip); the address is counted first.
    limits = []
    if ip and channel != Notice.Channel.HOST_APP:
        limits.append(("abuse-ip", ip, settings.PORTAL_ABUSE_IP_RATE))
    if email:
        limits.append(("abuse-email", email, settings.PORTAL_ABUSE_EMAIL_RATE))
    if not limits:
        return
    index, decision = ratelimit.hit_all(limits)
    if decision.allowed:
        return
    if limits[index][0] == "abuse-ip":
        message = _(
            "We received many reports from your connection today. "
            "Please try again later; nothing you "
            "entered was stored."
        )
    else:
        message = _(
            "We received many reports from this e-mail address today. "
            "Please try again later; nothing "
            "you entered was stored."
        )
    raise NoticeRefused(message, retry_after=decision.retry_after, code="throttled")


def _count_unfounded(standing: ReporterStanding, *, is_address: bool, now: datetime) -> str:
    """Count one more unfounded notice on ``standing`` (unsaved); the audit action it earns, if any."""
    suspend_after = settings.PORTAL_ABUSE_UNFOUNDED_SUSPEND_AFTER
    standing.unfounded_count += 1
    if is_address:
        # An address is shared (NAT, mobile carriers, offices): it only ever gets a short
        # cooldown, never a warning or a suspension that would hit everyone behind it.
        if standing.unfounded_count >= suspend_after:
            standing.suspended_until = now + timedelta(hours=settings.PORTAL_ABUSE_IP_COOLDOWN_HOURS)
            return "abuse.address_cooldown"
    elif standing.warned_at and standing.unfounded_count >= suspend_after:
        standing.suspended_at = now
        standing.suspended_until = now + timedelta(days=settings.PORTAL_ABUSE_SUSPENSION_DAYS)
        return "abuse.reporter_suspended"
    elif not standing.warned_at and standing.unfounded_count >= settings.PORTAL_ABUSE_UNFOUNDED_WARN_AFTER:
        standing.warned_at = now
        return "abuse.reporter_warned"
    return ""


def reporters_record_unfounded(notices: list[Notice], actor: User) -> None:
    """DSA Art. 23: warn a reporter after repeated manifestly unfounded notices, then suspend them."""
    now = timezone.now()
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
            action = _count_unfounded(standing, is_address=key.startswith("ip:"), now=now)
            standing.save()
            audit.record(
                subject_type="abuse_reporter",
                subject_id=standing.pk,
                action=action or "abuse.notice_unfounded",
                actor=actor,
                data={
                    "notice": notice.reference,
                    "unfounded_count": standing.unfounded_count,
                    "suspended_until": standing.suspended_until.isoformat() if standing.suspended_until else None,
                },
            )
            if action in ("abuse.reporter_warned", "abuse.reporter_suspended"):
                mail.send(
                    "abuse_reporter_warned" if action == "abuse.reporter_warned" else "abuse_reporter_suspended",
                    notice.reporter_email,
                    {"notice": notice, "standing": standing},
                    notice.language,
                )


def reporters_lift_suspensions(*, standings: QuerySet[ReporterStanding], actor: User) -> int:
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


def reporter_identities_purge(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Blank reporters' names and e-mails (and their appeals' contact e-mail) once no case needs them.

    The notice keeps a pseudonym (the keyed hash ReporterStanding uses), so misuse
    history and the audit trail still connect; the audit event holds only that pseudonym.
    """
    now = now or timezone.now()
    ids = list(Notice.objects.reporter_purgeable(now).values_list("pk", flat=True).distinct())
    target_appeals = (
        Appeal.objects.filter(appellant=Appeal.Appellant.TARGET)
        .exclude(contact_email="")
        .exclude(
            decision__case__in=Case.objects.needing_reporter(
                now - timedelta(days=settings.PORTAL_ABUSE_REPORTER_RETENTION_DAYS), now
            )
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
