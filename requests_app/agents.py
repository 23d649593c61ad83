"""Requests filed by an authorized agent for a named consumer (CCPA, 11 CCR §7063), by form or API.

What the regulation lets a business ask for, the portal asks for every time:

- the agent's identity (name, e-mail address, organisation if any);
- the consumer's signed permission, uploaded as a PDF or image and kept in private storage
  for staff to check (its SHA-256 is in the audit trail);
- the consumer's own confirmation: the request is filed unverified at the *consumer's*
  address, which receives the usual confirmation link saying an agent filed it; nothing runs
  before the consumer presses it, and it is never approved automatically (staff check the
  permission first).

The agent is e-mailed a status link of its own (``StatusLink.Origin.AGENT``): it shows the
status, never the download — the access package goes to the consumer alone, and the status
page and the download step refuse agent links (``is_agent_link``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from portal import mail, tokens
from requests_app.models import AgentFiling, PrivacyRequest, StatusLink
from requests_app.services import links
from requests_app.services.intake import request_submit
from requests_app.services.validation import RequestError, normalise_email

MAX_PERMISSION_BYTES = 3 * 1024 * 1024  # base64 in a JSON body stays under PORTAL_MAX_JSON_BYTES
# Recognised by their first bytes, not by the name or the browser's Content-Type.
PERMISSION_SIGNATURES = {b"%PDF-": ".pdf", b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}


def clean_agent(*, name: Any, email: Any, organisation: Any, consumer_email: str) -> dict[str, str]:
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise RequestError(_("Enter the agent's name (at most 200 characters)."))
    try:
        agent_email = normalise_email(email)
    except RequestError as exc:
        raise RequestError(_("The agent's e-mail address: %(error)s") % {"error": exc}) from None
    if agent_email == consumer_email:
        raise RequestError(
            _("The agent's e-mail address is the consumer's: a consumer files for themselves without the agent fields.")
        )
    organisation = organisation.strip() if isinstance(organisation, str) else ""
    if len(organisation) > 200:
        raise RequestError(_("The agent's organisation: at most 200 characters."))
    return {"agent_name": name, "agent_email": agent_email, "agent_organisation": organisation}


def clean_permission(data: Any, name: Any) -> tuple[bytes, str]:
    """(the bytes, the extension) of the signed permission; refuses anything but a PDF, PNG or JPEG."""
    if not isinstance(data, bytes) or not data:
        raise RequestError(_("Attach the consumer's signed permission (PDF, PNG or JPEG)."))
    if len(data) > MAX_PERMISSION_BYTES:
        raise RequestError(_("The signed permission is larger than 3 MB."))
    for magic, extension in PERMISSION_SIGNATURES.items():
        if data.startswith(magic):
            return data, extension
    raise RequestError(
        _("The signed permission must be a PDF, PNG or JPEG file (“%(name)s” is none of these).")
        % {"name": str(name or "")[:80]}
    )


def request_submit_by_agent(
    *,
    kind: str,
    consumer_email: str,
    jurisdiction: str,
    identifiers: dict[str, Any] | None,
    language: str,
    agent_name: Any,
    agent_email: Any,
    agent_organisation: Any = "",
    permission: Any,
    permission_name: Any = "",
    ip: str = "",
) -> PrivacyRequest:
    """File the request at the consumer's address (unverified) with the agent and the permission recorded."""
    consumer = normalise_email(consumer_email)
    agent = clean_agent(name=agent_name, email=agent_email, organisation=agent_organisation, consumer_email=consumer)
    data, extension = clean_permission(permission, permission_name)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        request = request_submit(
            kind=kind,
            email=consumer,
            jurisdiction=jurisdiction,
            identifiers=identifiers,
            language=language,
            channel=PrivacyRequest.Channel.AGENT,
            ip=ip,
        )
        if not AgentFiling.objects.filter(request=request).exists():
            filing = AgentFiling(
                request=request, permission_sha256=digest, permission_name=str(permission_name or "")[:200], **agent
            )
            filing.permission.save(f"{request.reference}{extension}", ContentFile(data), save=False)
            filing.save()
        request.note(
            actor=f"system:authorized agent {agent['agent_name']}",
            action="request.agent_filed",
            data={"agent_email_hash": tokens.pseudonymise(agent["agent_email"]), "permission_sha256": digest},
        )
        status_url = links.status_url(request, origin=StatusLink.Origin.AGENT)
        mail.send(
            "request_agent_filed",
            agent["agent_email"],
            {
                "reference": request.reference,
                "kind": request.kind,
                "status_url": status_url,
                "agent_name": agent["agent_name"],
            },
            language=request.language,
        )
    return request


def is_agent_link(token: str) -> bool:
    """Whether a status-page token is an agent's link (status only: no download, no package)."""
    return StatusLink.objects.filter(token_hash=tokens.hash_token(token), origin=StatusLink.Origin.AGENT).exists()
