"""The ledger during erasure: the rows a store is handed, and the tombstones it leaves.

Erasure (the Azure store kinds) deletes every live row of the subject through
the matching store, confirms each resource is gone, then turns the row into a
tombstone: ``deleted_at``, ``deleted_by_task`` and ``subject_value`` replaced
by a keyed hash (``portal.tokens.pseudonymise``), so the row proves *that*
something was deleted and when, but no longer says whose it was. The engine
calls these functions; the stores only see ``LedgerRow``s and answer with a
``LedgerResult``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal import tokens
from requests_app.ledger.records import known_services
from requests_app.models import Transmission
from requests_app.stores.azure.common import normalise_account
from requests_app.stores.base import LedgerResult, LedgerRow, Store, Subject
from requests_app.stores.registry import kind_for_service

TOMBSTONE_PREFIX = "pseudonym:"


def subject_condition(identities: dict[str, set[str]]) -> Q:
    """Rows recorded by any of these identities (an empty Q when there is none)."""
    condition = Q()
    for kind, values in identities.items():
        if values:
            condition |= Q(subject_kind=kind, subject_value__in=list(values))
    return condition


def live_rows(
    identities: dict[str, set[str]], services: Iterable[str], purpose: str | None = None
) -> QuerySet[Transmission]:
    """Live (not yet deleted) ledger rows of the subject for these services."""
    condition = subject_condition(identities)
    if not condition:
        return Transmission.objects.none()
    rows = Transmission.objects.filter(condition, service__in=list(services), deleted_at__isnull=True)
    if purpose:
        rows = rows.filter(purpose=purpose)
    return rows.order_by("id")


def subject_kinds() -> set[str]:
    """The identity kinds ledger rows name their subject by (user_id, email...): the engine keeps those."""
    return set(Transmission.objects.filter(deleted_at__isnull=True).values_list("subject_kind", flat=True).distinct())


def as_row(row: Transmission, store_kind: str = "") -> LedgerRow:
    return LedgerRow(
        id=row.pk,
        service=row.service,
        account=row.account,
        resource_kind=row.resource_kind,
        resource_id=row.resource_id,
        parent_ids=dict(row.parent_ids or {}),
        purpose=row.purpose,
        sent_at=row.sent_at,
        store_kind=store_kind,
    )


def _covers(store: Store, row: Transmission) -> bool:
    if row.service not in store.services:
        return False
    accounts = store.accounts()
    return not accounts or normalise_account(row.account) in accounts


def rows_for(store: Store, subject: Subject, stores: list[Store]) -> list[LedgerRow]:
    """The live ledger rows of the subject that ``store`` must delete (the engine hands them in).

    A store gets the rows of its ``services`` and accounts. The catch-all
    (``ledger_catch_all``) gets the rows of its own services (no deletion API)
    and every row no other configured store covers.
    """
    if not store.services and not store.ledger_catch_all:
        return []
    if store.ledger_catch_all:
        kinds = kind_for_service()
        others = [s for s in stores if not s.ledger_catch_all]
        return [
            as_row(row, kinds.get(row.service, ""))
            for row in live_rows(subject.identities, known_services(), subject.purpose)
            if row.service in store.services or not any(_covers(other, row) for other in others)
        ]
    return [
        as_row(row, store.kind)
        for row in live_rows(subject.identities, store.services, subject.purpose)
        if _covers(store, row)
    ]


def erased_rows_for(store: Store, subject: Subject) -> list[LedgerRow]:
    """Rows this request already deleted through ``store``: ``verify_gone`` checks they are gone."""
    if not subject.request_id or not store.services or store.ledger_catch_all:
        return []
    rows = Transmission.objects.filter(
        deleted_by_task__request_id=subject.request_id,
        deleted_by_task__store=store.name,
        service__in=list(store.services),
        deleted_at__isnull=False,
    )
    if subject.purpose:
        rows = rows.filter(purpose=subject.purpose)
    return [as_row(row, store.kind) for row in rows.order_by("id") if _covers(store, row)]


def record_result(result: LedgerResult, task_id: int | None) -> dict[str, int]:
    """Write what a store did with its ledger rows: tombstones for erased/gone rows, notes for manual ones."""
    by_note: dict[str, list[int]] = {}
    for row_id in [*result.erased, *result.gone]:
        by_note.setdefault(result.notes.get(row_id, ""), []).append(row_id)
    tombstoned = sum(tombstone(ids, task_id, note) for note, ids in by_note.items())
    by_manual: dict[str, list[int]] = {}
    for row_id, note in result.manual.items():
        by_manual.setdefault(note, []).append(row_id)
    for note, ids in by_manual.items():
        note_manual(ids, note)
    return {
        "ledger_erased": len(result.erased),
        "ledger_already_gone": len(result.gone),
        "ledger_not_erased": len(result.failed),
        "ledger_manual": len(result.manual),
        "ledger_tombstoned": tombstoned,
    }


def tombstone(row_ids: Iterable[int], task_id: int | None, note: str = "") -> int:
    """Mark rows deleted; replace the subject's identity by its keyed hash. Idempotent."""
    ids = list(row_ids)
    if not ids:
        return 0
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for row in Transmission.objects.select_for_update().filter(pk__in=ids, deleted_at__isnull=True):
            row.subject_value = TOMBSTONE_PREFIX + tokens.pseudonymise(row.subject_value)
            row.deleted_at = now
            row.deleted_by_task_id = task_id
            if note:
                row.deletion_note = note[:300]
            row.save(update_fields=["subject_value", "deleted_at", "deleted_by_task", "deletion_note"])
            count += 1
    return count


def note_manual(row_ids: Iterable[int], note: str) -> None:
    Transmission.objects.filter(pk__in=list(row_ids), deleted_at__isnull=True).update(deletion_note=note[:300])
