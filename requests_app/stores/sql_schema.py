"""What a host-app database holds: tables, columns, primary and foreign keys — read in three queries.

Used by the ``sql`` store kind (coverage check, composite keys, erase order,
naming the table that blocks an erasure) and by ``manage.py draft_stores``.

Each engine is read with its own catalogue, one query per kind of fact, so a
database with hundreds of tables costs three round trips, not three per table:

- **PostgreSQL**: ``pg_class``/``pg_attribute`` (columns), ``pg_constraint``
  ``contype = 'p'`` and ``'f'`` (keys). Tables visible on the ``search_path``
  are named bare (``accounts_user``), others ``schema.table``; only the
  search path's schemas and the schemas named in the stores file are read.
- **MySQL/MariaDB**: ``information_schema.COLUMNS``, ``KEY_COLUMN_USAGE``
  (``CONSTRAINT_NAME = 'PRIMARY'``, and rows with ``REFERENCED_TABLE_NAME``)
  joined with ``REFERENTIAL_CONSTRAINTS`` for the ON DELETE rule, all for
  ``TABLE_SCHEMA = DATABASE()``.
- **SQLite**: ``sqlite_master`` joined with the table-valued pragmas
  ``pragma_table_info`` and ``pragma_foreign_key_list``.

The same queries are written out in docs/stores.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_INT_RE = re.compile(r"\b(tiny|small|medium|big)?int(eger)?\d*\b|serial")
_TEXT_RE = re.compile(r"char|text|clob|string|citext")


def type_family(raw: str) -> str:
    """Coarse type of a column, for "same type" comparisons: integer, text, uuid or the type's first word."""
    lowered = (raw or "").lower()
    if _INT_RE.search(lowered):
        return "integer"
    if _TEXT_RE.search(lowered):
        return "text"
    if "uuid" in lowered:
        return "uuid"
    return lowered.split("(")[0].strip() or "unknown"


@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    ref_table: str
    ref_column: str
    on_delete: str = "no action"  # "cascade", "set null", "restrict", "no action", "set default"

    @property
    def removes_itself(self) -> bool:
        """The database cleans these rows up when the referenced row goes."""
        return self.on_delete in ("cascade", "set null", "set default")

    def __str__(self) -> str:
        return f"{self.table}.{self.column} references {self.ref_table}.{self.ref_column}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True

    @property
    def family(self) -> str:
        return type_family(self.type)


@dataclass
class Schema:
    columns: dict[str, list[Column]] = field(default_factory=dict)  # table → columns, in table order
    primary_keys: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def resolve(self, name: str) -> str | None:
        """The schema's name for a table named in the stores file (``schema.table`` or bare)."""
        if name in self.columns:
            return name
        bare = name.split(".")[-1]
        return bare if bare in self.columns else None

    def column(self, table: str, name: str) -> Column | None:
        return next((c for c in self.columns.get(table, []) if c.name == name), None)

    def referencing(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.foreign_keys if fk.ref_table == table]

    def references(self, table: str) -> list[ForeignKey]:
        return [fk for fk in self.foreign_keys if fk.table == table]


def read_schema(conn: Any, schemas: list[str] | tuple[str, ...] = ()) -> Schema:
    """Read every table of the database ``conn`` (a Django DatabaseWrapper) is connected to."""
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            return _postgresql(cursor, list(schemas))
        if conn.vendor == "mysql":
            return _mysql(cursor)
        if conn.vendor == "sqlite":
            return _sqlite(cursor)
    raise NotImplementedError(f"no schema reader for {conn.vendor}")


_PG_NAME = (
    "CASE WHEN pg_catalog.pg_table_is_visible({c}.oid) THEN {c}.relname ELSE {n}.nspname || '.' || {c}.relname END"
)
_PG_SCOPE = "({n}.nspname = ANY (current_schemas(false)) OR {n}.nspname = ANY (%s))"

PG_COLUMNS = f"""
SELECT {_PG_NAME.format(c="c", n="n")}, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
  AND {_PG_SCOPE.format(n="n")}
ORDER BY 1, a.attnum
"""

PG_KEYS = f"""
SELECT k.contype, {_PG_NAME.format(c="c", n="n")}, a.attname,
       {_PG_NAME.format(c="rc", n="rn")}, ra.attname, k.confdeltype
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(k.conkey, COALESCE(k.confkey, k.conkey)) WITH ORDINALITY AS u(attnum, refnum, position)
JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
LEFT JOIN pg_catalog.pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_catalog.pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = u.refnum
WHERE k.contype IN ('p', 'f') AND {_PG_SCOPE.format(n="n")}
ORDER BY k.conname, u.position
"""

_PG_DELETE = {"c": "cascade", "n": "set null", "d": "set default", "r": "restrict", "a": "no action"}


def _postgresql(cursor: Any, schemas: list[str]) -> Schema:
    schema = Schema()
    cursor.execute(PG_COLUMNS, [schemas])
    for table, name, type_, nullable in cursor.fetchall():
        schema.columns.setdefault(table, []).append(Column(name, type_, bool(nullable)))
    cursor.execute(PG_KEYS, [schemas])
    for contype, table, column, ref_table, ref_column, deltype in cursor.fetchall():
        if contype == "p":
            schema.primary_keys.setdefault(table, []).append(column)
        elif ref_table:
            schema.foreign_keys.append(
                ForeignKey(table, column, ref_table, ref_column, _PG_DELETE.get(deltype, "no action"))
            )
    return schema


MYSQL_COLUMNS = """
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE'
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
"""

MYSQL_KEYS = """
SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
       r.DELETE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
  AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE()
  AND (k.CONSTRAINT_NAME = 'PRIMARY' OR k.REFERENCED_TABLE_NAME IS NOT NULL)
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""


def _mysql(cursor: Any) -> Schema:
    schema = Schema()
    cursor.execute(MYSQL_COLUMNS)
    for table, name, type_, nullable in cursor.fetchall():
        schema.columns.setdefault(table, []).append(Column(name, type_, bool(nullable)))
    cursor.execute(MYSQL_KEYS)
    for constraint, table, column, ref_table, ref_column, rule in cursor.fetchall():
        if constraint == "PRIMARY":
            schema.primary_keys.setdefault(table, []).append(column)
        elif ref_table:
            on_delete = (rule or "NO ACTION").lower()
            schema.foreign_keys.append(ForeignKey(table, column, ref_table, ref_column, on_delete))
    return schema


SQLITE_COLUMNS = """
SELECT m.name, p.name, p.type, p."notnull" = 0, p.pk
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, p.cid
"""

SQLITE_KEYS = """
SELECT m.name, f."from", f."table", f."to", f.on_delete
FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table'
ORDER BY m.name, f.id, f.seq
"""


def _sqlite(cursor: Any) -> Schema:
    schema = Schema()
    cursor.execute(SQLITE_COLUMNS)
    pk_positions: dict[str, list[tuple[int, str]]] = {}
    for table, name, type_, nullable, pk in cursor.fetchall():
        schema.columns.setdefault(table, []).append(Column(name, type_ or "", bool(nullable)))
        if pk:
            pk_positions.setdefault(table, []).append((pk, name))
    schema.primary_keys = {t: [name for _, name in sorted(cols)] for t, cols in pk_positions.items()}
    cursor.execute(SQLITE_KEYS)
    for table, column, ref_table, ref_column, on_delete in cursor.fetchall():
        if ref_column is None:  # REFERENCES parent without a column: the parent's primary key
            ref_column = (schema.primary_keys.get(ref_table) or ["rowid"])[0]
        schema.foreign_keys.append(ForeignKey(table, column, ref_table, ref_column, (on_delete or "").lower()))
    return schema
