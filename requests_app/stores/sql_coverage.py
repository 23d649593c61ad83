"""The ``sql`` store's coverage check: tables the stores file does not declare that may hold
the subject's data.

A table is named when it has a foreign key to a declared table, or a column with
the name (or ``*_name``) and type of a declared match column. Discovery reports
them (``not_covered``) with the subject's rows there; a foreign-key failure during
erasure names the table that blocked it (``sql_erase.blockers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, InterfaceError

from requests_app.stores.base import CoverageGap, Subject
from requests_app.stores.sql_config import Table, rollback_quietly
from requests_app.stores.sql_session import SqlSession


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


def coverage(session: SqlSession) -> list[Gap]:
    """Tables the file does not declare that may hold the subject's data.

    A table is named when it has a foreign key to a declared table, or a
    column with the name (or ``*_name``) and type of a declared match column
    (``billing_email`` like ``accounts_user.email``). Tables declared with
    ``ignore = "reason"`` are left out on purpose.
    """
    schema = session.schema()
    declared = {schema.resolve(t.name) for t in session.tables + session.ignored} - {None}
    active = {r for t in session.tables if (r := schema.resolve(t.name))}
    signatures = _signatures(session, schema)
    gaps: list[Gap] = []
    for table, columns in schema.columns.items():
        if table not in declared:
            gaps.extend(_table_gaps(schema, table, columns, active, signatures))
    return gaps


def _signatures(session: SqlSession, schema: Any) -> list[tuple[str, str, str, str]]:
    """(column, type family, kind, "table.column") of every declared match column but ``id``."""
    signatures: list[tuple[str, str, str, str]] = []
    for t in session.tables:
        resolved = schema.resolve(t.name)
        for col, kind in t.match.items():
            column = schema.column(resolved, col) if resolved else None
            if column is not None and col != "id":
                signatures.append((col, column.family, kind, f"{resolved}.{col}"))
    return signatures


def _table_gaps(
    schema: Any, table: str, columns: list[Any], active: set[str], signatures: list[tuple[str, str, str, str]]
) -> list[Gap]:
    """One undeclared table's links to the subject: foreign keys to declared tables, then look-alike columns."""
    gaps: list[Gap] = []
    seen: set[str] = set()
    for fk in schema.references(table):
        if fk.ref_table in active and fk.column not in seen:
            seen.add(fk.column)
            gaps.append(
                Gap(table, str(fk), fk.column, parent=(fk.ref_table, fk.ref_column), removes_itself=fk.removes_itself)
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
                        f"{table}.{column.name} looks like {source} (identity kind {kind}, same name and type)",
                        column.name,
                        kind=kind,
                    )
                )
                break
    return gaps


def gap_rows(session: SqlSession, subject: Subject, gap: Gap) -> int:
    """How many rows of an undeclared table are the subject's (by the link that named it)."""
    total = 0
    with session.conn.cursor() as cursor:
        for batch in session.batches(subject):
            pred = gap_predicate(session, gap, subject, batch)
            if pred is not None:
                cursor.execute(f"SELECT COUNT(*) FROM {session.q(gap.table)} WHERE {pred[0]}", pred[1])
                total += cursor.fetchone()[0]
    return total


def gap_predicate(
    session: SqlSession, gap: Gap, subject: Subject, batch: dict[str, list[str]]
) -> tuple[str, list[Any]] | None:
    if gap.kind:
        return session.predicate(Table({"name": gap.table, "match": {gap.column: gap.kind}}), subject, batch)
    assert gap.parent is not None
    parent = next((t for t in session.tables if session.schema().resolve(t.name) == gap.parent[0]), None)
    inner = session.predicate(parent, subject, batch) if parent else None
    if inner is None or parent is None:
        return None
    q = session.q
    return (
        f"{q(gap.column)} IN (SELECT {q(gap.parent[1])} FROM {q(parent.name)} WHERE {inner[0]})",
        inner[1],
    )


def not_covered(session: SqlSession, subject: Subject | None = None) -> list[CoverageGap]:
    """Coverage gaps (no personal data): table, why, and, for a subject, their rows there."""
    out: list[CoverageGap] = []
    conn = session.conn
    for gap in coverage(session):
        if subject is None:
            out.append(CoverageGap(gap.table, gap.message()))
            continue
        rows: int | None
        try:
            rows = gap_rows(session, subject, gap)
        except (DatabaseError, InterfaceError):
            # A least-privilege user may not read tables outside the file: say "unknown".
            if not conn.get_autocommit():
                rollback_quietly(conn)
            rows = None
        blocks = bool(gap.parent and not gap.removes_itself and rows != 0)
        out.append(CoverageGap(gap.table, gap.message(), counted=True, rows=rows, blocks_erasure=blocks))
    return out
