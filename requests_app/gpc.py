"""Global Privacy Control: the browser's "do not sell or share" signal, honoured as an opt-out.

Under the CCPA regulations (11 CCR §7025) a GPC signal — the ``Sec-GPC: 1``
request header, ``navigator.globalPrivacyControl`` in the page — is a valid
request to opt out of sale and sharing. The operator marks which consent
purposes are sale, sharing or targeted advertising (``ConsentPurpose.
sale_or_sharing``); for those, a consent-page visit or a host-app consent check
carrying the signal withdraws the subject's consent (method ``gpc``, so the
audit chain names the signal as its source) and, where that purpose's data went
to Azure, files its erasure like any other withdrawal. Purposes not so marked
are untouched: GPC is not a withdrawal of everything.

``/.well-known/gpc.json`` says the site honours the signal (the GPC spec's
"Well-known Resource": ``{"gpc": true, "lastUpdate": "YYYY-MM-DD"}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal.audit import Actor
from requests_app import consent
from requests_app.models import Consent, ConsentPurpose, PrivacyRequest

ACTOR = "system:Global Privacy Control signal"


def signal_in(request: HttpRequest) -> bool:
    """True when the request carries ``Sec-GPC: 1`` (the spec: exactly "1"; anything else is no signal)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


@dataclass(frozen=True)
class Honoured:
    purpose: str
    withdrawn: int
    erasure: PrivacyRequest | None


def honour(
    *,
    purposes: Any,
    subject_kind: str,
    subject_value: str,
    email: str = "",
    jurisdiction: str = "ccpa",
    language: str = "en",
    actor: Actor = ACTOR,
) -> list[Honoured]:
    """Opt the subject out of every sale/sharing purpose among ``purposes`` that still has their consent.

    Only live consents are withdrawn, so a page reloaded with the signal on records nothing twice; a
    consent the person gave after the page told them of the conflict (``gpc_confirmed``) is kept.
    Raises ``consent.ConsentError`` when data went to Azure and no e-mail address is known for the receipt.
    """
    done = []
    for purpose in purposes:
        live = consent.check(subject_kind, subject_value, purpose.slug) if purpose.sale_or_sharing else None
        if live is None or live.gpc_confirmed:
            continue  # nothing to opt out of, or the person chose this after being told of the conflict
        withdrawn, request = consent.withdraw(
            purpose=purpose,
            subject_kind=subject_kind,
            subject_value=subject_value,
            method=Consent.Method.GPC,
            actor=actor,
            email=email,
            jurisdiction=jurisdiction,
            language=language,
        )
        done.append(Honoured(purpose.slug, withdrawn, request))
    return done


def sale_purposes() -> Any:
    return ConsentPurpose.objects.filter(sale_or_sharing=True)


def well_known() -> dict[str, Any]:
    """The GPC well-known resource; ``lastUpdate`` is when the operator last changed how it honours GPC."""
    return {"gpc": True, "lastUpdate": settings.PORTAL_GPC_LAST_UPDATE}
