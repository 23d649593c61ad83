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

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.db.utils import ConnectionHandler, load_backend

from portal.config import env
from requests_app.stores import sql_anonymize, sql_export, sql_schema
from requests_app.stores.base import (
    CATEGORIES,
    Discovery,
    ExportSink,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
    TransientStoreError,
)

IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql", "psql", "mysql", "mariadb")
DEFAULT_BATCH = 1000
INT_RE = re.compile(r"^-?[0-9]{1,18}$")
EXPORT_CHUNK = 2000
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


class Table:
    """One configured table, validated."""

    def __init__(self, raw: dict[str, Any]):
        self.name: str = raw["name"]
        key = raw.get("key")
        # None: the database's primary key (detected), else "id"
        self.declared_key: list[str] | None = [key] if isinstance(key, str) else (list(key) if key else None)
        self.match: dict[str, str] = dict(raw.get("match", {}))  # column → identity kind
        self.provides: dict[str, str] = dict(raw.get("provides", {}))  # identity kind → column
        self.ignore: str = raw.get("ignore", "")
        self.label: str = raw.get("label", "")
        self.describe: str = raw.get("describe", "")
        self.category: str = raw.get("category", "")
        self.shown_as: str = raw.get("shown_as", "")  # the column other people's rows show instead of the id
        self.columns: dict[str, dict[str, str]] = {
            col: ({"label": meta} if isinstance(meta, str) else dict(meta))
            for col, meta in (raw.get("columns") or {}).items()
        }
        erase = raw.get("erase", "delete")
        self.mode = "anonymize" if isinstance(erase, dict) else erase
        self.anonymize: dict[str, Any] = {}
        self.author: list[str] = []
        if isinstance(erase, dict):
            self.anonymize = {
                col: (None if isinstance(v, dict) and v.get("null") else v)
                for col, v in erase.get("anonymize", {}).items()
            }
            author = erase.get("author")
            declared = [author] if isinstance(author, str) else list(author or [])
            # One match column: the subject wrote every matched row (the file format before author).
            self.author = declared or (list(self.match) if len(self.match) == 1 else [])

    @property
    def content(self) -> dict[str, Any]:
        """Anonymised columns that are not match columns: the words of whoever wrote the row."""
        return {c: v for c, v in self.anonymize.items() if c not in self.match}

    def plans(self) -> list[tuple[str, dict[str, Any]]]:
        """(match column, columns to overwrite where THAT column matched the subject), in match order.

        A match column is cleared only on the rows where it names the subject (the
        sender where they sent, the recipient where they received); content columns
        only where an author column names them. All plans go into one UPDATE per batch.
        """
        out = []
        for column in self.match:
            sets = {column: self.anonymize[column]} if column in self.anonymize else {}
            if column in self.author:
                sets.update(self.content)
            if sets:
                out.append((column, sets))
        return out


@dataclass
class Gap:
    """A table that may hold the subject's data but is not in the stores file."""

    table: str
    reason: str  # e.g. "billing_invoice.user_id references accounts_user.id"
    column: str
    # how to find the subject's rows there: an identity kind, or (declared table, its column)
    kind: str | None = None
    parent: tuple[str, str] | None = None
    removes_itself: bool = False  # ON DELETE CASCADE / SET NULL: erasure will not fail on it

    def message(self) -> str:
        return f"{self.reason} but is not declared"


def _table_errors(index: int, raw: Any) -> list[tuple[str, str]]:
    where = f"table[{index}]"
    if not isinstance(raw, dict):
        return [(where, "must be a table: write [[store.table]] with name = ...")]
    errors: list[tuple[str, str]] = []
    name = raw.get("name")
    if not isinstance(name, str) or not IDENT_RE.match(name):
        errors.append((f"{where}.name", "required: the table name (letters, digits, _; optional schema.)"))
        return errors
    where = f"table[{index}] ({name})"
    if "ignore" in raw:
        reason = raw["ignore"]
        if not isinstance(reason, str) or not reason.strip():
            errors.append((f"{where}.ignore", 'say why the table is left out: ignore = "rows are not about people"'))
        for extra in sorted(set(raw) - {"name", "ignore"}):
            errors.append((f"{where}.{extra}", "an ignored table takes only name and ignore"))
        return errors
    allowed = {"name", "key", "match", "provides", "erase", "label", "describe", "category", "columns", "shown_as"}
    for extra in sorted(set(raw) - allowed):
        errors.append((f"{where}.{extra}", f"unknown field; expected one of {', '.join(sorted(allowed))}"))
    key = raw.get("key", "id")
    keys = key if isinstance(key, list) else [key]
    if not keys or not all(isinstance(k, str) and IDENT_RE.match(k) and "." not in k for k in keys):
        errors.append((f"{where}.key", 'a column name, or a list of them for a composite key: ["a_id", "b_id"]'))
    for text_field in ("label", "describe"):
        if text_field in raw and (not isinstance(raw[text_field], str) or len(raw[text_field]) > 500):
            errors.append((f"{where}.{text_field}", "a short text (at most 500 characters)"))
    shown_as = raw.get("shown_as")
    if shown_as is not None and (not isinstance(shown_as, str) or not IDENT_RE.match(shown_as) or "." in shown_as):
        errors.append((f"{where}.shown_as", 'a column of this table, e.g. shown_as = "username"'))
    elif shown_as is not None and not raw.get("provides"):
        errors.append((f"{where}.shown_as", "only a table that provides an id (provides = { user_id = \"id\" }) "
                       "can name the column shown instead of that id"))
    if "category" in raw and (not isinstance(raw["category"], str) or raw["category"] not in CATEGORIES):
        errors.append((f"{where}.category", f"{raw['category']!r}: use one of {', '.join(CATEGORIES)}"))
    columns = raw.get("columns", {})
    if not isinstance(columns, dict):
        errors.append((f"{where}.columns", '{ column = "label" } or { column = { label = "...", describe = "..." } }'))
    else:
        for col, meta in columns.items():
            ok = isinstance(meta, str) or (
                isinstance(meta, dict)
                and set(meta) <= {"label", "describe", "file"}
                and all(isinstance(v, str) for v in meta.values())
                and (not meta.get("file") or re.match(r"^[a-z0-9_-]+(/[^/].*)?$", meta["file"]) is not None)
            )
            if not IDENT_RE.match(col) or "." in col or not ok:
                errors.append(
                    (
                        f"{where}.columns.{col}",
                        'a label, or { label = "...", describe = "...", file = "<store>[/folder]" }',
                    )
                )
    match = raw.get("match")
    if not isinstance(match, dict) or not match:
        errors.append((f"{where}.match", 'required: { column = "identity kind" }, e.g. { email = "email" }'))
    else:
        for col, kind in match.items():
            if not IDENT_RE.match(col) or "." in col:
                errors.append((f"{where}.match", f"{col!r} is not a column name"))
            if not isinstance(kind, str) or not re.match(r"^[a-z][a-z0-9_]*$", kind):
                errors.append(
                    (f"{where}.match.{col}", f"{kind!r} is not an identity kind (e.g. email, user_id)")
                )
    provides = raw.get("provides", {})
    if not isinstance(provides, dict):
        errors.append((f"{where}.provides", '{ identity kind = "column" }, e.g. { user_id = "id" }'))
    else:
        for kind, col in provides.items():
            if not re.match(r"^[a-z][a-z0-9_]*$", kind):
                errors.append(
                    (f"{where}.provides", f"{kind!r} is not an identity kind (lowercase, digits, _)")
                )
            if not isinstance(col, str) or not IDENT_RE.match(col) or "." in col:
                errors.append((f"{where}.provides.{kind}", f"{col!r} is not a column name"))
    erase = raw.get("erase", "delete")
    if isinstance(erase, str):
        if erase not in ("delete", "keep"):
            errors.append(
                (
                    f"{where}.erase",
                    f'{erase!r}: use "delete", "keep" or {{ anonymize = {{ column = value }} }}',
                )
            )
    elif isinstance(erase, dict):
        anonymize = erase.get("anonymize")
        if not set(erase) <= {"anonymize", "author"} or not isinstance(anonymize, dict) or not anonymize:
            errors.append(
                (
                    f"{where}.erase",
                    'anonymise needs { anonymize = { column = value, ... } } and, on a table matched '
                    'through several columns, author = "column"',
                )
            )
        else:
            for col, value in anonymize.items():
                if not IDENT_RE.match(col) or "." in col:
                    errors.append((f"{where}.erase.anonymize", f"{col!r} is not a column name"))
                if isinstance(value, dict) and value != {"null": True}:
                    errors.append((f"{where}.erase.anonymize.{col}", "a value, or { null = true } for NULL"))
                if isinstance(value, list):
                    errors.append((f"{where}.erase.anonymize.{col}", "a single value, not a list"))
            if isinstance(match, dict) and match:
                errors.extend(sql_anonymize.config_errors(where, match, anonymize, erase.get("author")))
    else:
        errors.append((f"{where}.erase", 'use "delete", "keep" or { anonymize = { column = value } }'))
    return errors


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
        errors: list[tuple[str, str]] = []
        url = config.get("url")
        if not isinstance(url, str) or not url:
            errors.append(("url", "required: a database URL, e.g. postgres://user:pass@host:5432/app"))
        elif url.split("://", 1)[0] not in SCHEMES:
            errors.append(
                ("url", f"scheme {url.split('://', 1)[0]!r} is not supported; use {', '.join(SCHEMES)}")
            )
        else:
            try:
                env.db_url_config(url)
            except Exception as exc:
                errors.append(("url", f"cannot be parsed: {type(exc).__name__}"))
        batch = config.get("batch_size", DEFAULT_BATCH)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10000:
            errors.append(("batch_size", "a whole number between 1 and 10000"))
        for extra in sorted(set(config) - {"url", "table", "batch_size"}):
            errors.append((extra, "unknown field; expected url, batch_size, table"))
        tables = config.get("table")
        if not isinstance(tables, list) or not tables:
            errors.append(("table", "at least one [[store.table]] is required"))
            return errors
        for i, raw in enumerate(tables):
            errors.extend(_table_errors(i, raw))
        if errors:
            return errors
        names = [t["name"] for t in tables]
        tables = [t for t in tables if "ignore" not in t]
        if not tables:
            errors.append(("table", "every table is ignored; declare at least one with match = { ... }"))
            return errors
        for dup in sorted({n for n in names if names.count(n) > 1}):
            errors.append(("table", f"{dup!r} is listed twice; merge its settings into one [[store.table]]"))
        providers: dict[str, str] = {}
        for t in tables:
            for kind in t.get("provides", {}):
                if kind in providers:
                    errors.append(
                        (
                            f"table ({t['name']}).provides",
                            f"{kind!r} is already provided by table {providers[kind]!r}",
                        )
                    )
                providers[kind] = t["name"]
        graph = {
            t["name"]: {
                providers[k] for k in t["match"].values() if k in providers and providers[k] != t["name"]
            }
            for t in tables
        }
        try:
            tuple(TopologicalSorter(graph).static_order())
        except CycleError as exc:
            errors.append(("table", f"tables depend on each other in a circle: {' → '.join(exc.args[1])}"))
        return errors

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
                column
                for column in [*(table.declared_key or ["id"]), *always_theirs]
                if column not in table.columns
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
            _mysql_driver()
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

    def _error(self, exc: Exception, doing: str, table: str | None = None):
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
        cached = getattr(conn, "_portal_schema", None)
        if cached is not None and not fresh:
            return cached
        kept = getattr(self, "_kept_schema", None)
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
        """Tables the file does not declare that may hold the subject's data.

        A table is named when it has a foreign key to a declared table, or a
        column with the name (or ``*_name``) and type of a declared match column
        (``billing_email`` like ``accounts_user.email``). Tables declared with
        ``ignore = "reason"`` are left out on purpose.
        """
        schema = self.schema(conn)
        declared = {schema.resolve(t.name) for t in self.tables + self.ignored} - {None}
        active = {r for t in self.tables if (r := schema.resolve(t.name))}
        signatures: list[tuple[str, str, str, str]] = []  # (column, type family, kind, "table.column")
        for t in self.tables:
            resolved = schema.resolve(t.name)
            for col, kind in t.match.items():
                column = schema.column(resolved, col) if resolved else None
                if column is not None and col != "id":
                    signatures.append((col, column.family, kind, f"{resolved}.{col}"))
        gaps: list[Gap] = []
        for table, columns in schema.columns.items():
            if table in declared:
                continue
            seen: set[str] = set()
            for fk in schema.references(table):
                if fk.ref_table in active and fk.column not in seen:
                    seen.add(fk.column)
                    gaps.append(
                        Gap(
                            table,
                            str(fk),
                            fk.column,
                            parent=(fk.ref_table, fk.ref_column),
                            removes_itself=fk.removes_itself,
                        )
                    )
            for column in columns:
                if column.name in seen:
                    continue
                for name, family, kind, source in signatures:
                    if (column.name == name or column.name.endswith("_" + name)) and column.family == family:
                        seen.add(column.name)
                        gaps.append(
                            Gap(
                                table,
                                f"{table}.{column.name} looks like {source} (identity kind {kind}, "
                                "same name and type)",
                                column.name,
                                kind=kind,
                            )
                        )
                        break
        return gaps

    def coverage_messages(self) -> list[str]:
        """One line per coverage gap, for check_stores and /healthz."""
        with self.connect() as conn:
            self.schema(conn, fresh=True)
            return [gap.message() for gap in self.coverage(conn)]

    def _gap_rows(self, conn: Any, subject: Subject, gap: Gap) -> int:
        """How many rows of an undeclared table are the subject's (by the link that named it)."""
        total = 0
        with conn.cursor() as cursor:
            for batch in self._batches(subject):
                pred = self._gap_predicate(conn, gap, subject, batch)
                if pred is not None:
                    cursor.execute(f"SELECT COUNT(*) FROM {self._q(conn, gap.table)} WHERE {pred[0]}", pred[1])
                    total += cursor.fetchone()[0]
        return total

    def _gap_predicate(
        self, conn: Any, gap: Gap, subject: Subject, batch: dict[str, list[str]]
    ) -> tuple[str, list[Any]] | None:
        if gap.kind:
            return self._predicate(conn, Table({"name": gap.table, "match": {gap.column: gap.kind}}), subject, batch)
        assert gap.parent is not None
        parent = next((t for t in self.tables if self.schema(conn).resolve(t.name) == gap.parent[0]), None)
        inner = self._predicate(conn, parent, subject, batch) if parent else None
        if inner is None or parent is None:
            return None
        return (
            f"{self._q(conn, gap.column)} IN (SELECT {self._q(conn, gap.parent[1])} "
            f"FROM {self._q(conn, parent.name)} WHERE {inner[0]})",
            inner[1],
        )

    def not_covered(self, conn: Any, subject: Subject | None = None) -> list[dict[str, Any]]:
        """Coverage gaps as plain data (no personal data): table, why, and the subject's rows there."""
        out: list[dict[str, Any]] = []
        for gap in self.coverage(conn):
            entry: dict[str, Any] = {"table": gap.table, "why": gap.message()}
            if subject is not None:
                try:
                    entry["rows"] = self._gap_rows(conn, subject, gap)
                except (DatabaseError, InterfaceError):
                    # A least-privilege user may not read tables outside the file: say "unknown".
                    if not conn.get_autocommit():
                        _rollback_quietly(conn)
                    entry["rows"] = None
                if gap.parent and not gap.removes_itself and entry["rows"] != 0:
                    entry["blocks_erasure"] = True
            out.append(entry)
        return out

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
                    parts.append(
                        f"{col} IN (SELECT {source} FROM {self._q(conn, provider.name)} WHERE {inner[0]})"
                    )
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
                f'({" → ".join(exc.args[1])}); '
                "erase cannot pick an order — let the database cascade one side or split the store"
            ) from exc
        return [by_name[name] for name in order]

    # --- the four operations -----------------------------------------------------
    def _count(self, conn: Any, subject: Subject, table: Table, *, pending_only: bool = False) -> int:
        total = 0
        with conn.cursor() as cursor:
            for batch in self._batches(subject):
                pred = self._predicate(conn, table, subject, batch)
                if pred is None:
                    continue
                sql, params = pred
                if pending_only and table.mode == "anonymize":
                    pending = self._pending(conn, table, subject, batch)
                    if pending is None:
                        continue
                    sql, params = pending
                cursor.execute(f"SELECT COUNT(*) FROM {self._q(conn, table.name)} WHERE {sql}", params)
                total += cursor.fetchone()[0]
        return total

    def _pending(
        self, conn: Any, table: Table, subject: Subject, batch: dict[str, list[str]]
    ) -> tuple[str, list[Any]] | None:
        """Rows an erasure of ``table`` would still change: per match column, the rows where that
        column names the subject and one of the columns its plan overwrites still differs."""
        parts: list[str] = []
        params: list[Any] = []
        for column, sets in table.plans():
            pred = self._predicate(conn, table, subject, batch, only=column)
            if pred is not None:
                sql, values = self._not_anonymised(conn, sets, *pred)
                parts.append(f"({sql})")
                params.extend(values)
        return (" OR ".join(parts), params) if parts else None

    def _anonymise_update(
        self, conn: Any, table: Table, subject: Subject, batch: dict[str, list[str]]
    ) -> tuple[str, list[Any]] | None:
        """One UPDATE for the table and batch, each column overwritten only where its own plan matched.

        ``SET sender = CASE WHEN <sender names the subject> THEN NULL ELSE sender END,
        text = CASE WHEN <the author column names them> THEN '[deleted]' ELSE text END``
        over the rows some plan still has to change: one statement (not one per match
        column), and its row count is the number of rows changed. Content columns come
        first: MySQL evaluates assignments left to right, so their conditions must read
        the author column before it is cleared.
        """
        conditions: dict[str, list[tuple[str, list[Any]]]] = {}  # column → where it is overwritten
        for column, sets in table.plans():
            pred = self._predicate(conn, table, subject, batch, only=column)
            if pred is not None:
                for target in sets:
                    conditions.setdefault(target, []).append(pred)
        pending = self._pending(conn, table, subject, batch)
        if pending is None or not conditions:
            return None
        assignments: list[str] = []
        params: list[Any] = []
        for column in sorted(conditions, key=lambda c: c in table.match):
            col = self._q(conn, column)
            when = " OR ".join(f"({sql})" for sql, _ in conditions[column])
            assignments.append(f"{col} = CASE WHEN {when} THEN %s ELSE {col} END")
            params.extend(value for _, values in conditions[column] for value in values)
            params.append(table.anonymize.get(column))
        return (
            f"UPDATE {self._q(conn, table.name)} SET {', '.join(assignments)} WHERE {pending[0]}",
            params + pending[1],
        )

    def _not_anonymised(
        self, conn: Any, sets: dict[str, Any], sql: str, params: list[Any]
    ) -> tuple[str, list[Any]]:
        vendor = conn.vendor
        checks = []
        extra: list[Any] = []
        for column, value in sets.items():
            col = self._q(conn, column)
            if vendor == "postgresql":
                checks.append(f"{col} IS DISTINCT FROM %s" if value is not None else f"{col} IS NOT NULL")
            elif vendor == "mysql":
                checks.append(f"NOT ({col} <=> %s)" if value is not None else f"{col} IS NOT NULL")
            else:
                checks.append(f"{col} IS NOT %s" if value is not None else f"{col} IS NOT NULL")
            if value is not None:
                extra.append(value)
        return f"({sql}) AND ({' OR '.join(checks)})", params + extra

    def discover(self, subject: Subject) -> Discovery:
        result = Discovery(detail={"tables": {}})
        try:
            with self.connect() as conn:
                self.schema(conn, fresh=True)  # every request looks at the schema again (coverage)
                for table in self.tables:
                    count = self._count(conn, subject, table)
                    result.detail["tables"][table.name] = count
                    result.found += count
                    provided = dict(table.provides)
                    if count and provided:
                        for kind, values in self._read_provided(conn, subject, table, provided).items():
                            result.provides.setdefault(kind, set()).update(values)
                # Every request looks again: a table added to the app since the file was
                # written must show up on the receipt or in the package, not be left out silently.
                result.detail["not_covered"] = self.not_covered(conn, subject)
        except (DatabaseError, InterfaceError) as exc:
            raise self._error(exc, "discovery") from exc
        return result

    def _read_provided(
        self, conn: Any, subject: Subject, table: Table, provided: dict[str, str]
    ) -> dict[str, set]:
        out: dict[str, set[str]] = {kind: set() for kind in provided}
        cols = ", ".join(self._q(conn, c) for c in provided.values())
        with conn.cursor() as cursor:
            for batch in self._batches(subject):
                pred = self._predicate(conn, table, subject, batch)
                if pred is None:
                    continue
                cursor.execute(
                    f"SELECT DISTINCT {cols} FROM {self._q(conn, table.name)} WHERE {pred[0]}", pred[1]
                )
                while rows := cursor.fetchmany(EXPORT_CHUNK):
                    for row in rows:
                        for kind, value in zip(provided, row, strict=True):
                            if value is not None and str(value) != "":
                                out[kind].add(str(value))
        return out

    def verify_gone(self, subject: Subject) -> Discovery:
        result = Discovery(detail={"tables": {}})
        try:
            with self.connect() as conn:
                for table in self.tables:
                    if table.mode == "keep":
                        continue
                    count = self._count(conn, subject, table, pending_only=True)
                    result.detail["tables"][table.name] = count
                    result.found += count
        except (DatabaseError, InterfaceError) as exc:
            raise self._error(exc, "verification") from exc
        return result

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        return sql_export.export(self, subject, sink)

    def erase(self, subject: Subject) -> Outcome:
        outcome = Outcome(detail={"tables": {}, "statements": 0})
        table_name = None
        with self.connect() as conn:
            order = self.erase_order(conn)
            problems = self.anonymize_problems(conn)
            if problems:  # refused before any statement: nothing of anyone's is changed
                raise PermanentStoreError("erasure refused, nothing was changed: " + "; ".join(problems))
            conn.set_autocommit(False)
            try:
                with conn.cursor() as cursor:
                    for table in order:
                        table_name = table.name
                        if table.mode == "keep":
                            continue
                        affected = 0
                        for batch in self._batches(subject):
                            if table.mode == "delete":
                                pred = self._predicate(conn, table, subject, batch)
                                if pred is None:
                                    continue
                                cursor.execute(
                                    f"DELETE FROM {self._q(conn, table.name)} WHERE {pred[0]}", pred[1]
                                )
                                outcome.detail["statements"] += 1
                                affected += max(cursor.rowcount, 0)
                                continue
                            update = self._anonymise_update(conn, table, subject, batch)
                            if update is None:
                                continue
                            cursor.execute(*update)
                            outcome.detail["statements"] += 1
                            affected += max(cursor.rowcount, 0)
                        outcome.detail["tables"][table.name] = {"mode": table.mode, "rows": affected}
                        if table.mode == "delete":
                            outcome.erased += affected
                        else:
                            outcome.anonymised += affected
                conn.commit()
            except IntegrityError as exc:
                _rollback_quietly(conn)
                _autocommit_quietly(conn)
                failed = next((t for t in order if t.name == table_name), None)
                blockers = self._blockers(conn, subject, failed) if failed else []
                if not blockers:
                    raise self._error(exc, "erasure", table_name) from exc
                raise PermanentStoreError(
                    f'store "{self.name}": erasure stopped and rolled back, nothing was changed: '
                    + "; ".join(blockers)
                ) from exc
            except (DatabaseError, InterfaceError) as exc:
                _rollback_quietly(conn)
                raise self._error(exc, "erasure", table_name) from exc
            except BaseException:
                _rollback_quietly(conn)
                raise
            finally:
                _autocommit_quietly(conn)
        return outcome

    def _blockers(self, conn: Any, subject: Subject, failed: Table) -> list[str]:
        """Why deleting ``failed``'s rows hit a foreign key: the tables whose rows still point at them.

        Asked after the rollback, so the counts are of rows that exist. A declared
        table blocks when it is kept, or anonymised without clearing the key.
        """
        schema = self.schema(conn)
        parent = schema.resolve(failed.name)
        declared = {schema.resolve(t.name): t for t in self.tables + self.ignored}
        found: list[str] = []
        if parent is None:
            return found
        for fk in schema.referencing(parent):
            if fk.removes_itself or fk.table == parent:
                continue
            table = declared.get(fk.table)
            if (
                table is not None
                and not table.ignore
                and (table.mode == "delete" or (table.mode == "anonymize" and fk.column in table.anonymize))
            ):
                continue
            gap = Gap(fk.table, str(fk), fk.column, parent=(parent, fk.ref_column))
            try:
                rows = self._gap_rows(conn, subject, gap)
            except (DatabaseError, InterfaceError):
                rows = -1
            if rows == 0:
                continue
            count = f"{rows} of its rows" if rows > 0 else "its rows"
            if table is None:
                found.append(
                    f'table "{fk.table}" is not declared in the stores file and {count} reference the '
                    f"{parent} rows being deleted ({fk}); declare it (erase = \"delete\", \"keep\" or "
                    'anonymize), let the database cascade, or add ignore = "reason" if that is intended'
                )
            elif table.ignore:
                found.append(
                    f'table "{fk.table}" is ignored (ignore = "{table.ignore}") but {count} reference the '
                    f"{parent} rows being deleted ({fk}); declare it instead"
                )
            else:
                how = "kept" if table.mode == "keep" else f"anonymised without clearing {fk.column}"
                found.append(
                    f'table "{fk.table}" is {how}, and {count} still reference the {parent} rows being '
                    f"deleted ({fk}); anonymise {fk.column} to NULL ({{ null = true }}) or keep "
                    f"{parent} instead of deleting it"
                )
        return found

    def retention_tables(self) -> set[str]:
        return {t.name for t in self.tables}

    def erase_older_than(self, table_name: str, column: str, cutoff: Any) -> int:
        """Retention: delete rows of one configured table whose ``column`` is older than ``cutoff``.

        Batched by primary key (one DELETE per batch), each batch committed.
        """
        table = next((t for t in self.tables if t.name == table_name), None)
        if table is None:
            raise PermanentStoreError(
                f'store "{self.name}": retention names table "{table_name}", which is not '
                "configured in this store"
            )
        deleted = 0
        try:
            with self.connect() as conn, conn.cursor() as cursor:
                key_columns = self.keys(conn, table)
                if not key_columns:
                    raise PermanentStoreError(
                        f'store "{self.name}": table "{table.name}" has no primary key; set key = "column" '
                        "(or a list of columns) so retention can delete it in batches"
                    )
                qt, qc = self._q(conn, table.name), self._q(conn, column)
                qk = ", ".join(self._q(conn, k) for k in key_columns)
                # One column: k IN (...); a composite key: (a, b) IN ((..), (..)) — row values.
                target = qk if len(key_columns) == 1 else f"({qk})"
                one = "%s" if len(key_columns) == 1 else f"({', '.join(['%s'] * len(key_columns))})"
                while True:
                    cursor.execute(f"SELECT {qk} FROM {qt} WHERE {qc} < %s ORDER BY {qk}", [cutoff])
                    rows = cursor.fetchmany(self.batch_size)
                    if not rows:
                        break
                    params = [value for row in rows for value in row]
                    cursor.execute(f"DELETE FROM {qt} WHERE {target} IN ({', '.join([one] * len(rows))})", params)
                    deleted += max(cursor.rowcount, 0)
        except (DatabaseError, InterfaceError) as exc:
            raise self._error(exc, "retention", table_name) from exc
        return deleted


def _mysql_driver() -> None:
    """Django's MySQL backend speaks mysqlclient (``MySQLdb``); without it, use pure-Python PyMySQL.

    mysqlclient needs C headers to build; PyMySQL installs anywhere (``pip install PyMySQL``).
    """
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        try:
            import pymysql  # type: ignore[import-untyped]
        except ImportError:
            return  # Django's own error then says "Did you install mysqlclient?"
        pymysql.install_as_MySQLdb()


def _rollback_quietly(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection may already be gone; the database rolls back
        pass


def _autocommit_quietly(conn: Any) -> None:
    try:
        conn.set_autocommit(True)
    except Exception:  # noqa: BLE001, S110 - closing the connection next anyway
        pass


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)
