"""Draft the ``sql`` part of a stores file from a database's schema (``manage.py draft_stores``).

Starting from the subject table (the accounts), every table that reaches it
through foreign keys is listed with ``match`` and ``provides``, an erase
suggestion and a comment naming the columns that look personal:

- **delete** the person's own rows (profiles, photos, logs) and tables made
  only of keys (likes, follows): a key is never anonymised;
- **anonymise** rows other people need (comments, posts, messages): the link to
  the person and their name go, the thread stays. A row shared by two people
  (sender, recipient) loses each link only where it names the person, and the
  words only where the author column does;
- **keep** records kept by law (invoices, orders, payments): exported, not
  erased; where the link to the person can be NULL, it is cut instead so the
  account itself can still be deleted.

Tables with an e-mail column but no foreign key path are matched by e-mail.
The draft is a starting point for a person to review, never a finished file:
it says so at the top.
"""

from __future__ import annotations

import re
from graphlib import TopologicalSorter
from urllib.parse import urlsplit

from requests_app.stores.sql_draft_erase import (
    SHARED,
    DraftTable,
    drop_unused_provides,
    inline_table,
    personal_columns,
    suggest_erase,
    toml_string,
)
from requests_app.stores.sql_schema import Schema

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
CATEGORY_HINTS = [
    ("biometric", re.compile(r"face|biometric|fingerprint|embedding|voiceprint")),
    ("voice", re.compile(r"voice|audio|recording|speech")),
    ("photos", re.compile(r"photo|image|picture|avatar|media|video")),
    ("content", SHARED),
    ("activity", re.compile(r"log|event|session|login|activity|history|view|visit|follow|like|vote|block")),
    ("contact", re.compile(r"user|account|profile|address|contact|customer|member|newsletter|person")),
]
BLOB_HINT = re.compile(r"blob|(^|_)path$|file_?name|storage_key")


class DraftError(Exception):
    """A reason the draft cannot be made, written for the person at the terminal."""


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def url_for_file(url: str) -> tuple[str, str]:
    """The URL to write into the file: as given unless it holds a password (then ${APP_DATABASE_URL})."""
    if urlsplit(url).password:
        return "${APP_DATABASE_URL}", "set APP_DATABASE_URL to the database URL (it holds a password)"
    return url, ""


def draft(schema: Schema, subject_table: str, url: str, store_name: str = "app-db") -> str:
    subject, email = _subject_and_email(schema, subject_table)
    depth = _reached(schema, subject)
    tables = {name: DraftTable(name, d) for name, d in depth.items()}
    tables[subject].match[email] = "email"
    tables[subject].category = "contact"
    depends = _link(schema, tables, depth)
    _add_found_by_email(schema, tables, subject)
    # Parents before children: a child's match may drop the link through an anonymised parent.
    for name in TopologicalSorter({name: depends.get(name, set()) for name in tables}).static_order():
        if name != subject:
            suggest_erase(schema, tables[name], tables)
    drop_unused_provides(tables)
    for table in tables.values():
        _annotate(schema, table)
    return _render(schema, tables, subject=subject, email=email, url=url, store_name=store_name)


def _subject_and_email(schema: Schema, subject_table: str) -> tuple[str, str]:
    """The subject table as the schema names it, and its e-mail column (an exact "email" first)."""
    subject = schema.resolve(subject_table)
    if subject is None:
        known = ", ".join(sorted(schema.columns)[:40]) or "none"
        raise DraftError(f"--subject-table: there is no table {subject_table!r} in this database; it has: {known}")
    columns = schema.columns[subject]
    email = next((c.name for c in columns if c.name.lower() == "email" and c.family == "text"), None) or next(
        (c.name for c in columns if "email" in c.name.lower() and c.family == "text"), None
    )
    if email is None:
        raise DraftError(
            f"--subject-table: {subject} has no e-mail column (a text column whose name contains "
            f"'email'); its columns are {', '.join(c.name for c in columns)}"
        )
    return subject, email


def _reached(schema: Schema, subject: str) -> dict[str, int]:
    """Breadth-first along foreign keys pointing *at* reached tables: who hangs off the account (table → depth)."""
    depth = {subject: 0}
    queue = [subject]
    while queue:
        parent = queue.pop(0)
        for fk in sorted(schema.referencing(parent), key=lambda f: (f.table, f.column)):
            if fk.table not in depth and IDENT.match(fk.table):
                depth[fk.table] = depth[parent] + 1
                queue.append(fk.table)
    return depth


class _KindNames:
    """Identity kind names for referenced key columns: ``user_id`` for the key of ``auth_user``, unique."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.kinds: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()

    def __call__(self, table: str, column: str) -> str:
        if (table, column) in self.kinds:
            return self.kinds[(table, column)]
        key = self.schema.primary_keys.get(table, [])
        base = _singular(table.split(".")[-1].split("_")[-1].lower())
        kind = f"{base}_id" if key == [column] else f"{base}_{column.lower()}"
        if kind in self.used or kind == "email" or not re.match(r"^[a-z][a-z0-9_]*$", kind):
            kind = re.sub(r"[^a-z0-9_]", "_", f"{table.split('.')[-1].lower()}_{column.lower()}")
        self.kinds[(table, column)] = kind
        self.used.add(kind)
        return kind


def _reaches(depends: dict[str, set[str]], start: str, goal: str) -> bool:
    """Whether ``start`` already matches through ``goal``, directly or by way of other tables."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(depends.get(node, ()))
    return False


def _link(schema: Schema, tables: dict[str, DraftTable], depth: dict[str, int]) -> dict[str, set[str]]:
    """Match each table through its foreign keys to reached tables, nearest to the subject first;
    the tables each one matches through (no circles)."""
    kind_for = _KindNames(schema)
    depends: dict[str, set[str]] = {name: set() for name in tables}
    links = [fk for fk in schema.foreign_keys if fk.table in tables and fk.ref_table in tables]
    for fk in sorted(links, key=lambda f: (depth[f.ref_table], f.table, f.column)):
        child, referenced = tables[fk.table], tables[fk.ref_table]
        if fk.table == fk.ref_table:
            child.comments.append(f"{fk.column} points to another row of this table: not used to match")
            continue
        if _reaches(depends, fk.ref_table, fk.table):
            child.comments.append(f"{fk} is not used to match (it would make the tables depend in a circle)")
            continue
        kind = kind_for(fk.ref_table, fk.ref_column)
        child.match[fk.column] = kind
        referenced.provides[kind] = fk.ref_column
        depends[fk.table].add(fk.ref_table)
    return depends


def _add_found_by_email(schema: Schema, tables: dict[str, DraftTable], subject: str) -> None:
    """Tables with no foreign-key path but an e-mail column: found by the e-mail."""
    for name, cols in sorted(schema.columns.items()):
        if name in tables or not IDENT.match(name):
            continue
        found = next((c.name for c in cols if "email" in c.name.lower() and c.family == "text"), None)
        if found:
            extra = DraftTable(name, 99, match={found: "email"})
            extra.comments.append(f"no foreign key to {subject}; found by its e-mail column {found}")
            tables[name] = extra


def _annotate(schema: Schema, table: DraftTable) -> None:
    """Comments for the reviewer (personal-looking columns, file names, no key) and a guessed category."""
    cols = schema.columns[table.name]
    flagged = personal_columns(cols)
    if flagged:
        table.comments.append("personal-looking columns: " + ", ".join(flagged))
    blobs = [c.name for c in cols if BLOB_HINT.search(c.name.lower()) and c.family == "text"]
    if blobs:
        table.comments.append(
            f'provides = {{ blob_name = "{blobs[0]}" }} if an azure_blob or files store holds these files'
        )
    if not table.category:
        lowered = table.name.lower()
        table.category = next((c for c, pattern in CATEGORY_HINTS if pattern.search(lowered)), "")
    if not schema.primary_keys.get(table.name) and not schema.column(table.name, "id"):
        table.comments.append('no primary key: export is unordered; set key = "column" for retention')


def _render(
    schema: Schema, tables: dict[str, DraftTable], *, subject: str, email: str, url: str, store_name: str
) -> str:
    """The stores-file text of the draft: the store, its tables nearest first, then what was left out."""
    file_url, url_note = url_for_file(url)
    out = [
        f"# Drafted by manage.py draft_stores from the schema of {_safe_url(url)}.",
        "# A draft: read every table, check each erase choice against your privacy policy,",
        "# then run manage.py check_stores. Reference: docs/stores.md.",
        f"# Subject table: {subject} (found by its e-mail column {email}).",
        "",
        "[[store]]",
        f"name = {toml_string(store_name)}",
        'kind = "sql"',
        f"url = {toml_string(file_url)}" + (f"  # {url_note}" if url_note else ""),
    ]
    for table in sorted(tables.values(), key=lambda t: (t.depth, t.name)):
        out.append("")
        out.extend(f"  # {comment}" for comment in table.comments)
        out.append("  [[store.table]]")
        out.append(f"  name = {toml_string(table.name)}")
        if table.category:
            out.append(f"  category = {toml_string(table.category)}")
        out.append(f"  match = {inline_table(table.match)}")
        if table.provides:
            out.append(f"  provides = {inline_table(table.provides)}")
        if table.erase:
            out.append(f"  erase = {table.erase}")
    left = sorted(name for name in schema.columns if name not in tables)
    if left:
        out.append("")
        out.append(f"# Not listed (no link to {subject} found); if one holds personal data, add it,")
        out.append('# otherwise nothing is needed (or add it with ignore = "why"):')
        out.extend(f"#   {name}" for name in left)
    return "\n".join(out) + "\n"


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
