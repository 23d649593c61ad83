"""Planning a request: who the subject is, one StoreTask per (store, phase), start and restart.

- ``start`` plans the tasks of an approved request whose grace period is over
  and moves it to running; ``dispatch.advance`` hands out the first tasks.
- ``retry`` gives the failed tasks of a request in needs_attention a fresh budget.
- ``resolve_manually`` / ``close_with_exceptions``: staff close what the engine
  could not; ``finish`` writes the receipt saying so.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from portal.audit import Actor
from requests_app.engine import finish as finishing
from requests_app.engine.dispatch import ACTOR, PH, PR, advance, locked, send_start
from requests_app.models import InvalidTransition, PrivacyRequest, StoreTask, SubjectIdentity, Transmission
from requests_app.stores import registry
from requests_app.stores.base import PermanentStoreError, Store, Subject


# --- identities -------------------------------------------------------------------------
def subject_for(request: PrivacyRequest, task: StoreTask | None = None) -> Subject:
    identities: dict[str, set[str]] = {}
    for kind, value in request.identities.values_list("kind", "value"):
        identities.setdefault(kind, set()).add(value)
    return Subject(
        identities=identities,
        purpose=request.scope_purpose or None,
        request_id=request.pk,
        task_id=task.pk if task else None,
    )


def seed_identities(request: PrivacyRequest) -> None:
    rows = []
    if request.email:
        rows.append(
            SubjectIdentity(request=request, kind="email", value=request.email.strip().lower(), source="request")
        )
    for kind, value in (request.identifiers or {}).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in (None, "") and len(str(item)) <= 512:
                rows.append(SubjectIdentity(request=request, kind=str(kind), value=str(item).strip(), source="request"))
    SubjectIdentity.objects.bulk_create(rows, ignore_conflicts=True)


# --- planning ---------------------------------------------------------------------------
def phases_for(request: PrivacyRequest, store: Store) -> list[str]:
    if request.kind == PrivacyRequest.Kind.ACCESS:
        return [PH.DISCOVER, PH.EXPORT]
    if request.scope_purpose and not store.services:
        # Consent withdrawal: only the Azure data sent under the purpose is erased;
        # the host app's own stores are only asked who the subject is.
        return [PH.DISCOVER]
    return [PH.DISCOVER, PH.ERASE, PH.VERIFY]


def cannot_hold_anything(request: PrivacyRequest, store: Store) -> bool:
    """True for the ledger catch-all store when the ledger cannot name this subject.

    The catch-all only ever acts on ledger rows. It is skipped when no live row is
    recorded by an identity of the subject known now, and no live row is recorded
    by a kind the subject's identities are not known in yet (``user_id`` rows wait
    for discovery to reveal the subject's id, so they keep the store planned).
    One EXISTS query; the usual request of a person the app never sent to Azure
    then plans no ledger tasks at all.
    """
    if not store.ledger_catch_all:
        return False
    identities = SubjectIdentity.objects.filter(request=request)
    kind_not_known_yet = ~Exists(identities.filter(kind=OuterRef("subject_kind")))
    recorded_by_a_known_identity = Exists(
        identities.filter(kind=OuterRef("subject_kind"), value=OuterRef("subject_value"))
    )
    could_be_theirs = Transmission.objects.filter(kind_not_known_yet | recorded_by_a_known_identity)
    return not could_be_theirs.filter(deleted_at__isnull=True).exists()


def plan(request: PrivacyRequest, stores: list[Store]) -> None:
    seed_identities(request)
    rows = [
        StoreTask(request=request, store=store.name, store_kind=store.kind, phase=phase)
        for store in stores
        if not cannot_hold_anything(request, store)
        for phase in phases_for(request, store)
    ]
    StoreTask.objects.bulk_create(rows, ignore_conflicts=True)


# --- start, retry, resolve ------------------------------------------------------------
def is_due(request: PrivacyRequest) -> bool:
    return request.run_after is None or request.run_after <= timezone.now()


def schedule_start(request: PrivacyRequest) -> None:
    """Start after commit if the grace period is over; otherwise the beat dispatcher will."""
    if is_due(request):
        send_start(request.pk)


def start(request_id: int, actor: Actor = ACTOR) -> bool:
    """Plan and start an approved request whose grace period is over. Idempotent."""
    with transaction.atomic():
        request = locked(request_id)
        if request.status != PR.APPROVED or not is_due(request):
            return False
        loaded = registry.load()
        if loaded.errors:
            request.transition(PR.RUNNING, actor=actor, action="execution_started", started_at=timezone.now())
            request.transition(
                PR.NEEDS_ATTENTION,
                actor=actor,
                action="execution_failed",
                attention_reason="The stores file has errors; fix them (manage.py check_stores) "
                "and retry: " + "; ".join(loaded.errors[:5]),
            )
            return False
        plan(request, loaded.stores)
        request.transition(
            PR.RUNNING,
            actor=actor,
            action="execution_started",
            started_at=timezone.now(),
            data={"stores": [s.name for s in loaded.stores]},
        )
        advance(request)
    return True


def retry(request: PrivacyRequest, actor: Actor) -> int:
    """Run a request in needs_attention again: failed tasks get a fresh budget of attempts.

    Returns the number of tasks set back to pending.
    """
    with transaction.atomic():
        request = locked(request.pk)
        if request.status != PR.NEEDS_ATTENTION:
            raise InvalidTransition("Only a request that needs attention can be retried.")
        if not request.store_tasks.exists():
            loaded = registry.load()
            if loaded.errors:
                raise PermanentStoreError("The stores file still has errors: " + "; ".join(loaded.errors[:5]))
            plan(request, loaded.stores)
        reset = request.store_tasks.reset_for_retry()
        request.transition(
            PR.RUNNING,
            actor=actor,
            action="execution_retried",
            attention_reason="",
            data={"tasks_reset": reset},
        )
        advance(request)
    return reset


def close_with_exceptions(request: PrivacyRequest, actor: Actor, reason: str) -> None:
    """Staff accept what an erasure left (listed on the request) and close it; the receipt lists it."""
    if not reason.strip():
        raise ValueError("Say why the request may close with items left; it goes into the audit and the receipt.")
    finishing.finish(request.pk, manual_reason=reason.strip(), actor=actor, exceptions=True)


def resolve_manually(request: PrivacyRequest, actor: Actor, reason: str) -> None:
    """Staff closed what the engine could not (e.g. erased by hand). The receipt says so."""
    if not reason.strip():
        raise ValueError("Say what was done by hand; the reason goes into the audit trail and the receipt.")
    finishing.finish(request.pk, manual_reason=reason.strip(), actor=actor)
