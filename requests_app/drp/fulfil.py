"""What a DRP exercise does here: a privacy request (access, deletion) or a sale opt-out/opt-in.

Access and deletion go through the portal's own intake: an agent that vouches
for the e-mail address (``email_verified: true``, under the identity assurance
it published) files a verified request; otherwise the consumer is e-mailed a
confirmation link and nothing runs before they press it. Either way the
duplicate check applies: a repeat while one is open is linked to it.

A sale/sharing opt-out withdraws the consumer's consents for every purpose the
operator marked as sale/sharing (``ConsentPurpose.sale_or_sharing``), found
under the e-mail address and under the subjects whose consent links carry it;
a withdrawal erases the Azure data sent under the purpose like any other.
An opt-in cannot be honoured by an agent: consent is given by the consumer on
the consent page, so it is denied (``claim_not_covered``) with that reason.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from requests_app import consent
from requests_app.drp.models import DrpRequest
from requests_app.models import ConsentLink, ConsentPurpose, PrivacyRequest
from requests_app.services.intake import request_file_verified, request_submit
from requests_app.services.validation import RequestError

Exercise = DrpRequest.Exercise


def _actor(drp: DrpRequest) -> str:
    return f"system:DRP agent {drp.agent.agent_id}"


def start(drp: DrpRequest, *, email: str, email_verified: bool, jurisdiction: str) -> None:
    if drp.exercise == Exercise.SALE_OPT_OUT:
        _opt_out(drp, email=email)
    elif drp.exercise == Exercise.SALE_OPT_IN:
        _finish(
            drp,
            "denied",
            "claim_not_covered",
            _("Consent to sale or sharing is given by the consumer on the consent page, not through an agent."),
        )
    else:
        _file(drp, email=email, email_verified=email_verified, jurisdiction=jurisdiction)


def _finish(drp: DrpRequest, status: str, reason: str, details: str) -> None:
    drp.final_status, drp.final_reason, drp.processing_details = status, reason, details[:500]
    drp.save(update_fields=["final_status", "final_reason", "processing_details"])


def _file(drp: DrpRequest, *, email: str, email_verified: bool, jurisdiction: str) -> None:
    try:
        with transaction.atomic():
            if email_verified:
                pr = request_file_verified(
                    kind=drp.exercise,
                    email=email,
                    identifiers=None,
                    jurisdiction=jurisdiction,
                    channel=PrivacyRequest.Channel.DRP,
                    actor=_actor(drp),
                )
            else:
                pr = request_submit(
                    kind=drp.exercise,
                    email=email,
                    jurisdiction=jurisdiction,
                    identifiers=None,
                    language="en",
                    channel=PrivacyRequest.Channel.DRP,
                )
            linked = pr.received_at < drp.received_at
            drp.privacy_request = pr
            if linked:
                drp.processing_details = _(
                    "Linked to a request of the same kind for this consumer that is open, or completed "
                    "recently with its copy still available to the consumer; it is carried out once."
                )
            drp.save(update_fields=["privacy_request", "processing_details"])
            pr.note(
                actor=_actor(drp),
                action="drp.received",
                data={"agent": drp.agent.agent_id, "request_id": str(drp.request_id), "linked": linked},
            )
    except RequestError as exc:
        _finish(drp, "denied", "other", str(exc))


def _opt_out(drp: DrpRequest, *, email: str) -> None:
    purposes = list(ConsentPurpose.objects.filter(sale_or_sharing=True))
    subjects = {("email", email)} | set(
        ConsentLink.objects.filter(email=email).values_list("subject_kind", "subject_value").distinct()
    )
    withdrawn = 0
    for purpose in purposes:
        for kind, value in sorted(subjects):
            count, _request = consent.withdraw(
                purpose=purpose,
                subject_kind=kind,
                subject_value=value,
                method="drp",
                actor=_actor(drp),
                email=email,
                jurisdiction="ccpa",
            )
            withdrawn += count
    _finish(
        drp,
        "fulfilled",
        "",
        _(
            "Opted out of sale and sharing: %(purposes)d purpose(s) marked as sale or sharing, "
            "%(withdrawn)d consent(s) withdrawn; data sent to Microsoft under them is being erased."
        )
        % {"purposes": len(purposes), "withdrawn": withdrawn},
    )


def details(drp: DrpRequest, state: str) -> str:
    """Words for the agent when the request has none of its own (§3.03 ``processing_details``)."""
    pr = drp.privacy_request
    if pr is None:
        return ""
    if state == "open":
        return _("Waiting for the consumer to confirm the request from the e-mail we sent them.")
    if state == "denied":
        return pr.decision_reason[:500]
    if state == "fulfilled" and drp.exercise == Exercise.ACCESS:
        return _("The copy of the data was sent to the consumer; agents never receive it.")
    return ""
