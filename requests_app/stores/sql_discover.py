"""The ``sql`` store's discovery and verification: counts per table, identities provided.

Set-based: an identity a table provides to another table of the same store is
never read into Python (the other table's statement uses a subquery); only the
provided identities other *stores* need are read, ``EXPORT_CHUNK`` rows at a time.
"""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError

from requests_app.stores import sql_coverage, sql_erase
from requests_app.stores.base import Discovery, Subject
from requests_app.stores.sql_config import EXPORT_CHUNK, Table
from requests_app.stores.sql_session import SqlSession


def _count(session: SqlSession, subject: Subject, table: Table, *, pending_only: bool = False) -> int:
    total = 0
    with session.conn.cursor() as cursor:
        for batch in session.batches(subject):
            pred = session.predicate(table, subject, batch)
            if pred is None:
                continue
            sql, params = pred
            if pending_only and table.mode == "anonymize":
                pending = sql_erase.pending(session, table, subject, batch)
                if pending is None:
                    continue
                sql, params = pending
            cursor.execute(f"SELECT COUNT(*) FROM {session.q(table.name)} WHERE {sql}", params)
            total += cursor.fetchone()[0]
    return total


def discover(session: SqlSession, subject: Subject) -> Discovery:
    result = Discovery()
    try:
        session.schema(fresh=True)  # every request looks at the schema again (coverage)
        for table in session.tables:
            count = _count(session, subject, table)
            result.tables[table.name] = count
            result.found += count
            provided = dict(table.provides)
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
    try:
        for table in session.tables:
            if table.mode == "keep":
                continue
            count = _count(session, subject, table, pending_only=True)
            result.tables[table.name] = count
            result.found += count
    except (DatabaseError, InterfaceError) as exc:
        raise session.error(exc, "verification") from exc
    return result
