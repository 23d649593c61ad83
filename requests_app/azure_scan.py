"""Orphan scan: Azure resources of a subject the ledger does not know, or that outlived an erasure.

Every store that holds data sent to Azure lists what its configured subject
patterns point at (``Store.scan``: persons by ``userData``, videos by
``externalId``, transcriptions by ``customProperties``, blobs under prefixes),
through its own client, so paging and the shared rate limit apply. A hit is an
**orphan** when its subject has no live ledger row ("not in the ledger": the
host app sent it without recording it) or only tombstones ("already erased":
it survived a deletion). Nothing is changed; the result is kept as an
``AzureScan`` row for the admin.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from portal import tokens
from requests_app.ledger import TOMBSTONE_PREFIX
from requests_app.models import AzureScan, Transmission
from requests_app.stores import registry
from requests_app.stores.base import ScanHit, Store, StoreError

NOT_IN_LEDGER = "no live ledger row for this subject (sent without being recorded?)"
ALREADY_ERASED = "the subject's ledger rows were erased: this survived the deletion"


def run(stores: list[Store] | None = None) -> AzureScan:
    scan = AzureScan.objects.create()
    for store in stores if stores is not None else registry.stores():
        try:
            hits = list(store.scan())
        except StoreError as exc:
            scan.errors.append({"store": store.name, "error": str(exc)[:500]})
            continue
        scan.scanned += len(hits)
        scan.orphans += [{"store": store.name, **orphan} for orphan in orphans(hits)]
    scan.finished_at = timezone.now()
    scan.save()
    return scan


def orphans(hits: list[ScanHit]) -> list[dict[str, Any]]:
    """The hits whose subject the ledger does not cover, with why (two queries, whatever the count)."""
    subjects = {(hit.identity_kind, hit.identity_value) for hit in hits}
    if not subjects:
        return []
    live = _existing(subjects, deleted=False)
    erased = _existing({(k, TOMBSTONE_PREFIX + tokens.pseudonymise(v)) for k, v in subjects}, deleted=True)
    found = []
    for hit in hits:
        if (hit.identity_kind, hit.identity_value) in live:
            continue
        gone = (hit.identity_kind, TOMBSTONE_PREFIX + tokens.pseudonymise(hit.identity_value)) in erased
        found.append(
            {
                "what": hit.what,
                "where": hit.where,
                "identity_kind": hit.identity_kind,
                "identity_value": hit.identity_value,
                "why": ALREADY_ERASED if gone else NOT_IN_LEDGER,
            }
        )
    return found


def _existing(subjects: set[tuple[str, str]], *, deleted: bool) -> set[tuple[str, str]]:
    condition = Q()
    for kind in {kind for kind, _ in subjects}:
        condition |= Q(subject_kind=kind, subject_value__in=[v for k, v in subjects if k == kind])
    rows = Transmission.objects.filter(condition, deleted_at__isnull=not deleted)
    return set(rows.values_list("subject_kind", "subject_value").distinct())
