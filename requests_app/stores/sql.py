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

Coverage: the schema (``sql_schema``) is read at every discovery; tables that
reference declared ones, or have a column shaped like a declared match column,
but are not declared are reported (``not_covered`` in the discovery detail),
and a foreign-key failure during erasure names the table that blocked it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.db.utils import ConnectionHandler, load_backend

from portal.config import env
from requests_app.stores import sql_anonymize, sql_coverage, sql_discover, sql_erase, sql_export, sql_schema
from requests_app.stores.base import (
    CoverageGap,
    Discovery,
    ExportSink,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
    TransientStoreError,
)
from requests_app.stores.sql_config import (
    DEFAULT_BATCH,
    INT_RE,
    Table,
    mysql_driver,
    store_config_errors,
)
from requests_app.stores.sql_coverage import Gap

INTROSPECTION_TTL = 300.0  # seconds a store keeps the schema it read for erase/export/verify (changes are rare)

_PERMANENT_HINTS = (
    "no such table",
    "no such column",
    "does not exist",
    "permission denied",
    "unknown column",
    "doesn't exist",
    "access denied",
    "password authentication failed",
    "unknown database",
    "syntax error",
    "readonly database",
    "read-only",
)


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
        self._fk_order: list[tuple[str, str]] | None = None

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
        people = sql_export.person_columns(self, table)
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
    @contextmanager
    def connect(self) -> Iterator[Any]:
        settings_dict = env.db_url_config(self.config["url"])
        alias = f"store_{self.name}"
        # The handler fills in every default a DatabaseWrapper expects (it insists on a "default" alias).
        full = ConnectionHandler({"default": settings_dict}).settings["default"]
        if "mysql" in full["ENGINE"]:
            mysql_driver()
        conn = load_backend(full["ENGINE"]).DatabaseWrapper(full, alias)
        name = str(full.get("NAME") or "")
        if conn.vendor == "sqlite" and name != ":memory:" and not name.startswith("file:") and not Path(name).is_file():
            # SQLite would create an empty database and every later look would find "nothing":
            # a missing file is a mistake to name, never a place to start.
            raise PermanentStoreError(f'store "{self.name}": the SQLite database file {name} does not exist')
        if conn.vendor == "sqlite":
            # Its feature probe opens transaction.atomic(alias), which looks the alias up in
            # settings.DATABASES; this connection is not there. Table introspection needs no JSON.
            conn.features.supports_json_field = False
        try:
            try:
                conn.ensure_connection()
            except Exception as exc:
                raise self._error(exc, "connecting") from exc
            yield conn
        finally:
            conn.close()

    def _error(self, exc: Exception, doing: str, table: str | None = None) -> PermanentStoreError | TransientStoreError:
        where = f'store "{self.name}"' + (f', table "{table}"' if table else "")
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first_line = re.sub(r"\(.*?\)=\(.*?\)", "(…)", first_line)  # values in constraint messages
        message = f"{where}: {doing} failed: {first_line}"
        lowered = first_line.lower()
        if isinstance(exc, IntegrityError):
            return PermanentStoreError(
                message + " — another table still references these rows; add it to the stores file "
                "(erase it first) or let the database cascade"
            )
        if any(hint in lowered for hint in _PERMANENT_HINTS):
            return PermanentStoreError(message + " — check the stores file and the database")
        if isinstance(exc, OperationalError | InterfaceError):
            return TransientStoreError(message)
        if isinstance(exc, DatabaseError):
            return PermanentStoreError(message)
        return TransientStoreError(message)

    # --- the database's own schema ----------------------------------------------------
    def schema(self, conn: Any, *, fresh: bool = False) -> sql_schema.Schema:
        """Tables, columns and keys of the database (three catalogue queries).

        Read once per connection and kept by this store for INTROSPECTION_TTL
        seconds, so erase, export and verify of a request reuse what its
        discovery read. ``fresh=True`` (discovery, check_stores, /healthz) always
        looks again: a table added since must be seen by the coverage check.
        """
        cached: sql_schema.Schema | None = getattr(conn, "_portal_schema", None)
        if cached is not None and not fresh:
            return cached
        kept: tuple[float, sql_schema.Schema] | None = getattr(self, "_kept_schema", None)
        if not fresh and kept is not None and time.monotonic() - kept[0] < INTROSPECTION_TTL:
            conn._portal_schema = kept[1]
            return kept[1]
        schemas = sorted({t.name.split(".")[0] for t in self.tables + self.ignored if "." in t.name})
        try:
            cached = sql_schema.read_schema(conn, schemas)
        except (DatabaseError, InterfaceError) as exc:
            raise self._error(exc, "reading the database's tables") from exc
        conn._portal_schema = cached
        conn._portal_integer_columns = None
        self._kept_schema = (time.monotonic(), cached)
        return cached

    def keys(self, conn: Any, table: Table) -> list[str]:
        """The key columns: as declared, else the database's primary key (composite too), else "id"."""
        if table.declared_key:
            return table.declared_key
        schema = self.schema(conn)
        resolved = schema.resolve(table.name)
        if resolved and schema.primary_keys.get(resolved):
            return schema.primary_keys[resolved]
        if resolved and schema.column(resolved, "id"):
            return ["id"]
        return []

    def check_connection(self) -> None:
        with self.connect() as conn:
            schema = self.schema(conn, fresh=True)
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
            problems = self.anonymize_problems(conn)
            if problems:
                raise PermanentStoreError("; ".join(problems))

    def anonymize_problems(self, conn: Any) -> list[str]:
        """Anonymise settings the database's keys make unsafe (check_stores, and before every erasure)."""
        return sql_anonymize.schema_problems(self.name, self.tables, self.schema(conn), lambda t: self.keys(conn, t))

    def coverage(self, conn: Any) -> list[Gap]:
        """Tables the file does not declare that may hold the subject's data (``sql_coverage``)."""
        return sql_coverage.coverage(self, conn)

    def coverage_messages(self) -> list[str]:
        """One line per coverage gap, for check_stores and /healthz."""
        with self.connect() as conn:
            self.schema(conn, fresh=True)
            return [gap.message() for gap in self.coverage(conn)]

    def not_covered(self, conn: Any, subject: Subject | None = None) -> list[CoverageGap]:
        """Coverage gaps (no personal data): table, why, and the subject's rows there."""
        return sql_coverage.not_covered(self, conn, subject)

    def _integer_columns(self, conn: Any) -> dict[str, set[str]]:
        """table → its integer columns, so a value like "abc" is never compared with one (PostgreSQL
        would refuse the whole statement). From the schema: no query of its own."""
        cached = getattr(conn, "_portal_integer_columns", None)
        if cached is None:
            cached = {
                table: {c.name for c in columns if c.family == "integer"}
                for table, columns in self.schema(conn).columns.items()
            }
            conn._portal_integer_columns = cached
        return cached

    # --- SQL building ------------------------------------------------------------
    @staticmethod
    def _q(conn: Any, name: str) -> str:
        return ".".join(conn.ops.quote_name(part) for part in name.split("."))

    def _predicate(
        self,
        conn: Any,
        table: Table,
        subject: Subject,
        values_of: dict[str, list[str]],
        depth: int = 0,
        only: str | None = None,
    ) -> tuple[str, list[Any]] | None:
        """SQL matching the subject's rows of ``table``, or None if it can match nothing.

        Identity kinds provided inside this store become subqueries; others are
        bound values (already cut to one batch by the caller via ``values_of``).
        ``only``: the rows where that one match column names the subject.
        """
        parts: list[str] = []
        params: list[Any] = []
        integer_columns = self._integer_columns(conn).get(self.schema(conn).resolve(table.name) or "", set())
        for column, kind in table.match.items():
            if only is not None and column != only:
                continue
            col = self._q(conn, column)
            values = values_of.get(kind, [])
            if column in integer_columns:
                values = [v for v in values if INT_RE.match(v)]
            if kind == "email" and values:
                parts.append(f"LOWER({col}) IN ({', '.join(['%s'] * len(values))})")
                params.extend(v.lower() for v in values)
            elif values:
                parts.append(f"{col} IN ({', '.join(['%s'] * len(values))})")
                params.extend(values)
            provider = self._internal.get(kind)
            if provider is not None and provider is not table and depth < 10:
                inner = self._predicate(conn, provider, subject, values_of, depth + 1)
                if inner is not None:
                    source = self._q(conn, provider.provides[kind])
                    parts.append(f"{col} IN (SELECT {source} FROM {self._q(conn, provider.name)} WHERE {inner[0]})")
                    params.extend(inner[1])
        if not parts:
            return None
        return " OR ".join(f"({p})" for p in parts), params

    def _batches(self, subject: Subject) -> Iterator[dict[str, list[str]]]:
        """Split the externally known identity values into batches of ``batch_size`` values in total.

        One batch when the subject has few identities (the usual case).
        """
        kinds = sorted({k for t in self.tables for k in t.match.values()} | {"email"})
        pending = [(kind, value) for kind in kinds for value in sorted(subject.values(kind))]
        if not pending:
            return
        for start in range(0, len(pending), self.batch_size):
            batch: dict[str, list[str]] = {}
            for kind, value in pending[start : start + self.batch_size]:
                batch.setdefault(kind, []).append(value)
            yield batch

    def erase_order(self, conn: Any) -> list[Table]:
        """Children before parents: the provides graph plus the database's foreign keys."""
        by_name = {t.name: t for t in self.tables}
        # graph: table → tables that must be erased BEFORE it (its dependants)
        before: dict[str, set[str]] = {t.name: set() for t in self.tables}
        for t in self.tables:
            for kind in t.match.values():
                provider = self._internal.get(kind)
                if provider is not None and provider is not t:
                    before[provider.name].add(t.name)
        schema = self.schema(conn)
        by_schema_name = {schema.resolve(t.name): t for t in self.tables}
        for fk in schema.foreign_keys:
            child, parent = by_schema_name.get(fk.table), by_schema_name.get(fk.ref_table)
            if child is not None and parent is not None and child is not parent:
                before[parent.name].add(child.name)
        try:
            order = list(TopologicalSorter(before).static_order())
        except CycleError as exc:
            raise PermanentStoreError(
                f'store "{self.name}": the tables reference each other in a circle '
                f"({' → '.join(exc.args[1])}); "
                "erase cannot pick an order — let the database cascade one side or split the store"
            ) from exc
        return [by_name[name] for name in order]

    # --- the four operations -----------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        return sql_discover.discover(self, subject)

    def verify_gone(self, subject: Subject) -> Discovery:
        return sql_discover.verify_gone(self, subject)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        return sql_export.export(self, subject, sink)

    def erase(self, subject: Subject) -> Outcome:
        return sql_erase.erase(self, subject)

    def retention_tables(self) -> set[str]:
        return {t.name for t in self.tables}

    def erase_older_than(self, table_name: str, column: str, cutoff: Any) -> int:
        """Retention: delete rows of one configured table whose ``column`` is older than ``cutoff``."""
        return sql_erase.erase_older_than(self, table_name, column, cutoff)
