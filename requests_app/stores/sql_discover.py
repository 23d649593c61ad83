"""The ``sql`` store's discovery and verification: counts per table, identities provided.

Set-based: an identity a table provides to another table of the same store is
never read into Python (the other table's statement uses a subquery); only the
provided identities the engine keeps (``Subject.wanted``) are read, ``EXPORT_CHUNK``
rows at a time. The counts of all tables are one statement (per identity batch).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, InterfaceError

from requests_app.stores import sql_coverage, sql_erase
from requests_app.stores.base import Discovery, Subject
from requests_app.stores.sql_config import EXPORT_CHUNK, Table
from requests_app.stores.sql_session import SqlSession

MAX_PARAMS = 30_000  # bound values per statement (SQLite allows 32,766; PostgreSQL and MySQL 65,535)


def _counts(session: SqlSession, subject: Subject, tables: list[Table], *, pending_only: bool = False) -> list[int]:
    """The subject's rows in each table: one statement per identity batch for all the tables
    (``SELECT (SELECT COUNT(*) FROM a WHERE ..), (SELECT COUNT(*) FROM b WHERE ..)``), split
    only where it would bind more than MAX_PARAMS values.

    ``pending_only``: on anonymised tables, only the rows an erasure would still change (verify).
    """
    totals = [0] * len(tables)
    with session.conn.cursor() as cursor:
        for batch in session.batches(subject):
            parts: list[tuple[int, str, list[Any]]] = []
            for i, table in enumerate(tables):
                pred = session.predicate(table, subject, batch)
                if pred is not None and pending_only and table.mode == "anonymize":
                    pred = sql_erase.pending(session, table, subject, batch)
                if pred is None:
                    continue
                if parts and sum(len(p) for *_, p in parts) + len(pred[1]) > MAX_PARAMS:
                    _count_together(cursor, parts, totals)
                    parts = []
                parts.append((i, f"(SELECT COUNT(*) FROM {session.q(table.name)} WHERE {pred[0]})", pred[1]))
            _count_together(cursor, parts, totals)
    return totals


def _count_together(cursor: Any, parts: list[tuple[int, str, list[Any]]], totals: list[int]) -> None:
    if not parts:
        return
    cursor.execute("SELECT " + ", ".join(sql for _, sql, _ in parts), [p for *_, ps in parts for p in ps])
    for (i, _, _), value in zip(parts, cursor.fetchone(), strict=True):
        totals[i] += int(value or 0)


def discover(session: SqlSession, subject: Subject) -> Discovery:
    result = Discovery()
    try:
        session.schema(fresh=True)  # every request looks at the schema again (coverage)
        for table, count in zip(session.tables, _counts(session, subject, session.tables), strict=True):
            result.tables[table.name] = count
            result.found += count
            provided = {
                kind: column
                for kind, column in table.provides.items()
                if subject.wanted is None or kind in subject.wanted
            }
            if count and provided:
                for kind, values in _read_provided(session, subject, table, provided).items():
                    result.provides.setdefault(kind, set()).update(values)
        # Every request looks again: a table added to the app since the file was
        # written must show up on the receipt or in the package, not be left out silently.
        result.not_covered = sql_coverage.not_covered(session, subject)
    except (DatabaseError, InterfaceError) as exc:
        raise session.error(exc, "discovery") from exc
    return result


def _read_provided(
    session: SqlSession, subject: Subject, table: Table, provided: dict[str, str]
) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {kind: set() for kind in provided}
    cols = ", ".join(session.q(c) for c in provided.values())
    with session.conn.cursor() as cursor:
        for batch in session.batches(subject):
            pred = session.predicate(table, subject, batch)
            if pred is None:
                continue
            cursor.execute(f"SELECT DISTINCT {cols} FROM {session.q(table.name)} WHERE {pred[0]}", pred[1])
            while rows := cursor.fetchmany(EXPORT_CHUNK):
                for row in rows:
                    for kind, value in zip(provided, row, strict=True):
                        if value is not None and str(value) != "":
                            out[kind].add(str(value))
    return out


def verify_gone(session: SqlSession, subject: Subject) -> Discovery:
    result = Discovery()
    tables = [t for t in session.tables if t.mode != "keep"]
    try:
        for table, count in zip(tables, _counts(session, subject, tables, pending_only=True), strict=True):
            result.tables[table.name] = count
            result.found += count
    except (DatabaseError, InterfaceError) as exc:
        raise session.error(exc, "verification") from exc
    return result
