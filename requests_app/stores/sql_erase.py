"""The ``sql`` store's erasure: one transaction per store, children before parents.

Deleting tables delete the subject's rows; anonymising tables overwrite, per match
column, only the rows where that column names the subject (one UPDATE with a CASE
per column). A foreign-key failure rolls everything back and names the tables that
blocked it. ``erase_older_than`` runs the operator's retention policies.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, IntegrityError, InterfaceError

from requests_app.stores.base import Outcome, PermanentStoreError, Subject
from requests_app.stores.sql_config import Table, autocommit_quietly, rollback_quietly
from requests_app.stores.sql_coverage import Gap, gap_rows
from requests_app.stores.sql_session import SqlSession


def pending(
    session: SqlSession, table: Table, subject: Subject, batch: dict[str, list[str]]
) -> tuple[str, list[Any]] | None:
    """Rows an erasure of ``table`` would still change: per match column, the rows where that
    column names the subject and one of the columns its plan overwrites still differs."""
    parts: list[str] = []
    params: list[Any] = []
    for column, sets in table.plans():
        pred = session.predicate(table, subject, batch, only=column)
        if pred is not None:
            sql, values = not_anonymised(session, sets, *pred)
            parts.append(f"({sql})")
            params.extend(values)
    return (" OR ".join(parts), params) if parts else None


def anonymise_update(
    session: SqlSession, table: Table, subject: Subject, batch: dict[str, list[str]]
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
        pred = session.predicate(table, subject, batch, only=column)
        if pred is not None:
            for target in sets:
                conditions.setdefault(target, []).append(pred)
    still = pending(session, table, subject, batch)
    if still is None or not conditions:
        return None
    assignments: list[str] = []
    params: list[Any] = []
    for column in sorted(conditions, key=lambda c: c in table.match):
        col = session.q(column)
        when = " OR ".join(f"({sql})" for sql, _ in conditions[column])
        assignments.append(f"{col} = CASE WHEN {when} THEN %s ELSE {col} END")
        params.extend(value for _, values in conditions[column] for value in values)
        params.append(table.anonymize.get(column))
    return (
        f"UPDATE {session.q(table.name)} SET {', '.join(assignments)} WHERE {still[0]}",
        params + still[1],
    )


def not_anonymised(session: SqlSession, sets: dict[str, Any], sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    vendor = session.vendor
    checks = []
    extra: list[Any] = []
    for column, value in sets.items():
        col = session.q(column)
        if vendor == "postgresql":
            checks.append(f"{col} IS DISTINCT FROM %s" if value is not None else f"{col} IS NOT NULL")
        elif vendor == "mysql":
            checks.append(f"NOT ({col} <=> %s)" if value is not None else f"{col} IS NOT NULL")
        else:
            checks.append(f"{col} IS NOT %s" if value is not None else f"{col} IS NOT NULL")
        if value is not None:
            extra.append(value)
    return f"({sql}) AND ({' OR '.join(checks)})", params + extra


def erase(session: SqlSession, subject: Subject) -> Outcome:
    """One transaction: each table's statement (one per identity batch) in the erase order."""
    outcome = Outcome(detail={"tables": {}, "statements": 0})
    order = session.erase_order()
    problems = session.anonymize_problems()
    if problems:  # refused before any statement: nothing of anyone's is changed
        raise PermanentStoreError("erasure refused, nothing was changed: " + "; ".join(problems))
    conn = session.conn
    current: list[Table] = []  # the table being erased, for the error
    conn.set_autocommit(False)
    try:
        with conn.cursor() as cursor:
            for table in order:
                current[:] = [table]
                if table.mode != "keep":
                    _erase_table(session, cursor, subject, table, outcome)
        conn.commit()
    except BaseException as exc:
        rollback_quietly(conn)
        autocommit_quietly(conn)
        failure = _failure(session, subject, exc, current[0] if current else None)
        if failure is exc:
            raise
        raise failure from exc
    finally:
        autocommit_quietly(conn)
    return outcome


def _failure(session: SqlSession, subject: Subject, exc: BaseException, failed: Table | None) -> BaseException:
    """What to raise after a rolled-back erasure: who blocked it, the database's error, or ``exc``."""
    name = failed.name if failed else None
    if isinstance(exc, IntegrityError):
        why = blockers(session, subject, failed) if failed else []
        if why:
            return PermanentStoreError(
                f'store "{session.name}": erasure stopped and rolled back, nothing was changed: ' + "; ".join(why)
            )
    if isinstance(exc, DatabaseError | InterfaceError):
        return session.error(exc, "erasure", name)
    return exc


def _erase_table(session: SqlSession, cursor: Any, subject: Subject, table: Table, outcome: Outcome) -> None:
    """Delete or anonymise the subject's rows of one table, one statement per identity batch."""
    affected = 0
    for batch in session.batches(subject):
        if table.mode == "delete":
            pred = session.predicate(table, subject, batch)
            statement = (f"DELETE FROM {session.q(table.name)} WHERE {pred[0]}", pred[1]) if pred else None
        else:
            statement = anonymise_update(session, table, subject, batch)
        if statement is None:
            continue
        cursor.execute(*statement)
        outcome.detail["statements"] += 1
        affected += max(cursor.rowcount, 0)
    outcome.detail["tables"][table.name] = {"mode": table.mode, "rows": affected}
    if table.mode == "delete":
        outcome.erased += affected
    else:
        outcome.anonymised += affected


def blockers(session: SqlSession, subject: Subject, failed: Table) -> list[str]:
    """Why deleting ``failed``'s rows hit a foreign key: the tables whose rows still point at them.

    Asked after the rollback, so the counts are of rows that exist. A declared
    table blocks when it is kept, or anonymised without clearing the key.
    """
    schema = session.schema()
    parent = schema.resolve(failed.name)
    declared = {schema.resolve(t.name): t for t in session.tables + session.ignored}
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
            rows = gap_rows(session, subject, gap)
        except (DatabaseError, InterfaceError):
            rows = -1
        if rows == 0:
            continue
        count = f"{rows} of its rows" if rows > 0 else "its rows"
        if table is None:
            found.append(
                f'table "{fk.table}" is not declared in the stores file and {count} reference the '
                f'{parent} rows being deleted ({fk}); declare it (erase = "delete", "keep" or '
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


def erase_older_than(session: SqlSession, table_name: str, column: str, cutoff: Any) -> int:
    """Retention: delete rows of one configured table whose ``column`` is older than ``cutoff``.

    Batched by primary key (one DELETE per batch), each batch committed.
    """
    table = next((t for t in session.tables if t.name == table_name), None)
    if table is None:
        raise PermanentStoreError(
            f'store "{session.name}": retention names table "{table_name}", which is not configured in this store'
        )
    deleted = 0
    q = session.q
    try:
        with session.conn.cursor() as cursor:
            key_columns = session.keys(table)
            if not key_columns:
                raise PermanentStoreError(
                    f'store "{session.name}": table "{table.name}" has no primary key; set key = "column" '
                    "(or a list of columns) so retention can delete it in batches"
                )
            qt, qc = q(table.name), q(column)
            qk = ", ".join(q(k) for k in key_columns)
            # One column: k IN (...); a composite key: (a, b) IN ((..), (..)) — row values.
            target = qk if len(key_columns) == 1 else f"({qk})"
            one = "%s" if len(key_columns) == 1 else f"({', '.join(['%s'] * len(key_columns))})"
            while True:
                cursor.execute(f"SELECT {qk} FROM {qt} WHERE {qc} < %s ORDER BY {qk}", [cutoff])
                rows = cursor.fetchmany(session.batch_size)
                if not rows:
                    break
                params = [value for row in rows for value in row]
                cursor.execute(f"DELETE FROM {qt} WHERE {target} IN ({', '.join([one] * len(rows))})", params)
                deleted += max(cursor.rowcount, 0)
    except (DatabaseError, InterfaceError) as exc:
        raise session.error(exc, "retention", table_name) from exc
    return deleted
