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

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, ClassVar, Protocol

from django.utils.translation import gettext_noop

from requests_app.stores.results import (
    RETENTION_TEXTS as RETENTION_TEXTS,
)
from requests_app.stores.results import (
    CoverageGap as CoverageGap,
)
from requests_app.stores.results import (
    Discovery as Discovery,
)
from requests_app.stores.results import (
    LedgerResult as LedgerResult,
)
from requests_app.stores.results import (
    LeftItem as LeftItem,
)
from requests_app.stores.results import (
    ManualStep as ManualStep,
)
from requests_app.stores.results import (
    Outcome as Outcome,
)
from requests_app.stores.results import (
    Retention as Retention,
)


class StoreError(Exception):
    """Base for errors raised by stores. The message is shown to staff: say what and where."""


class TransientStoreError(StoreError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentStoreError(StoreError):
    pass


class Deferred(StoreError):
    """Raised by a store whose work finishes later (a webhook answering by callback).

    The task stays running, waiting for the callback (``requests_app.engine.callbacks``);
    the sweeper re-sends it if no answer arrived by ``wait_seconds``.
    """

    def __init__(self, message: str = "waiting for the store's callback", wait_seconds: float = 3600):
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass
class LedgerRow:
    """One thing the host app sent to Azure (a row of the transmission ledger), as a store sees it.

    No identity of the subject: only what is needed to find and delete the
    resource. ``store_kind`` names the kind that deletes rows of this service
    (for the catch-all ledger store's "add a store" advice).
    """

    id: int
    service: str
    account: str
    resource_kind: str
    resource_id: str
    parent_ids: dict[str, str] = field(default_factory=dict)
    purpose: str = ""
    sent_at: datetime | None = None
    store_kind: str = ""


@dataclass(frozen=True)
class ScanHit:
    """A resource a store's configured subject pattern points at, found by an orphan scan.

    ``identity_kind``/``identity_value`` say whose it is by the pattern (e.g.
    user_id 42 from userData ``user:42``); ``where`` locates it (no content).
    """

    what: str
    where: str
    identity_kind: str
    identity_value: str


@dataclass
class Subject:
    """Who the request is about: identity kind → values, e.g. {"email": {"a@b.c"}, "user_id": {"42"}}.

    ``purpose`` limits an erasure to the Azure data sent under one consent
    purpose (consent withdrawal); stores that do not hold such data do nothing.
    ``ledger`` holds the live ledger rows of the subject this store must delete
    (filled by the engine for stores with ``services``); ``erased_ledger`` the
    rows this request already deleted through the store (``verify_gone`` checks
    they are really gone). ``wanted``: the identity kinds the engine keeps from a
    discovery's ``provides`` (a store may leave the others unread); None: all.
    """

    identities: dict[str, set[str]]
    purpose: str | None = None
    request_id: int | None = None
    task_id: int | None = None
    ledger: list[LedgerRow] = field(default_factory=list)
    erased_ledger: list[LedgerRow] = field(default_factory=list)
    wanted: set[str] | None = None

    def values(self, kind: str) -> set[str]:
        return self.identities.get(kind, set())


class JsonArrayWriter(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...


class ExportSink(Protocol):
    """Where a store writes its part of the access package, streaming.

    ``records(name)`` opens a JSON array ``<store>/<name>.json`` and yields a
    writer; each ``write`` appends one record (no list is kept in memory).
    ``add_file(arcname, fileobj)`` copies a file into ``<store>/files/<arcname>``
    in chunks. A writer may also have ``declare(columns)``: an exporter that knows
    every key before the first record (a SQL cursor) calls it, and the package's
    CSV and HTML rows are then written in the same pass as the JSON.
    """

    def records(self, name: str) -> AbstractContextManager[JsonArrayWriter]: ...

    def add_file(self, arcname: str, fileobj: BinaryIO) -> None: ...


class Store(ABC):
    """Base class. Subclasses set ``kind`` and implement the four operations.

    ``queue`` is the Celery queue its tasks run on (slow, rate-limited services
    get their own so they never starve the rest). ``services`` are the ledger
    services (``Transmission.service``) whose rows this kind deletes: the engine
    hands it those rows of the subject in ``Subject.ledger``.
    """

    kind: ClassVar[str]
    queue: ClassVar[str] = "stores"
    services: ClassVar[frozenset[str]] = frozenset()
    # True for the one kind that is handed the ledger rows no other store covers (azure_ledger).
    ledger_catch_all: ClassVar[bool] = False
    # Ledger service → the ``resource_kind`` values its rows may have (the ledger refuses others);
    # a service of ``services`` not named here takes any kind.
    resource_kinds: ClassVar[dict[str, frozenset[str]]] = {}
    # True for kinds whose work may finish later: they raise ``Deferred`` and the answer comes in a
    # signed callback (``engine.callbacks``) through ``callback_problem``/``callback_result``.
    answers_by_callback: ClassVar[bool] = False
    # True for kinds that can run ``[[retention]]`` policies (``retention_tables``, ``erase_older_than``).
    runs_retention: ClassVar[bool] = False

    def __init__(self, name: str, config: dict[str, Any]):
        self.name = name
        self.config = config

    # --- configuration -----------------------------------------------------
    @classmethod
    @abstractmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        """Validate a (already interpolated) store table: return [(field, what is wrong), ...]."""

    @classmethod
    def ledger_id_errors(cls, resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
        """What is wrong with a ledger row's ids for this kind: ``{"resource_id": [why]}``; {} if fine.

        The ledger asks the kind that deletes a service's rows before recording
        one: each kind owns the id formats Azure documents for it, and refuses
        anything that could reach outside its item once put into a URL.
        """
        return {}

    @property
    def needs(self) -> set[str]:
        """Identity kinds this store uses to find data."""
        return set()

    @property
    def uses(self) -> set[str]:
        """Identity kinds this store looks at when some store provides them (``needs`` and optional ones).

        The engine keeps these identities and runs this store's discovery after
        the stores that provide them; unlike ``needs``, none is required.
        """
        return self.needs

    @property
    def provides(self) -> set[str]:
        """Identity kinds this store can reveal for other stores."""
        return set()

    def accounts(self) -> set[str]:
        """Ledger accounts (normalised) whose rows this store deletes; empty = every account."""
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

    def scan(self) -> Iterator[ScanHit]:
        """Everything the configured subject patterns match, for everyone (orphan scan; read-only).

        Only kinds that hold data sent to Azure scan; the others have nothing to report.
        """
        return iter(())

    # --- callbacks (answers_by_callback) ---------------------------------------
    def callback_problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why a callback body is not from the host app (bad signature), or None."""
        return f"store kind {self.kind!r} takes no callbacks"

    def callback_result(
        self, action: str, answer: dict[str, Any], sink: ExportSink | None = None
    ) -> Discovery | Outcome:
        """The result of a deferred operation answered by callback; raises store errors like a call."""
        raise PermanentStoreError(f'store "{self.name}": kind {self.kind!r} takes no callbacks')

    # --- retention (runs_retention) ---------------------------------------------
    def retention_tables(self) -> set[str]:
        """What a ``[[retention]]`` policy may name as ``table`` for this store."""
        return set()

    def erase_older_than(self, table_name: str, column: str, cutoff: datetime) -> int:
        """Retention: delete the items of ``table_name`` whose ``column`` is older than ``cutoff``."""
        raise PermanentStoreError(f'store "{self.name}": kind {self.kind!r} runs no retention policies')

    @property
    def label(self) -> str:
        """What the person reads for this store in the access package: ``label`` from the stores file,
        else words made from the name ("app-db" → "App db")."""
        return self.config.get("label") or humanise(self.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def humanise(name: str) -> str:
    """A machine name as words: "blob_path" → "Blob path", "app-db" → "App db", "createdAt" → "Created at"."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = " ".join(re.split(r"[\s_\-.]+", words)).strip()
    return (words[:1].upper() + words[1:].lower()) if words else name


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
