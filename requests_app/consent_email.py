"""Consent from the portal itself: a person types their e-mail address and gets a consent link.

The host app's own link (``consent.subject_link``) is one way in; a person who arrives at the
portal has none. So the consent page asks for an e-mail address and the worker:

1. resolves the address to the host app's ids through the stores file, with the engine's own
   discovery (``engine.local.discover_all``: the same steps a deletion's discovery takes);
2. issues one random consent link per id found (``consent.issue_link``), single-use — it is
   swapped for a session on the first visit, see ``open_emailed_link`` — and expiring after
   ``consent.LINK_MAX_AGE``, for every active purpose;
3. e-mails the links to that address, or says that no account uses it.

The web page answers the same whatever the address: the work happens in the worker, so neither
the reply nor its timing tells a stranger whether an address has an account.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import celery, mail, tokens
from requests_app import consent
from requests_app.engine.local import discover_all
from requests_app.models import ConsentLink, ConsentPurpose
from requests_app.stores.base import Discovery

logger = logging.getLogger(__name__)

SUBJECT_KIND = "user_id"  # the id consents are recorded under (Consent.subject_kind's default)
EMAIL_ACTOR = "system:consent e-mail"  # who issues the e-mailed links (audit actor)
EMAIL_ISSUER = "consent e-mail"  # their ConsentLink.issued_by: such links are single-use
SEND_LINK = "consent.send_link"  # the task in requests_app.tasks (sent by name: it imports this module)
MAX_LINKS = 5  # one address with more accounts than this is not a person's


class LookupFailed(Exception):
    """A store could not be asked and no account was found elsewhere: try again later."""


def request_link(*, email: str, language: str) -> None:
    """Queue the lookup and e-mail (after the transaction commits); the same for any address."""
    address = email.strip()
    transaction.on_commit(lambda: celery.enqueue(SEND_LINK, address, language), robust=True)


def subject_ids(email: str) -> list[str]:
    """The host app's ids (``SUBJECT_KIND``) of this address, by discovery over the stores file."""
    found: set[str] = set()
    failed = []
    for store, result in discover_all({"email": {email}}):
        if isinstance(result, Discovery):
            found |= {str(value) for value in result.provides.get(SUBJECT_KIND, set())}
        else:
            failed.append(store.name)
    if failed and not found:
        raise LookupFailed(f"stores {', '.join(failed)} could not be asked")
    return sorted(found)[:MAX_LINKS]


def send_link(email: str, language: str) -> int:
    """Resolve the address, issue the links and e-mail them; returns how many links were sent."""
    purposes = [p.slug for p in ConsentPurpose.objects.filter(active=True).order_by("title")]
    ids = subject_ids(email) if purposes else []
    links = []
    for value in ids:
        token = consent.issue_link(
            purposes=purposes, subject_kind=SUBJECT_KIND, subject_value=value, email=email, actor=EMAIL_ACTOR
        )
        links.append(mail.absolute(f"/consent/?subject={token}"))
    hours = consent.LINK_MAX_AGE // 3600
    if links:
        mail.send("consent_link", email, {"links": links, "hours": hours}, language)
    else:
        mail.send("consent_link_none", email, {"has_purposes": bool(purposes)}, language)
    return len(links)


def open_emailed_link(token: str) -> ConsentLink:
    """The link behind an e-mailed token, used up now; ConsentError saying why it cannot be used.

    Single-use: the first visit swaps it for a session entry (``last_used_at`` set); a second
    visit with the same token — a forwarded e-mail, a shared screenshot — is refused.
    """
    link = None
    if isinstance(token, str) and token.startswith("cl_") and len(token) < 100:
        link = ConsentLink.objects.filter(token_hash=tokens.hash_token(token)).first()
    if link is None:
        raise consent.ConsentError(
            _("This consent link is not valid. Ask for a new one on the consent page."), "subject"
        )
    if link.revoked_at is not None or link.expires_at <= timezone.now():
        raise consent.ConsentError(
            _("This consent link has expired. Ask for a new one on the consent page."), "subject"
        )
    if link.issued_by == EMAIL_ISSUER:
        used = ConsentLink.objects.filter(pk=link.pk, last_used_at__isnull=True).update(last_used_at=timezone.now())
        if not used:
            raise consent.ConsentError(
                _("This consent link was already used. Ask for a new one on the consent page."), "subject"
            )
    return link
