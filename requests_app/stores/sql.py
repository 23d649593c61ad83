"""The ``sql`` store kind: any database Django can reach by URL (SQLite, PostgreSQL, MySQL/MariaDB).

Configuration (see docs/stores.md)::

    [[store]]
    name = "app-db"
    kind = "sql"
    url = "${APP_DATABASE_URL}"
    batch_size = 1000                   # optional: identity values per statement
      [[store.table]]
      name = "accounts_user"
      key = "id"                        # optional: the database's primary key (composite too), else "id"
      match = { email = "email" }       # column = identity kind
      provides = { user_id = "id" }     # identity kind = column
      erase = "delete"                  # or "keep", or { anonymize = { col = value } }
                                        # (+ author = "sender_id" on a table matched by several columns)
      label = "Your account"            # optional words and category for the access package
      category = "contact"
      [[store.table]]
      name = "billing_invoice"
      ignore = "kept by accounting"     # known, left out on purpose (silences the coverage check)

How it stays set-based: an identity a table provides to *another table of the
same store* is never read into Python; the other table's statement uses a
subquery (``photo_id IN (SELECT id FROM media_photo WHERE owner_id IN (...))``).
Only identities known from outside (the e-mail, or what other stores
provided) are bound as values, at most ``batch_size`` per statement. So the
number of statements depends on the number of tables and identity values,
never on the number of rows.

Anonymising is per matched column: a match column is cleared only on rows where
it names the subject, other columns only where the ``author`` column does (one
UPDATE with a CASE per column); a primary-key column or a key-only table is never
anonymised (``anonymize_problems``, checked by check_stores and before erasing).

Erasure runs in one database transaction per store: children first (order from
the ``provides`` graph plus the database's own foreign keys), then parents. A
worker killed half-way leaves nothing half-done; the engine runs it again.

One connection per request: the phases of a request (discover, erase, verify;
or discover, export) share one ``SqlSession`` (``sql_session``), opened at the
first phase and closed after the last, or when the next request comes; the
schema its discovery read serves the later phases.

Coverage: the schema (``sql_schema``) is read at every discovery; tables that
reference declared ones, or have a column shaped like a declared match column,
but are not declared are reported (``not_covered`` in the discovery detail),
and a foreign-key failure during erasure names the table that blocked it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests_app.stores import sql_coverage, sql_discover, sql_erase, sql_export, sql_schema
from requests_app.stores.base import (
    CoverageGap,
    Discovery,
    ExportSink,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
)
from requests_app.stores.sql_config import DEFAULT_BATCH, Table, store_config_errors
from requests_app.stores.sql_coverage import Gap
from requests_app.stores.sql_session import SchemaCache, SqlSession, open_connection

KEEP_SECONDS = 120.0  # a request's connection idle longer than this is closed and opened again


class _Kept:
    """The session a store keeps open between the phases of one request (one per worker thread)."""

    def __init__(self, session: SqlSession, request_id: int, thread: int):
        self.session, self.request_id, self.thread = session, request_id, thread
        self.used_at = time.monotonic()

    def fits(self, request_id: int | None) -> bool:
        return (
            request_id == self.request_id
            and threading.get_ident() == self.thread
            and time.monotonic() - self.used_at < KEEP_SECONDS
        )

    def close(self) -> None:
        try:
            self.session.conn.close()
        except Exception:  # noqa: BLE001, S110 - already gone: nothing to close
            pass


class SqlStore(Store):
    kind = "sql"
    runs_retention = True

    def __init__(self, name: str, config: dict[str, Any]):
        super().__init__(name, config)
        every = [Table(t) for t in config["table"]]
        self.tables = [t for t in every if not t.ignore]
        self.ignored = [t for t in every if t.ignore]
        self.batch_size = int(config.get("batch_size", DEFAULT_BATCH))
        self._internal = {kind: t for t in self.tables for kind in t.provides}  # kind → providing table
        self._schemas = SchemaCache()
        self._kept: _Kept | None = None
        self._lock = threading.Lock()

    # --- configuration -----------------------------------------------------------
    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return store_config_errors(config)

    @property
    def needs(self) -> set[str]:
        return {kind for t in self.tables for kind in t.match.values()} - set(self._internal)

    @property
    def provides(self) -> set[str]:
        return set(self._internal)

    def table_meta(self, name: str) -> dict[str, Any]:
        """Words for the access package: the table's label, description, category, column labels,
        the columns that hold people's ids (``people``) and the columns left out of the readable
        copies (``hidden``: the table's own key, and a person column that is the table's only
        ``match`` — the subject's own id in every row — unless the file gives it a label)."""
        table = next((t for t in self.tables if t.name == name), None)
        if table is None:
            return {}
        people = sql_export.person_columns(self.tables, table)
        # A table found through one person column alone (owner_id) has the subject there in every row.
        always_theirs = [c for c in table.match if c in people] if len(table.match) == 1 else []
        return {
            "label": table.label,
            "describe": table.describe,
            "category": table.category,
            "columns": table.columns,
            "people": sorted(people),
            "hidden": [
                column for column in [*(table.declared_key or ["id"]), *always_theirs] if column not in table.columns
            ],
        }

    # --- connection --------------------------------------------------------------
    def _session_on(self, conn: Any) -> SqlSession:
        return SqlSession(conn, self.name, self.tables, self.ignored, self.batch_size, self._schemas)

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A connection of its own (check_stores, /healthz, retention, draft_stores), closed after."""
        conn = open_connection(self.name, self.config["url"])
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def open_session(self) -> Iterator[SqlSession]:
        """A session on a connection of its own, closed after (checks and retention)."""
        with self.connect() as conn:
            yield self._session_on(conn)

    @contextmanager
    def session(self, subject: Subject, *, last: bool = False) -> Iterator[SqlSession]:
        """The request's session: the connection its earlier phases opened, else a new one.

        Kept open for the request's next phase unless ``last`` (verify, export) or an error
        left it in doubt; a session of another request is closed first (one per store).
        """
        request_id = subject.request_id
        with self._lock:
            kept, self._kept = self._kept, None
        if kept is not None and not (kept.fits(request_id) and kept.session.conn.is_usable()):
            kept.close()
            kept = None
        if kept is None:
            session = self._session_on(open_connection(self.name, self.config["url"]))
            kept = _Kept(session, request_id or 0, threading.get_ident())
        ok = False
        try:
            yield kept.session
            ok = True
        finally:
            if ok and not last and request_id is not None and kept.session.conn.get_autocommit():
                kept.used_at = time.monotonic()
                with self._lock:
                    self._kept, previous = kept, self._kept
                if previous is not None:
                    previous.close()
            else:
                kept.close()

    def close(self) -> None:
        """Close the connection kept for a request, if any."""
        with self._lock:
            kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()

    # --- the database's own schema (for checks, tests and draft_stores) -----------------
    def schema(self, conn: Any, *, fresh: bool = False) -> sql_schema.Schema:
        """Tables, columns and keys of the database (see ``SqlSession.schema``)."""
        return self._session_on(conn).schema(fresh=fresh)

    def keys(self, conn: Any, table: Table) -> list[str]:
        """The key columns: as declared, else the database's primary key (composite too), else "id"."""
        return self._session_on(conn).keys(table)

    def erase_order(self, conn: Any) -> list[Table]:
        """Children before parents: the provides graph plus the database's foreign keys."""
        return self._session_on(conn).erase_order()

    def check_connection(self) -> None:
        with self.open_session() as session:
            schema = session.schema(fresh=True)
            for table in self.tables:
                resolved = schema.resolve(table.name)
                if resolved is None:
                    raise PermanentStoreError(
                        f'store "{self.name}": table "{table.name}" does not exist in the database'
                    )
                columns = {c.name for c in schema.columns[resolved]}
                wanted = [*(table.declared_key or []), *table.match, *table.provides.values(), *table.anonymize]
                missing = [c for c in dict.fromkeys(wanted) if c not in columns]
                if missing:
                    raise PermanentStoreError(
                        f'store "{self.name}": table "{table.name}" has no column(s) {", ".join(missing)}; '
                        f"it has {', '.join(sorted(columns))}"
                    )
            problems = session.anonymize_problems()
            if problems:
                raise PermanentStoreError("; ".join(problems))

    def coverage(self, conn: Any) -> list[Gap]:
        """Tables the file does not declare that may hold the subject's data (``sql_coverage``)."""
        return sql_coverage.coverage(self._session_on(conn))

    def coverage_messages(self) -> list[str]:
        """One line per coverage gap, for check_stores and /healthz."""
        with self.open_session() as session:
            session.schema(fresh=True)
            return [gap.message() for gap in sql_coverage.coverage(session)]

    def not_covered(self, conn: Any, subject: Subject | None = None) -> list[CoverageGap]:
        """Coverage gaps (no personal data): table, why, and the subject's rows there."""
        return sql_coverage.not_covered(self._session_on(conn), subject)

    # --- the four operations -----------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        with self.session(subject) as session:
            return sql_discover.discover(session, subject)

    def verify_gone(self, subject: Subject) -> Discovery:
        with self.session(subject, last=True) as session:
            return sql_discover.verify_gone(session, subject)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        with self.session(subject, last=True) as session:
            return sql_export.export(session, subject, sink)

    def erase(self, subject: Subject) -> Outcome:
        with self.session(subject) as session:
            return sql_erase.erase(session, subject)

    def retention_tables(self) -> set[str]:
        return {t.name for t in self.tables}

    def erase_older_than(self, table_name: str, column: str, cutoff: Any) -> int:
        """Retention: delete rows of one configured table whose ``column`` is older than ``cutoff``."""
        with self.open_session() as session:
            return sql_erase.erase_older_than(session, table_name, column, cutoff)
