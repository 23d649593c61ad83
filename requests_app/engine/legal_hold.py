"""Legal holds meet privacy deletions: withhold what is held, finish the rest, complete it later.

GDPR Art. 17(3)(b) lets a controller keep data it must keep by law; 18 U.S.C. §2258A(h)
obliges a provider that reported an account to NCMEC to preserve it for a year. The
holds themselves live in other apps (``portal.legal_holds``); the engine asks before it
erases:

- ``withheld(task, subject)``: called once by ``services.operate`` for every erase and
  verify step. If a hold covers one of the subject's identities, and the store found
  something and is one the holds cover (``PORTAL_LEGAL_HOLD_STORES``, empty: all), the
  step does nothing and records ``{"withheld": {...}}``: the receipt and the request's page
  say "withheld under a legal obligation" — never why, never what was reported.
- ``requests_app.services.legal_hold.release_withheld()`` (beat, daily): when the hold has
  ended, files a follow-up deletion request for the same person that completes what was
  withheld (a completed request stays completed; its receipt stays true), with its own
  receipt. A services module: filing a request is the services' job, and the engine imports
  no services module back (tests/portal/test_import_graph.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from portal import legal_holds
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores.base import Discovery, Outcome, Subject

PH = StoreTask.Phase
BASIS = "legal_obligation"  # GDPR Art. 17(3)(b); the only reason ever shown outside staff pages


def withheld(task: StoreTask, subject: Subject) -> Discovery | Outcome | None:
    """What an erase or verify step records instead of acting, when a legal hold covers the data."""
    if task.phase not in (PH.ERASE, PH.VERIFY):
        return None
    covered = settings.PORTAL_LEGAL_HOLD_STORES
    if covered and task.store not in covered:
        return None
    # Whether a hold covers the subject first: usually none does, and that is one query.
    until = legal_holds.held_until(subject.identities)
    if until is None:
        return None
    found = StoreTask.objects.filter(request_id=task.request_id, store=task.store, phase=PH.DISCOVER).values_list(
        "found_count", flat=True
    )
    if not any(found):
        return None
    detail = {"withheld": {"basis": BASIS, "until": until.isoformat()}}
    return Outcome(detail=detail) if task.phase == PH.ERASE else Discovery(found=0, engine_detail=detail)


def withheld_detail(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The withheld record of a task's detail (verify steps keep theirs under "verify")."""
    found = detail.get("withheld") or (detail.get("verify") or {}).get("withheld")
    return found if isinstance(found, dict) else None


def receipt_fields(detail: dict[str, Any]) -> dict[str, Any]:
    """Receipt entry fields of a withheld store: not erased, not checked, said why in general terms."""
    if not withheld_detail(detail):
        return {}
    return {"withheld": BASIS, "erased_at": None, "verified_gone": None, "verified_at": None}


def awaiting_release() -> Exists:
    """Requests with withheld data no follow-up deletion has taken over yet (kept from the PII purge)."""
    return Exists(
        StoreTask.objects.filter(request=OuterRef("pk"), phase=PH.ERASE, detail__withheld__basis=BASIS).exclude(
            detail__withheld__has_key="continued_by"
        )
    )


def has_withheld(request: PrivacyRequest) -> bool:
    return any(withheld_detail(d or {}) for d in request.store_tasks.values_list("detail", flat=True))
