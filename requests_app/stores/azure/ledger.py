"""The ledger's catch-all: ledger rows no Azure store kind can delete.

The engine always plans this store (adding it when the stores file names
none) and hands it two sorts of live ledger rows of the subject:

- rows of services without a deletion API (Speaker Recognition, retired 30
  September 2025; "other" services): reported as manual steps — "needs a
  request to Microsoft" with the resource ids — shown to staff and in the
  receipt, never silently skipped;
- rows of an Azure service or account no configured store covers: reported as
  known-but-unreachable, with the store to add.

Either way the rows stay live and the request is not "completed": it goes to
needs_attention with the list, until staff retry (after adding the store) or
close it as completed with exceptions.

```toml
[[store]]
name = "azure-ledger"
kind = "azure_ledger"
```
"""

from __future__ import annotations

from typing import Any, ClassVar

from requests_app.stores.base import Discovery, ExportSink, LedgerRow, LeftItem, ManualStep, Outcome, Store, Subject

SERVICE_LABELS = {"speaker_recognition": "Speaker Recognition", "other": "Other Azure AI service"}
MANUAL = {
    "speaker_recognition": (
        "Speaker Recognition (retired 30 September 2025) has no deletion API: ask Microsoft support to "
        "delete these profiles"
    ),
    "other": (
        "no deletion API known to the portal: ask Microsoft support (or delete in the Azure portal) and "
        "resolve the request manually"
    ),
}
MANUAL_NOTE = "needs a request to Microsoft: no deletion API"


class AzureLedgerStore(Store):
    kind = "azure_ledger"
    queue: ClassVar[str] = "azure"
    services: ClassVar[frozenset[str]] = frozenset(MANUAL)
    ledger_catch_all: ClassVar[bool] = True

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [(field, "not used by this kind") for field in config]

    def _split(self, subject: Subject) -> tuple[list[LedgerRow], list[LedgerRow]]:
        manual = [row for row in subject.ledger if row.service in MANUAL]
        unreachable = [row for row in subject.ledger if row.service not in MANUAL]
        return manual, unreachable

    def discover(self, subject: Subject) -> Discovery:
        manual, unreachable = self._split(subject)
        detail: dict[str, int] = {}
        for row in manual:
            detail[row.service] = detail.get(row.service, 0) + 1
        if unreachable:
            detail["unreachable"] = len(unreachable)
        return Discovery(found=len(manual) + len(unreachable), counts=detail)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        return Outcome()  # the ledger section of the access package lists every row

    def erase(self, subject: Subject) -> Outcome:
        manual, unreachable = self._split(subject)
        outcome = Outcome(detail={"manual_items": len(manual), "unreachable_items": len(unreachable)})
        for service, how in MANUAL.items():
            rows = [row for row in manual if row.service == service]
            if rows:
                outcome.ledger.manual.update({row.id: MANUAL_NOTE for row in rows})
                what = f"{SERVICE_LABELS[service]}: {len(rows)} item(s)"
                ids = tuple(_describe(row) for row in rows)
                outcome.manual_steps.append(ManualStep(what=what, ids=ids, how=how))
                outcome.left.append(LeftItem(what=what + " with no deletion API", ids=ids, why=how))
        groups: dict[tuple[str, str, str], list[LedgerRow]] = {}
        for row in unreachable:
            groups.setdefault((row.service, row.account, row.store_kind), []).append(row)
        for (service, account, kind), rows in sorted(groups.items()):
            why = (
                f'no store in the stores file covers {service} account "{account}": add a [[store]] with '
                f'kind = "{kind or "?"}" for it (or list the account in "ledger_accounts" of an existing '
                "store), then retry the request"
            )
            outcome.ledger.failed.update({row.id: why for row in rows})
            outcome.left.append(
                LeftItem(
                    what=f"{service}: {len(rows)} ledger item(s) known but unreachable",
                    ids=tuple(_describe(row) for row in rows),
                    why=why,
                )
            )
        return outcome

    def verify_gone(self, subject: Subject) -> Discovery:
        # Nothing here was deleted by the portal: the account of the erase lists every row as left.
        manual, unreachable = self._split(subject)
        return Discovery(found=0, counts={"manual_items_pending": len(manual), "unreachable": len(unreachable)})


def _describe(row: LedgerRow) -> str:
    return f"{row.account}/{row.resource_kind}/{row.resource_id}"
