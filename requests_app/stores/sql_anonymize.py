"""Rules that keep an ``sql`` store's anonymise to the subject's part of a row (issue 20).

A row can belong to two people: a message from Ben to Ann. Erasing Ann must
clear her link and her words and leave Ben's part as it was. So (docs/stores.md,
"Rows shared by two people"):

- a match column is cleared only on the rows where *it* names the subject;
- other anonymised columns (text, names) only where the ``author`` column does
  — on a table matched through one column, that column is the author;
- a primary-key column is never overwritten, and a table made only of keys (a
  like, a follow) is never anonymised: its matching rows are deleted instead.

``config_errors`` checks the file alone (the registry, ``check_stores
--no-connect``); ``schema_problems`` needs the database's keys and runs in
``check_stores`` and before every erasure, so nothing is changed when it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from requests_app.stores.sql_schema import Schema


class AnonymisedTable(Protocol):
    name: str
    mode: str
    anonymize: dict[str, Any]


def key_only(schema: Schema, table: str, keys: Iterable[str]) -> bool:
    """Every column is part of the key or a foreign key: a link (a like, a follow), nothing else."""
    linked = set(keys) | {fk.column for fk in schema.references(table)}
    return all(column.name in linked for column in schema.columns.get(table, []))


def config_errors(where: str, match: dict[str, Any], anonymize: dict[str, Any], author: Any) -> list[tuple[str, str]]:
    """(field, message) for an anonymize that could touch another person's part of a row."""
    authors = [author] if isinstance(author, str) else author
    if author is not None and (
        not isinstance(authors, list) or not authors or not all(isinstance(a, str) for a in authors)
    ):
        return [(f"{where}.erase.author", 'a match column, or a list of them: author = "sender_id"')]
    authors = authors or []
    errors = [
        (
            f"{where}.erase.author",
            f"{column!r} is not one of the match columns ({', '.join(match)}); name the match column "
            "that holds the person who wrote the row",
        )
        for column in authors
        if column not in match
    ]
    if errors or len(match) < 2:
        return errors
    content = [c for c in anonymize if c not in match]
    if content and not authors:
        errors.append(
            (
                f"{where}.erase",
                f"rows are matched through {' or '.join(match)}, so overwriting {', '.join(content)} on every "
                "matched row would erase other people's words too (a message the person received). Add "
                f'author = "{next(iter(match))}" (the match column naming who wrote the row): '
                f"{', '.join(content)} would then be overwritten only on rows the person wrote",
            )
        )
    for column in match:
        if column not in anonymize and not (column in authors and content):
            errors.append(
                (
                    f"{where}.erase.anonymize",
                    f"{column} matches the person but is not anonymised: rows where only {column} names "
                    f"them would keep pointing to them; add {column} = {{ null = true }} (or a value), "
                    'or use erase = "delete"',
                )
            )
    return errors


def schema_problems(
    store: str,
    tables: Iterable[AnonymisedTable],
    schema: Schema,
    keys_of: Callable[[Any], list[str]],
) -> list[str]:
    """One sentence per anonymised table that would overwrite a key, or is made only of keys.

    A key column identifies the row: overwriting it merges or orphans rows (and
    PostgreSQL refuses NULL there). A table of keys only has nothing left to keep
    once the link is cut, and its other key is someone else's link.
    """
    problems: list[str] = []
    for table in tables:
        resolved = schema.resolve(table.name)
        if table.mode != "anonymize" or resolved is None:
            continue
        where = f'store "{store}", table "{table.name}"'
        keys = keys_of(table)
        if key_only(schema, resolved, keys):
            columns = ", ".join(c.name for c in schema.columns[resolved])
            problems.append(
                f"{where}: every column ({columns}) is part of a key, so anonymising leaves nothing but a "
                'broken link and would overwrite other people\'s links too; use erase = "delete" (only the '
                "rows that match the person are deleted)"
            )
            continue
        problems.extend(
            f"{where}: anonymize would overwrite column {column}, part of the primary key ({', '.join(keys)}); "
            "a key identifies the row and is never overwritten: remove "
            f'{column} from anonymize, or use erase = "delete"'
            for column in table.anonymize
            if column in keys
        )
    return problems
