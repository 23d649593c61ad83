"""What a store answers: its findings (``Discovery``), what an export or erase did (``Outcome``),
and the typed parts of both. Part of the store contract: ``stores/base.py`` re-exports every
name here, so a store kind still imports only ``base``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class CoverageGap:
    """A table the stores file does not declare that may hold the subject's data (sql kinds)."""

    table: str
    why: str
    counted: bool = False  # whether the subject's rows there were asked for
    rows: int | None = None  # the subject's rows there; None when they could not be counted
    blocks_erasure: bool = False  # rows there would stop a deletion of a declared table

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "why": self.why}
        if self.counted:
            out["rows"] = self.rows
        if self.blocks_erasure:
            out["blocks_erasure"] = True
        return out


@dataclass
class Discovery:
    """What a store found: counts only, never personal data.

    ``counts`` per item kind ("files", "blobs", "person"...), ``tables`` rows per table
    (sql, webhook), ``not_covered`` the tables the stores file leaves out (sql), ``note``
    a sentence for staff. ``as_dict`` is how the engine keeps it on the task.
    """

    found: int = 0
    provides: dict[str, set[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    not_covered: list[CoverageGap] = field(default_factory=list)
    note: str = ""
    # Set by the engine, not by stores: e.g. {"withheld": …} when a legal hold keeps the data.
    engine_detail: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """What a person reads: the rows per table when the store has tables, else the counts per kind."""
        return self.tables or self.counts

    def as_dict(self) -> dict[str, Any]:
        """Flat, as kept in ``StoreTask.detail`` and read by the receipt, the package and the admin."""
        out: dict[str, Any] = dict(self.counts)
        if self.tables:
            out["tables"] = dict(self.tables)
        if self.not_covered:
            out["not_covered"] = [gap.as_dict() for gap in self.not_covered]
        if self.note:
            out["note"] = self.note
        out.update(self.engine_detail)
        return out


@dataclass
class LedgerResult:
    """What happened to the ``Subject.ledger`` rows a store was handed (ids of ``LedgerRow``).

    The engine turns ``erased`` and ``gone`` rows into tombstones (with the
    ``notes`` given), keeps ``failed`` and ``manual`` rows live and lists them
    in the request's account of what was left.
    """

    erased: list[int] = field(default_factory=list)  # deleted by this call
    gone: list[int] = field(default_factory=list)  # already gone (404) or never stored (expired)
    failed: dict[int, str] = field(default_factory=dict)  # found but not deleted: id → why
    manual: dict[int, str] = field(default_factory=dict)  # no deletion API: id → what to do
    notes: dict[int, str] = field(default_factory=dict)  # tombstone note per erased/gone id

    def merge(self, other: LedgerResult) -> None:
        self.erased += other.erased
        self.gone += other.gone
        self.failed.update(other.failed)
        self.manual.update(other.manual)
        self.notes.update(other.notes)


@dataclass(frozen=True)
class Retention:
    """What Microsoft still holds after a store deleted something, and until when.

    ``code`` names one of ``RETENTION_TEXTS`` (the receipt, the e-mail and the
    status page render it in the requester's language); ``count`` is how many
    items it covers; ``until`` the last day Microsoft may still hold a copy
    (blob soft delete: deletion day + the account's retention days), ``days``
    that retention. Signed into the receipt as plain values.
    """

    code: str
    count: int = 0
    until: date | None = None
    days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "count": self.count,
            "until": self.until.isoformat() if self.until else None,
            "days": self.days,
        }


# What a Retention code says (gettext_noop: translated where it is shown, in the reader's language).
RETENTION_TEXTS: dict[str, str] = {
    "soft_deleted": gettext_noop(
        "deleted; Microsoft purges its soft-deleted copy by %(until)s (this storage account keeps deleted "
        "files %(days)s days)"
    ),
    "container_soft_delete": gettext_noop(
        "folder deleted; if container soft delete is on for the storage account, Microsoft keeps a "
        "recoverable copy for the days set there"
    ),
    "deleted_no_soft_delete": gettext_noop(
        "deleted; soft delete is off for this storage account, so Microsoft keeps no recoverable copy"
    ),
    "soft_delete_unknown": gettext_noop(
        "deleted; if soft delete is on for the storage account, Microsoft keeps a recoverable copy for "
        "up to 365 days (the portal could not read the account's setting)"
    ),
    "face_deleted": gettext_noop("deleted through Azure AI Face; the face templates went with each person"),
    "detection_expired": gettext_noop(
        "photo checks: Azure AI Face keeps a detection for at most 24 hours, then discards it by itself"
    ),
    "speech_deleted": gettext_noop(
        "deleted through Azure AI Speech, together with the result files Microsoft stored for each transcription"
    ),
    "video_deleted": gettext_noop(
        "deleted through Azure AI Video Indexer, with the insights Microsoft derived from the video"
    ),
    "video_source_only": gettext_noop(
        "video file deleted; Azure AI Video Indexer keeps the insights derived from it (the app is configured so)"
    ),
}


@dataclass(frozen=True)
class ManualStep:
    """Something a person does by hand: an item with no deletion API (a retired Azure service), or a
    host app's own declared process ("paper invoices shredded within 30 days"). Shown on the receipt."""

    what: str
    how: str
    ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As kept in the task's detail and signed into the receipt (``ids`` only when there are some)."""
        return {"what": self.what, **({"ids": list(self.ids)} if self.ids else {}), "how": self.how}


@dataclass(frozen=True)
class LeftItem:
    """Items an erasure found but did not delete, and why: the request then needs attention."""

    what: str
    why: str
    ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As kept in the task's detail (``engine.finish.leftovers`` reads it back with ``from_dict``)."""
        return {"what": self.what, "ids": list(self.ids), "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LeftItem:
        return cls(
            what=str(data.get("what", "")),
            why=str(data.get("why", "")),
            ids=tuple(str(i) for i in data.get("ids") or ()),
        )


@dataclass
class Outcome:
    """What an export or erase did, for the receipt and the admin."""

    exported: int = 0
    erased: int = 0
    anonymised: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    manual_steps: list[ManualStep] = field(default_factory=list)
    left: list[LeftItem] = field(default_factory=list)
    ledger: LedgerResult = field(default_factory=LedgerResult)
    # What Microsoft still holds after this erase, and until when (Azure kinds): the receipt says so.
    retention: list[Retention] = field(default_factory=list)
