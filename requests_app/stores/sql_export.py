"""The ``sql`` store's export: each table read once, as a stream, with other people's ids replaced.

One statement per table (and identity batch): ``SELECT t.*, <person columns> FROM t WHERE <the
subject's rows> ORDER BY <key>`` through a server-side cursor on PostgreSQL (a plain
``fetchmany`` loop on SQLite and MySQL), inside one read-only transaction, so a WITH HOLD
cursor never materialises the result and every table is read from one snapshot. Rows go
straight to the sink ``EXPORT_CHUNK`` at a time; nothing keeps a list of them.

**People's ids.** A *person kind* is an identity kind a table of this store provides while
being found by identities from outside the store (``accounts_user`` is matched by ``email``
and provides ``user_id``). A *person column* holds such an id: a ``match`` column of that kind,
or a column the database's foreign keys point at the providing column. For every person
column the statement also selects whether the value is the subject's own id (the same
predicate discovery uses, so no id is read into Python) and, when the providing table names a
``shown_as`` column, that person's name. The record then carries:

- nothing for a column that holds the subject's own id (``owner_id`` on their own photos is
  no news to them; the readable copies show "you" where the column appears at all);
- the other person's ``shown_as`` value (e.g. their user name) where the file declares one;
- ``WITHHELD`` ("another member") otherwise: never another person's raw id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, InterfaceError

from requests_app.stores.base import ExportSink, Outcome, Subject
from requests_app.stores.sql_config import EXPORT_CHUNK, Table, autocommit_quietly, jsonable, rollback_quietly
from requests_app.stores.sql_session import SqlSession

_PLAIN = frozenset({str, int, float, bool})  # values JSON takes as they are (no jsonable call per cell)
WITHHELD = "another member"  # stable token in the JSON; the readable copies translate it


def person_kinds(tables: list[Table]) -> dict[str, Table]:
    """Identity kinds that are people's ids → the table providing them (see the module doc)."""
    internal = {kind for table in tables for kind in table.provides}
    return {
        kind: table
        for table in tables
        for kind in table.provides
        if table.match and not set(table.match.values()) & internal
    }


def person_columns(tables: list[Table], table: Table, schema: Any = None) -> dict[str, str]:
    """column → person kind, for the columns of ``table`` that hold people's ids.

    From the stores file (match columns of a person kind) and, given the database ``schema``,
    from foreign keys pointing at a person kind's providing column.
    """
    kinds = person_kinds(tables)
    found = {column: kind for column, kind in table.match.items() if kind in kinds and kinds[kind] is not table}
    if schema is not None:
        resolved = schema.resolve(table.name)
        for kind, provider in kinds.items():
            target = schema.resolve(provider.name)
            if provider is table or target is None:
                continue
            for fk in schema.references(resolved or ""):
                if fk.ref_table == target and fk.ref_column == provider.provides[kind]:
                    found.setdefault(fk.column, kind)
    return found


def _person_select(
    session: SqlSession, table: Table, subject: Subject, batch: dict[str, list[str]]
) -> tuple[list[str], list[str], list[Any]]:
    """(person columns, extra SELECT expressions, their parameters) for one statement."""

    q = session.q
    columns = person_columns(session.tables, table, session.schema())
    kinds = person_kinds(session.tables)
    names: list[str] = []
    exprs: list[str] = []
    params: list[Any] = []
    for column, kind in sorted(columns.items()):
        provider = kinds[kind]
        one = Table({"name": table.name, "match": {column: kind}})
        mine = session.predicate(one, subject, batch)
        col = f"portal_t.{q(column)}"
        if mine is None:
            exprs.append("0")
        else:
            # Bare column names in the predicate resolve to portal_t (the statement's only table);
            # its subqueries name their own tables.
            exprs.append(f"CASE WHEN {col} IS NULL THEN 0 WHEN ({mine[0]}) THEN 1 ELSE 0 END")
            params.extend(mine[1])
        if provider.shown_as:
            exprs.append(
                f"(SELECT portal_p.{q(provider.shown_as)} FROM {q(provider.name)} portal_p "
                f"WHERE portal_p.{q(provider.provides[kind])} = {col})"
            )
        else:
            exprs.append("NULL")
        names.append(column)
    return names, exprs, params


_NONE_OR_PLAIN = frozenset({type(None), *_PLAIN})
_MINE = object()  # marks the subject's own id in a person column: the key is left out of the record


_NOT_BY_STR = frozenset({type(None), bytes, bytearray, memoryview, dict, list, *_PLAIN})


def _plain(values: Sequence[Any]) -> Sequence[Any]:
    """One column of a chunk as JSON takes it: checked by type set (C speed), converted only if needed
    (a column of dates or decimals, never NULL, by ``str`` as ``jsonable`` would)."""
    kinds = set(map(type, values))
    if kinds <= _NONE_OR_PLAIN:
        return values
    if not kinds & _NOT_BY_STR:
        return list(map(str, values))
    return [v if v is None or type(v) in _PLAIN else jsonable(v) for v in values]


def _person(values: Sequence[Any], mine: Sequence[Any], shown: Sequence[Any]) -> list[Any]:
    """A person column of a chunk: the subject's own id marked ``_MINE``, another person's shown only
    as what ``_person_select`` allows (their ``shown_as`` value), else withheld."""
    return [
        v if v is None else _MINE if m else (jsonable(n) if n not in (None, "") else WITHHELD)
        for v, m, n in zip(values, mine, shown, strict=True)
    ]


def _records(
    rows: Sequence[Sequence[Any]], columns: list[str], people: list[str], position: dict[str, int]
) -> list[dict[str, Any]]:
    """One chunk of exported rows as records, column by column (no per-cell Python call in the usual case).

    Each row is the table's columns, then for each person column (``_person_select``) its (is it
    the subject, what to show) pair. The subject's own id is left out of the record.
    """
    if not rows:
        return []
    width = len(columns)
    by_column = list(zip(*rows, strict=True))
    values: list[Sequence[Any]] = [_plain(by_column[j]) for j in range(width)]
    partly_mine: list[str] = []
    keep = list(range(width))
    for i, name in enumerate(people):
        if name not in position:
            continue
        j = position[name]
        values[j] = _person(values[j], by_column[width + 2 * i], by_column[width + 2 * i + 1])
        if all(v is _MINE for v in values[j]):
            keep.remove(j)  # the subject's own id in every row (owner_id on their photos): left out
        elif any(v is _MINE for v in values[j]):
            partly_mine.append(name)
    names = [columns[j] for j in keep]
    records = [dict(zip(names, row, strict=False)) for row in zip(*(values[j] for j in keep), strict=False)]
    for name in partly_mine:
        for record in records:
            if record[name] is _MINE:
                del record[name]
    return records


def export(session: SqlSession, subject: Subject, sink: ExportSink) -> Outcome:
    """Every table of the store, each read once, in one read-only transaction (see the module doc)."""
    outcome = Outcome(detail={"tables": {}})
    conn = session.conn
    current: list[str] = []
    try:
        # One read-only transaction: PostgreSQL's server-side cursor then needs no WITH HOLD
        # (which would compute the whole result before the first row) and all tables are
        # read from the same moment.
        conn.set_autocommit(False)
        try:
            for table in session.tables:
                current[:] = [table.name]
                count = _export_table(session, subject, table, sink)
                outcome.detail["tables"][table.name] = count
                outcome.exported += count
        finally:
            rollback_quietly(conn)  # read-only: nothing to keep
            autocommit_quietly(conn)
    except (DatabaseError, InterfaceError) as exc:
        raise session.error(exc, "export", current[0] if current else None) from exc
    return outcome


def _export_table(session: SqlSession, subject: Subject, table: Table, sink: ExportSink) -> int:
    """One table's rows into the sink, ``EXPORT_CHUNK`` at a time; returns how many."""
    count = 0
    keys = session.keys(table)
    order = f" ORDER BY {', '.join('portal_t.' + session.q(k) for k in keys)}" if keys else ""
    with sink.records(table.name) as writer:
        for batch in session.batches(subject):
            pred = session.predicate(table, subject, batch)
            if pred is None:
                continue
            people, exprs, extra = _person_select(session, table, subject, batch)
            select = ", ".join(["portal_t.*", *exprs])
            with session.conn.chunked_cursor() as cursor:
                cursor.execute(
                    f"SELECT {select} FROM {session.q(table.name)} portal_t WHERE {pred[0]}{order}",
                    [*extra, *pred[1]],
                )
                width = len(cursor.description) - 2 * len(people)
                columns = [c[0] for c in cursor.description[:width]]
                position = {name: columns.index(name) for name in people if name in columns}
                declare = getattr(writer, "declare", None)
                if declare is not None:
                    declare(columns)  # the package's CSV and HTML rows follow in this pass
                write_many = getattr(writer, "write_many", None)
                while rows := cursor.fetchmany(EXPORT_CHUNK):
                    records = _records(rows, columns, people, position)
                    if write_many is not None:
                        write_many(records)  # a chunk at a time (the staging sink encodes them together)
                    else:
                        for record in records:
                            writer.write(record)
                    count += len(rows)
    return count
