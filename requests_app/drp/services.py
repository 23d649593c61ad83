"""DRP workflows: pairing, exercise, status, revoke, and the status object agents receive.

Views, admin and the callback task call these; each raises ``MessageRefused``
(or ``PairingRefused``) with the message the agent reads. A request becomes an
ordinary privacy request through ``requests_app.services`` — the same intake,
duplicate check, deadlines and engine as the web form — with the agent recorded
on the ``DrpRequest`` row and in the audit trail.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from portal import audit, tokens
from portal.celery import enqueue
from requests_app.drp import fulfil
from requests_app.drp.messages import MessageRefused, SignedMessage, check_claims, decode, verify
from requests_app.drp.models import DrpAgent, DrpMessage, DrpRequest, DrpToken
from requests_app.models import PrivacyRequest
from requests_app.services.decisions import CANCELABLE_STATUSES, request_cancel
from requests_app.services.validation import RequestError, normalise_email

Status = PrivacyRequest.Status
EXERCISES = {  # v1.0 spells "sale:opt-out"; earlier drafts and agents "sale:opt_out": both are accepted
    "access": DrpRequest.Exercise.ACCESS,
    "deletion": DrpRequest.Exercise.DELETION,
    "sale:opt-out": DrpRequest.Exercise.SALE_OPT_OUT,
    "sale:opt_out": DrpRequest.Exercise.SALE_OPT_OUT,
    "sale:opt-in": DrpRequest.Exercise.SALE_OPT_IN,
    "sale:opt_in": DrpRequest.Exercise.SALE_OPT_IN,
}
# The privacy request's status as the agent sees it (§3.02): (status, reason).
STATUS_MAP: dict[str, tuple[str, str]] = {
    Status.UNVERIFIED: ("open", ""),
    Status.VERIFIED: ("in_progress", ""),
    Status.APPROVED: ("in_progress", ""),
    Status.RUNNING: ("in_progress", ""),
    Status.NEEDS_ATTENTION: ("in_progress", ""),
    Status.COMPLETED: ("fulfilled", ""),
    Status.DENIED: ("denied", "other"),
    Status.EXPIRED: ("expired", ""),
    Status.CANCELED: ("revoked", ""),
}
FINAL = {"fulfilled", "revoked", "denied", "expired"}


class PairingRefused(Exception):
    """Pairing failed: §2.05.1 says answer 403 with no body (the reason is only logged in the audit)."""


def agent_actor(agent: DrpAgent) -> str:
    return f"system:DRP agent {agent.agent_id}"


# --- authentication -----------------------------------------------------------------------------


def agent_for_token(authorization: str) -> DrpAgent:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MessageRefused("Send the pairwise token as “Authorization: Bearer <token>” (POST /v1/agent/{id}).", 401)
    row = (
        DrpToken.objects.select_related("agent")
        .filter(token_hash=tokens.hash_token(token.strip()), revoked_at__isnull=True)
        .first()
    )
    if row is None or not row.agent.active:
        raise MessageRefused("This bearer token is unknown or revoked; pair again.", 403)
    return row.agent


def _check_enabled() -> None:
    if not settings.PORTAL_DRP_BUSINESS_ID:
        raise MessageRefused("This portal does not take Data Rights Protocol requests.", 404)


def _remember(message: SignedMessage, agent: DrpAgent, kind: str, request: DrpRequest | None = None) -> None:
    """Record the message so it is never accepted twice (raises IntegrityError on a replay)."""
    DrpMessage.objects.create(
        digest=message.digest, agent=agent, kind=kind, request=request, expires_at=message.expires_at
    )


# --- §2.05 pairing ------------------------------------------------------------------------------


def pair(agent_id: str, body: bytes) -> dict[str, str]:
    """Verify the signed pairing message and issue a new pairwise token (older tokens are revoked)."""
    _check_enabled()
    agent = DrpAgent.objects.filter(agent_id=agent_id, active=True).first()
    try:
        if agent is None:
            raise MessageRefused(f"no admitted agent {agent_id[:64]!r}", 403)
        message = verify(decode(body), agent.verify_key_bytes)
        check_claims(message, agent_id=agent.agent_id)
        token = tokens.new_token("drp")
        with transaction.atomic():
            _remember(message, agent, "pair")
            agent.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
            DrpToken.objects.create(agent=agent, token_hash=tokens.hash_token(token))
            audit.record(
                subject_type="drp_agent",
                subject_id=agent.pk,
                action="drp.paired",
                actor=agent_actor(agent),
                data={"drp_version": message.claims.get("drp.version")},
            )
    except IntegrityError:
        raise PairingRefused("replayed pairing message") from None
    except MessageRefused as exc:
        if agent is not None:
            audit.record(
                subject_type="drp_agent",
                subject_id=agent.pk,
                action="drp.pairing_refused",
                actor=agent_actor(agent),
                reason=str(exc),
            )
        raise PairingRefused(str(exc)) from None
    return {"agent-id": agent.agent_id, "token": token}


# --- §2.01 exercise -----------------------------------------------------------------------------


def _callback_url(value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 2000:
        raise MessageRefused('"status_callback" must be a URL of at most 2000 characters.')
    parts = urlsplit(value)
    allowed = ("https", "http") if settings.PORTAL_DRP_ALLOW_HTTP_CALLBACKS else ("https",)
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise MessageRefused('"status_callback" must be an https:// URL without user name or password.')
    return value


def _claims_for_intake(claims: dict[str, Any]) -> tuple[str, str, str]:
    """(exercise, jurisdiction, agent_request_id) from the claims, refusing what we do not support."""
    exercise = EXERCISES.get(claims.get("exercise"))  # type: ignore[arg-type]
    if exercise is None:
        raise MessageRefused(
            f"Unsupported rights action {str(claims.get('exercise'))[:40]!r}; supported: "
            + ", ".join(sorted(EXERCISES))
            + "."
        )
    regime = claims.get("regime") or ""
    if regime not in ("", "ccpa"):
        raise MessageRefused(f'Unsupported "regime" {str(regime)[:20]!r}: leave it out or send "ccpa".')
    agent_request_id = claims.get("agent-request-id") or ""
    if not isinstance(agent_request_id, str) or len(agent_request_id) > 200:
        raise MessageRefused('"agent-request-id" must be a string of at most 200 characters.')
    return exercise, "ccpa" if regime else "other", agent_request_id


def exercise(agent: DrpAgent, body: bytes) -> DrpRequest:
    """Turn a signed Data Rights Exercise message into a privacy request (or a sale opt-out/opt-in)."""
    _check_enabled()
    message = verify(decode(body), agent.verify_key_bytes)
    check_claims(message, agent_id=agent.agent_id)
    claims = message.claims
    seen = DrpMessage.objects.filter(digest=message.digest).select_related("request").first()
    if seen is not None:
        raise ReplayRefused(seen.request)
    kind, jurisdiction, agent_request_id = _claims_for_intake(claims)
    callback = _callback_url(claims.get("status_callback"))
    email = claims.get("email")
    try:
        email = normalise_email(email)
    except RequestError:
        raise MessageRefused('The identity claims need "email": a valid e-mail address of the consumer.') from None
    # One transaction: a failure while filing leaves no half-made request and no remembered message,
    # so the agent may send the same message again.
    with transaction.atomic():
        try:
            with transaction.atomic():
                drp = DrpRequest.objects.create(
                    agent=agent,
                    agent_request_id=agent_request_id,
                    exercise=kind,
                    drp_version=claims["drp.version"],
                    regime=jurisdiction if jurisdiction == "ccpa" else "",
                    status_callback=callback,
                )
                _remember(message, agent, "exercise", drp)
        except IntegrityError:
            original = DrpRequest.objects.filter(agent=agent, agent_request_id=agent_request_id).first()
            raise ReplayRefused(original) from None
        fulfil.start(drp, email=email, email_verified=claims.get("email_verified") is True, jurisdiction=jurisdiction)
        queue_callback(drp)
    return drp


class ReplayRefused(MessageRefused):
    """The same signed message (or agent-request-id) again: refused, naming the original request."""

    def __init__(self, original: DrpRequest | None):
        super().__init__("This message was already received; it never makes a second request.", 409, fatal=False)
        self.original = original


# --- §2.02 status, §2.04 revoke -----------------------------------------------------------------


def find(agent: DrpAgent, request_id: str) -> DrpRequest:
    drp = DrpRequest.objects.select_related("privacy_request", "agent").filter(request_id=request_id).first()
    if drp is None:
        raise MessageRefused("There is no DRP request with this request_id.", 404)
    if drp.agent_id != agent.pk:
        raise MessageRefused("This request is managed by another agent.", 403)
    return drp


def revoke(agent: DrpAgent, request_id: str, body: bytes) -> DrpRequest:
    """Cancel on the consumer's behalf while nothing has run; the privacy request is canceled only if it is
    this agent's alone (a duplicate linked to a request filed elsewhere stays for its other filer)."""
    drp = find(agent, request_id)
    claims = verify(decode(body), agent.verify_key_bytes).claims
    if "agent-id" in claims or "business-id" in claims:  # agents that sign the envelope claims too
        check_claims(
            SignedMessage(claims={"drp.version": drp.drp_version, **claims}, digest=""), agent_id=agent.agent_id
        )
    reason = claims.get("reason") or ""
    if not isinstance(reason, str):
        raise MessageRefused('"reason" must be a string.')
    current, _reason = status_pair(drp)
    if current in FINAL:
        raise MessageRefused(f"The request is already {current}; it can no longer be revoked.", 409, fatal=False)
    pr = drp.privacy_request
    if pr is not None and pr.status not in CANCELABLE_STATUSES:
        raise MessageRefused("The request is already being carried out; it can no longer be revoked.", 409, fatal=False)
    with transaction.atomic():
        drp.revoked_at, drp.revoke_reason = timezone.now(), reason[:500]
        drp.save(update_fields=["revoked_at", "revoke_reason"])
        shared = pr is not None and (
            pr.channel != PrivacyRequest.Channel.DRP
            or pr.drp_requests.exclude(pk=drp.pk).filter(revoked_at__isnull=True).exists()
        )
        if pr is not None and not shared:
            request_cancel(request=pr, actor=agent_actor(agent))  # the listener queues the callback
        else:
            queue_callback(drp)
    return drp


# --- the status object (§3.03) and callbacks (§2.03) ---------------------------------------------


def status_pair(drp: DrpRequest) -> tuple[str, str]:
    if drp.revoked_at:
        return "revoked", ""
    if drp.final_status:
        return drp.final_status, drp.final_reason
    if drp.privacy_request is None:
        return "open", ""
    return STATUS_MAP[drp.privacy_request.status]


def status_object(drp: DrpRequest) -> dict[str, Any]:
    state, reason = status_pair(drp)
    body: dict[str, Any] = {
        "request_id": str(drp.request_id),
        "status": state,
        "received_at": drp.received_at.isoformat(),
    }
    if reason:
        body["reason"] = reason
    if drp.agent_request_id:
        body["agent_request_id"] = drp.agent_request_id
    pr = drp.privacy_request
    if pr is not None and state == "in_progress" and pr.effective_due_at:
        body["expected_by"] = pr.effective_due_at.isoformat()
    details = drp.processing_details or fulfil.details(drp, state)
    if details:
        body["processing_details"] = details
    return body


def queue_callback(drp: DrpRequest) -> None:
    """Send the status to the agent's callback after commit, if it changed since the last one queued."""
    if not drp.status_callback:
        return
    payload = status_object(drp)
    with transaction.atomic():
        DrpRequest.objects.filter(pk=drp.pk).update(callback_seq=F("callback_seq") + 1)
        seq = DrpRequest.objects.values_list("callback_seq", flat=True).get(pk=drp.pk)
    # By name (drp.tasks imports this module); DrpConfig.ready() imports the tasks module.
    transaction.on_commit(functools.partial(enqueue, "drp.send_status_callback", drp.pk, seq, payload))


def on_privacy_request_transition(request: PrivacyRequest, previous: str, to: str) -> None:
    """Listener on ``PrivacyRequest.transition``: tell each DRP agent whose view of the status changed."""
    if request.channel != PrivacyRequest.Channel.DRP:
        return  # no query for the requests no agent filed
    if STATUS_MAP.get(previous) == STATUS_MAP.get(to):
        return  # e.g. verified → approved: still in_progress for the agent
    for drp in DrpRequest.objects.filter(privacy_request=request).select_related("privacy_request"):
        drp.privacy_request = request
        queue_callback(drp)


def forget_expired_messages(*, now: Any = None) -> int:
    """Drop replay records of messages past their ``expires-at`` (an hour's margin): the expiry check refuses
    those anyway, so the table holds only what could still be replayed. Returns how many were dropped."""
    cutoff = (now or timezone.now()) - timedelta(hours=1)
    deleted, _ = DrpMessage.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
