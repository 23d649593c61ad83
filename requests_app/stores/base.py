"""The contract every store kind implements.

A *store* is one place where the host app keeps a subject's data (a SQL
database, a folder, the app's own webhook, an Azure service). The engine calls,
per request:

1. ``discover(subject)`` — what is there, and which new identities it reveals
   (e.g. ``email`` → ``user_id``). Stores run in dependency order: a store
   that ``needs`` an identity kind runs after the stores that ``provide`` it.
2. ``export(subject, sink)`` for access requests, or ``erase(subject)`` for
   deletion requests.
3. ``verify_gone(subject)`` after erasure: discovery again; must find nothing.

Every method must be idempotent: the engine may call it again after a crash.
"Already gone" (404, missing file, zero rows) is success. Raise
``TransientStoreError`` for things worth retrying (timeouts, 429, 5xx, locks)
and ``PermanentStoreError`` for things a person must fix (bad credentials,
missing table); any other exception is treated as transient.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO, ClassVar, Protocol

from django.utils.translation import gettext_noop


class StoreError(Exception):
    """Base for errors raised by stores. The message is shown to staff: say what and where."""


class TransientStoreError(StoreError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentStoreError(StoreError):
    pass


@dataclass
class Subject:
    """Who the request is about: identity kind → values, e.g. {"email": {"a@b.c"}, "user_id": {"42"}}.

    ``purpose`` limits an erasure to the Azure data sent under one consent
    purpose (consent withdrawal); stores that do not hold such data do nothing.
    ``request_id`` lets Azure stores find ledger rows and mark them deleted.
    """

    identities: dict[str, set[str]]
    purpose: str | None = None
    request_id: int | None = None
    task_id: int | None = None

    def values(self, kind: str) -> set[str]:
        return self.identities.get(kind, set())


@dataclass
class Discovery:
    """What a store found. ``detail`` holds counts per table/item kind — never personal data."""

    found: int = 0
    provides: dict[str, set[str]] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What an export or erase did, for the receipt and the admin."""

    exported: int = 0
    erased: int = 0
    anonymised: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    # Items that could not be deleted by API and need a manual step (e.g. a
    # retired Azure service): each {"what": ..., "ids": [...], "how": ...}.
    manual_steps: list[dict[str, Any]] = field(default_factory=list)


class JsonArrayWriter(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...


class ExportSink(Protocol):
    """Where a store writes its part of the access package, streaming.

    ``records(name)`` opens a JSON array ``<store>/<name>.json`` and yields a
    writer; each ``write`` appends one record (no list is kept in memory).
    ``add_file(arcname, fileobj)`` copies a file into ``<store>/files/<arcname>``
    in chunks.
    """

    def records(self, name: str) -> AbstractContextManager[JsonArrayWriter]: ...

    def add_file(self, arcname: str, fileobj: BinaryIO) -> None: ...


class Store(ABC):
    """Base class. Subclasses set ``kind`` and implement the four operations."""

    kind: ClassVar[str]

    def __init__(self, name: str, config: dict[str, Any]):
        self.name = name
        self.config = config

    # --- configuration -----------------------------------------------------
    @classmethod
    @abstractmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        """Validate a (already interpolated) store table: return [(field, what is wrong), ...]."""

    @property
    def needs(self) -> set[str]:
        """Identity kinds this store uses to find data."""
        return set()

    @property
    def provides(self) -> set[str]:
        """Identity kinds this store can reveal for other stores."""
        return set()

    def check_connection(self) -> None:  # noqa: B027  (optional hook: most kinds override it)
        """Raise StoreError if the store cannot be reached with this configuration."""

    # --- the four operations ---------------------------------------------------
    @abstractmethod
    def discover(self, subject: Subject) -> Discovery: ...

    @abstractmethod
    def export(self, subject: Subject, sink: ExportSink) -> Outcome: ...

    @abstractmethod
    def erase(self, subject: Subject) -> Outcome: ...

    def verify_gone(self, subject: Subject) -> Discovery:
        return self.discover(subject)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Data categories for the access package's summary (GDPR Art. 15(1)(b)): stores-file
# value → what the person reads. Declared per table (sql) or per store (files);
# the Azure kinds have their own (face → biometric, speech → voice).
# Marked with gettext_noop so makemessages keeps them; the package translates them.
CATEGORIES: dict[str, str] = {
    "contact": gettext_noop("Contact details"),
    "photos": gettext_noop("Photos"),
    "biometric": gettext_noop("Biometric templates"),
    "voice": gettext_noop("Voice"),
    "content": gettext_noop("Content"),
    "activity": gettext_noop("Activity"),
    "other": gettext_noop("Other"),
}
