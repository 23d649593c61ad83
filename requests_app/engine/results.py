"""Recording a store's result on its task: counts, detail, and the identities a discovery provided.

Called by ``execute.complete`` inside its transaction, on the task row it holds locked.
"""

from __future__ import annotations

from requests_app import ledger
from requests_app.models import PrivacyRequest, StoreTask, SubjectIdentity
from requests_app.stores import registry
from requests_app.stores.base import Discovery, Outcome

PH = StoreTask.Phase

# The fields ``record_discovery`` and ``record_outcome`` set, saved with the status.
RESULT_FIELDS = ("detail", "found_count", "verified_gone", "exported_count", "erased_count", "anonymised_count")


def record_discovery(request: PrivacyRequest, task: StoreTask, result: Discovery, wanted: set[str] | None) -> None:
    """A discovery's (or verify's) counts on its task; the identities it provided, kept for later stores."""
    detail = result.as_dict()
    if task.phase == PH.VERIFY:
        task.verified_gone = result.found == 0
        detail = {"verify": detail}
    else:
        task.found_count = result.found
        _persist_identities(request, task.store, result.provides, wanted)
        detail["provided_kinds"] = sorted(k for k, v in result.provides.items() if v)
    task.detail = {**task.detail, **detail}


def record_outcome(task: StoreTask, result: Outcome) -> None:
    """What an export or erase did, on its task (its counts, what it left, manual steps, retention)."""
    task.exported_count, task.erased_count, task.anonymised_count = (
        result.exported,
        result.erased,
        result.anonymised,
    )
    task.detail = {
        **{k: v for k, v in task.detail.items() if k != "awaiting_callback"},
        **result.detail,
        "manual_steps": [step.as_dict() for step in result.manual_steps],
        "left": [item.as_dict() for item in result.left],
        "retention": [item.as_dict() for item in result.retention],
    }


def needed_kinds() -> set[str]:
    """Identity kinds worth keeping: those a store uses, and those the ledger records subjects by."""
    loaded = registry.load()
    used = set().union(*(s.uses for s in loaded.stores)) if loaded.stores else set()
    return used | ledger.subject_kinds()


def kept_identities(provides: dict[str, set[str]], wanted: set[str]) -> dict[str, set[str]]:
    """The provided identities the engine keeps for later stores (workers and dry runs alike)."""
    return {
        kind: {value for value in values if value and len(value) <= 512}
        for kind, values in provides.items()
        if kind in wanted
    }


def _persist_identities(
    request: PrivacyRequest, source: str, provides: dict[str, set[str]], wanted: set[str] | None
) -> None:
    rows = [
        SubjectIdentity(request=request, kind=kind, value=value, source=source)
        for kind, values in kept_identities(provides, needed_kinds() if wanted is None else wanted).items()
        for value in values
    ]
    SubjectIdentity.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
