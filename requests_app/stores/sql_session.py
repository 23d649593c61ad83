"""One connection to a ``sql`` store's database, and everything that builds SQL on it.

A ``SqlSession`` is what the store's helpers (``sql_discover``, ``sql_erase``,
``sql_export``, ``sql_coverage``) work with: the open connection, its quoting,
the database's schema (read once, see ``SchemaCache``), the subject predicates
and the erase order. It holds the store's tables, not the store, so the helpers
never import ``sql`` (which imports them).

``open_connection`` opens one Django ``DatabaseWrapper`` from a store URL;
``SqlStore.session`` keeps it for the phases of one request (discover, erase,
verify, or discover and export), so a request connects once per store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.db.utils import ConnectionHandler, load_backend

from portal.config import env
from requests_app.stores import sql_anonymize, sql_schema
from requests_app.stores.base import PermanentStoreError, Subject, TransientStoreError
from requests_app.stores.sql_config import INT_RE, Table, mysql_driver

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


def store_error(store_name: str, exc: Exception, doing: str, table: str | None = None) -> StoreErrorType:
    """A database error as the engine's error kinds: permanent (a person must fix it) or transient."""
    where = f'store "{store_name}"' + (f', table "{table}"' if table else "")
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


StoreErrorType = PermanentStoreError | TransientStoreError


def open_connection(store_name: str, url: str) -> Any:
    """A connected Django ``DatabaseWrapper`` for a store URL (the caller closes it)."""
    settings_dict = env.db_url_config(url)
    # The handler fills in every default a DatabaseWrapper expects (it insists on a "default" alias).
    full = ConnectionHandler({"default": settings_dict}).settings["default"]
    if "mysql" in full["ENGINE"]:
        mysql_driver()
    conn = load_backend(full["ENGINE"]).DatabaseWrapper(full, f"store_{store_name}")
    name = str(full.get("NAME") or "")
    if conn.vendor == "sqlite" and name != ":memory:" and not name.startswith("file:") and not Path(name).is_file():
        # SQLite would create an empty database and every later look would find "nothing":
        # a missing file is a mistake to name, never a place to start.
        raise PermanentStoreError(f'store "{store_name}": the SQLite database file {name} does not exist')
    if conn.vendor == "sqlite":
        # Its feature probe opens transaction.atomic(alias), which looks the alias up in
        # settings.DATABASES; this connection is not there. Table introspection needs no JSON.
        conn.features.supports_json_field = False
    try:
        conn.ensure_connection()
    except Exception as exc:
        conn.close()
        raise store_error(store_name, exc, "connecting") from exc
    return conn


@dataclass
class SchemaCache:
    """The schema a store read last, kept INTROSPECTION_TTL seconds (one per store, shared by its sessions)."""

    read_at: float = 0.0
    schema: sql_schema.Schema | None = None

    def fresh_enough(self) -> sql_schema.Schema | None:
        if self.schema is not None and time.monotonic() - self.read_at < INTROSPECTION_TTL:
            return self.schema
        return None


@dataclass
class SqlSession:
    """An open connection to one store's database and the SQL built on it (see the module doc)."""

    conn: Any
    name: str
    tables: list[Table]
    ignored: list[Table]
    batch_size: int
    kept: SchemaCache
    internal: dict[str, Table] = field(init=False)  # identity kind → the table of this store providing it
    _schema: sql_schema.Schema | None = field(default=None, init=False)
    _integer: dict[str, set[str]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.internal = {kind: t for t in self.tables for kind in t.provides}

    @property
    def vendor(self) -> str:
        return str(self.conn.vendor)

    def error(self, exc: Exception, doing: str, table: str | None = None) -> StoreErrorType:
        return store_error(self.name, exc, doing, table)

    # --- the database's own schema ----------------------------------------------------
    def schema(self, *, fresh: bool = False) -> sql_schema.Schema:
        """Tables, columns and keys of the database (three catalogue queries).

        Read once per session and kept by the store for INTROSPECTION_TTL
        seconds, so erase, export and verify of a request reuse what its
        discovery read. ``fresh=True`` (discovery, check_stores, /healthz) looks
        again unless this session read it already: a table added since must be
        seen by the coverage check.
        """
        if self._schema is not None:
            return self._schema
        if not fresh and (kept := self.kept.fresh_enough()) is not None:
            self._schema = kept
            return kept
        schemas = sorted({t.name.split(".")[0] for t in self.tables + self.ignored if "." in t.name})
        try:
            read = sql_schema.read_schema(self.conn, schemas)
        except (DatabaseError, InterfaceError) as exc:
            raise self.error(exc, "reading the database's tables") from exc
        self._schema, self._integer = read, None
        self.kept.read_at, self.kept.schema = time.monotonic(), read
        return read

    def forget_schema(self) -> None:
        """Read the schema again at the next look (a new request: a table may have been added)."""
        self._schema, self._integer = None, None

    def keys(self, table: Table) -> list[str]:
        """The key columns: as declared, else the database's primary key (composite too), else "id"."""
        if table.declared_key:
            return table.declared_key
        schema = self.schema()
        resolved = schema.resolve(table.name)
        if resolved and schema.primary_keys.get(resolved):
            return schema.primary_keys[resolved]
        if resolved and schema.column(resolved, "id"):
            return ["id"]
        return []

    def integer_columns(self, table: Table) -> set[str]:
        """The table's integer columns, so a value like "abc" is never compared with one (PostgreSQL
        would refuse the whole statement). From the schema: no query of its own."""
        if self._integer is None:
            self._integer = {
                name: {c.name for c in columns if c.family == "integer"}
                for name, columns in self.schema().columns.items()
            }
        return self._integer.get(self.schema().resolve(table.name) or "", set())

    def anonymize_problems(self) -> list[str]:
        """Anonymise settings the database's keys make unsafe (check_stores, and before every erasure)."""
        return sql_anonymize.schema_problems(self.name, self.tables, self.schema(), self.keys)

    # --- SQL building ------------------------------------------------------------
    def q(self, name: str) -> str:
        return ".".join(self.conn.ops.quote_name(part) for part in name.split("."))

    def predicate(
        self,
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
        integer_columns = self.integer_columns(table)
        for column, kind in table.match.items():
            if only is not None and column != only:
                continue
            self._bound(parts, params, column, kind, values_of.get(kind, []), column in integer_columns)
            provider = self.internal.get(kind)
            if provider is not None and provider is not table and depth < 10:
                inner = self.predicate(provider, subject, values_of, depth + 1)
                if inner is not None:
                    source = self.q(provider.provides[kind])
                    parts.append(f"{self.q(column)} IN (SELECT {source} FROM {self.q(provider.name)} WHERE {inner[0]})")
                    params.extend(inner[1])
        if not parts:
            return None
        return " OR ".join(f"({p})" for p in parts), params

    def _bound(
        self, parts: list[str], params: list[Any], column: str, kind: str, values: list[str], integer: bool
    ) -> None:
        """``column IN (values)`` for the identity values known from outside the store."""
        col = self.q(column)
        if integer:
            values = [v for v in values if INT_RE.match(v)]
        if kind == "email" and values:
            parts.append(f"LOWER({col}) IN ({', '.join(['%s'] * len(values))})")
            params.extend(v.lower() for v in values)
        elif values:
            parts.append(f"{col} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)

    def batches(self, subject: Subject) -> Iterator[dict[str, list[str]]]:
        """Split the externally known identity values into batches of ``batch_size`` values in total.

        One batch when the subject has few identities (the usual case).
        """
        kinds = sorted({k for t in self.tables for k in t.match.values()} | {"email"})
        pending = [(kind, value) for kind in kinds for value in sorted(subject.values(kind))]
        for start in range(0, len(pending), self.batch_size):
            batch: dict[str, list[str]] = {}
            for kind, value in pending[start : start + self.batch_size]:
                batch.setdefault(kind, []).append(value)
            yield batch

    def erase_order(self) -> list[Table]:
        """Children before parents: the provides graph plus the database's foreign keys."""
        by_name = {t.name: t for t in self.tables}
        # graph: table → tables that must be erased BEFORE it (its dependants)
        before: dict[str, set[str]] = {t.name: set() for t in self.tables}
        for t in self.tables:
            for kind in t.match.values():
                provider = self.internal.get(kind)
                if provider is not None and provider is not t:
                    before[provider.name].add(t.name)
        schema = self.schema()
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
