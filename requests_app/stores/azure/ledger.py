"""The ledger's catch-all: ledger rows no Azure store kind can delete.

- Services without a deletion API (Speaker Recognition, retired 30 September
  2025; "other" services): reported as manual steps — "needs a request to
  Microsoft" with the resource ids — shown to staff and in the receipt, never
  silently skipped.
- Rows of a service for which the stores file has no store of the matching
  kind at all: a permanent error naming the store to add.

```toml
[[store]]
name = "azure-ledger"
kind = "azure_ledger"
```
"""

from __future__ import annotations

from typing import Any

from requests_app import ledger
from requests_app.models import Transmission
from requests_app.stores.base import Discovery, ExportSink, Outcome, PermanentStoreError, Store, Subject

KIND_FOR_SERVICE = {
    service: kind for kind, services in ledger.SERVICE_FOR_KIND.items() for service in services
}
MANUAL = {
    Transmission.Service.SPEAKER_RECOGNITION: (
        "Speaker Recognition (retired 30 September 2025) has no deletion API: ask Microsoft support to "
        "delete these profiles"
    ),
    Transmission.Service.OTHER: (
        "no deletion API known to the portal: ask Microsoft support (or delete in the Azure portal) and "
        "resolve the request manually"
    ),
}


class AzureLedgerStore(Store):
    kind = "azure_ledger"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return [(field, "not used by this kind") for field in config]

    def _configured_kinds(self) -> set[str]:
        from requests_app.stores import registry

        try:
            return {store.kind for store in registry.load().stores}
        except Exception:
            return set()

    def _rows(self, subject: Subject) -> tuple[list[Transmission], list[Transmission]]:
        rows = list(ledger.live_rows(subject.identities, Transmission.Service.values, subject.purpose))
        kinds = self._configured_kinds()
        missing = [
            row
            for row in rows
            if row.service in KIND_FOR_SERVICE and KIND_FOR_SERVICE[row.service] not in kinds
        ]
        if missing:
            needed = sorted({(KIND_FOR_SERVICE[row.service], row.account) for row in missing})
            raise PermanentStoreError(
                f'store "{self.name}" (azure_ledger): {len(missing)} ledger item(s) of this subject were '
                "sent to Azure services the stores file has no store for: "
                + "; ".join(f'add a [[store]] with kind = "{kind}" for {account}' for kind, account in needed)
                + ". Then retry the request."
            )
        manual = [row for row in rows if row.service in MANUAL]
        return rows, manual

    def discover(self, subject: Subject) -> Discovery:
        _, manual = self._rows(subject)
        detail: dict[str, int] = {}
        for row in manual:
            detail[row.service] = detail.get(row.service, 0) + 1
        return Discovery(found=len(manual), detail=detail)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        return Outcome()  # the ledger section of the access package lists every row

    def erase(self, subject: Subject) -> Outcome:
        _, manual = self._rows(subject)
        steps = []
        for service, how in MANUAL.items():
            rows = [row for row in manual if row.service == service]
            if rows:
                ledger.note_manual([row.pk for row in rows], "needs a request to Microsoft: no deletion API")
                steps.append(
                    {
                        "what": f"{Transmission.Service(service).label}: {len(rows)} item(s)",
                        "ids": [f"{row.account}/{row.resource_kind}/{row.resource_id}" for row in rows],
                        "how": how,
                    }
                )
        return Outcome(detail={"manual_items": len(manual)}, manual_steps=steps)

    def verify_gone(self, subject: Subject) -> Discovery:
        # Items with no deletion API cannot be verified by the portal; they are in the manual steps.
        _, manual = self._rows(subject)
        return Discovery(found=0, detail={"manual_items_pending": len(manual)})
