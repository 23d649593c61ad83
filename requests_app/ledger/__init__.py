"""The transmission ledger: what the host app sent to Azure, and proof of its deletion.

- ``records``: recording transmissions (``record_many``, ``record_transmission``), consent-bound.
- ``erasure``: the rows the engine hands each store, and the tombstones erasure leaves.
- ``section``: the access package's "what this app sent to Microsoft".

The store kinds own the facts about their services (which services exist, their
resource kinds, their id formats); the ledger asks ``stores.registry``. The ledger
never imports the engine: ``RequestsAppConfig.ready()`` registers its package section.
"""

from __future__ import annotations

from requests_app.ledger.erasure import (
    TOMBSTONE_PREFIX,
    as_row,
    erased_rows_for,
    live_rows,
    note_manual,
    record_result,
    rows_for,
    subject_kinds,
    tombstone,
)
from requests_app.ledger.records import (
    MAX_BATCH,
    ClientIdConflict,
    ConsentRequired,
    LedgerError,
    Recorded,
    known_services,
    record_many,
    record_transmission,
)
from requests_app.ledger.section import describe, ledger_records, sent_to_microsoft

__all__ = [
    "MAX_BATCH",
    "TOMBSTONE_PREFIX",
    "ClientIdConflict",
    "ConsentRequired",
    "LedgerError",
    "Recorded",
    "as_row",
    "describe",
    "erased_rows_for",
    "known_services",
    "ledger_records",
    "live_rows",
    "note_manual",
    "record_many",
    "record_result",
    "record_transmission",
    "rows_for",
    "sent_to_microsoft",
    "subject_kinds",
    "tombstone",
]
