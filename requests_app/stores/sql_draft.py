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
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from urllib.parse import urlsplit

from requests_app.stores.sql_anonymize import key_only
from requests_app.stores.sql_schema import Column, Schema

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
LEGAL = re.compile(r"invoice|billing|payment|order|transaction|tax|receipt|ledger|accounting|contract|refund")
SHARED = re.compile(r"comment|post|message|reply|review|thread|answer|forum|topic|chat|note")
FREE_TEXT_NAMES = re.compile(r"(^|_)(body|text|content|message|comment|bio|about|notes?|description|caption)$")
PERSONAL = [
    ("e-mail", re.compile(r"e_?mail")),
    ("phone", re.compile(r"phone|mobile|(^|_)tel($|_)|msisdn|fax")),
    ("IP address", re.compile(r"(^|_)ip($|_)|ip_?addr|remote_addr")),
    ("birth date", re.compile(r"birth|(^|_)dob($|_)")),
    ("address", re.compile(r"address|street|city|(^|_)zip|postal|postcode")),
    ("name", re.compile(r"(^|_)(first|last|full|given|family|display|user|real|nick|author|sur)?_?name$")),
    ("location", re.compile(r"(^|_)(lat|lng|lon|latitude|longitude|geo|location)($|_)")),
]
CATEGORY_HINTS = [
    ("biometric", re.compile(r"face|biometric|fingerprint|embedding|voiceprint")),
    ("voice", re.compile(r"voice|audio|recording|speech")),
    ("photos", re.compile(r"photo|image|picture|avatar|media|video")),
    ("content", SHARED),
    ("activity", re.compile(r"log|event|session|login|activity|history|view|visit|follow|like|vote|block")),
    ("contact", re.compile(r"user|account|profile|address|contact|customer|member|newsletter|person")),
]
BLOB_HINT = re.compile(r"blob|(^|_)path$|file_?name|storage_key")
# The column of a two-party row (a message) that names who wrote it; the other names who received it.
AUTHOR_HINT = re.compile(r"(^|_)(sender|from|author|writer|poster|creator|created_by|posted_by|sent_by|owner)(_|$)")


class DraftError(Exception):
    """A reason the draft cannot be made, written for the person at the terminal."""


@dataclass
class DraftTable:
    name: str
    depth: int
    match: dict[str, str] = field(default_factory=dict)  # column → identity kind
    provides: dict[str, str] = field(default_factory=dict)  # kind → column
    erase: str = ""  # TOML value, empty for the default (delete)
    comments: list[str] = field(default_factory=list)
    category: str = ""


def personal_columns(columns: list[Column]) -> list[str]:
    flagged = []
    for column in columns:
        lowered = column.name.lower()
        what = next((label for label, pattern in PERSONAL if pattern.search(lowered)), None)
        if (
            what is None
            and column.family == "text"
            and ("text" in column.type.lower() or FREE_TEXT_NAMES.search(lowered))
        ):
            what = "free text"
        if what:
            flagged.append(f"{column.name} ({what})")
    return flagged


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _inline(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{key} = {_toml(value)}" for key, value in mapping.items()) + " }"


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
    _add_tables_found_by_email(schema, tables, subject)
    # Parents before children: a child's match may drop the link through an anonymised parent.
    for name in TopologicalSorter({name: depends.get(name, set()) for name in tables}).static_order():
        if name != subject:
            _suggest_erase(schema, tables[name], tables)
    _drop_unused_provides(tables)
    for table in tables.values():
        _annotate(schema, table)
    return _render(schema, tables, subject, email, url, store_name)


def _subject_and_email(schema: Schema, subject_table: str) -> tuple[str, str]:
    """The subject table as the database names it, and its e-mail column."""
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
    """Breadth-first along foreign keys pointing *at* reached tables: who hangs off the account."""
    depth = {subject: 0}
    queue = [subject]
    while queue:
        parent = queue.pop(0)
        for fk in sorted(schema.referencing(parent), key=lambda f: (f.table, f.column)):
            if fk.table not in depth and IDENT.match(fk.table):
                depth[fk.table] = depth[parent] + 1
                queue.append(fk.table)
    return depth


class _Kinds:
    """One identity kind per providing column (``photo_id``, ``user_email``), each name used once."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.kinds: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()

    def of(self, table: str, column: str) -> str:
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
    """Match each reached table through its foreign keys; returns table → tables it matches through."""
    kinds = _Kinds(schema)
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
        kind = kinds.of(fk.ref_table, fk.ref_column)
        child.match[fk.column] = kind
        referenced.provides[kind] = fk.ref_column
        depends[fk.table].add(fk.ref_table)
    return depends


def _add_tables_found_by_email(schema: Schema, tables: dict[str, DraftTable], subject: str) -> None:
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
    """Comments a reviewer needs (personal-looking columns, file names, no key) and a category guess."""
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
    schema: Schema, tables: dict[str, DraftTable], subject: str, email: str, url: str, store_name: str
) -> str:
    file_url, url_note = url_for_file(url)
    out = [
        f"# Drafted by manage.py draft_stores from the schema of {_safe_url(url)}.",
        "# A draft: read every table, check each erase choice against your privacy policy,",
        "# then run manage.py check_stores. Reference: docs/stores.md.",
        f"# Subject table: {subject} (found by its e-mail column {email}).",
        "",
        "[[store]]",
        f"name = {_toml(store_name)}",
        'kind = "sql"',
        f"url = {_toml(file_url)}" + (f"  # {url_note}" if url_note else ""),
    ]
    for table in sorted(tables.values(), key=lambda t: (t.depth, t.name)):
        out.append("")
        out.extend(f"  # {comment}" for comment in table.comments)
        out.append("  [[store.table]]")
        out.append(f"  name = {_toml(table.name)}")
        if table.category:
            out.append(f"  category = {_toml(table.category)}")
        out.append(f"  match = {_inline(table.match)}")
        if table.provides:
            out.append(f"  provides = {_inline(table.provides)}")
        if table.erase:
            out.append(f"  erase = {table.erase}")
    left = sorted(name for name in schema.columns if name not in tables)
    if left:
        out.append("")
        out.append(f"# Not listed (no link to {subject} found); if one holds personal data, add it,")
        out.append('# otherwise nothing is needed (or add it with ignore = "why"):')
        out.extend(f"#   {name}" for name in left)
    return "\n".join(out) + "\n"


def _provider(tables: dict[str, DraftTable], kind: str) -> DraftTable | None:
    return next((t for t in tables.values() if kind in t.provides), None)


def _drop_links_through_kept_rows(table: DraftTable, tables: dict[str, DraftTable]) -> None:
    """A row with its own link to a person (post_likes.member_id) that also points at a row that
    stays anonymised (a post) is the linking person's: matching it through the post would erase
    another person's like. The link through the anonymised parent is dropped from match."""
    if len(table.match) < 2:
        return
    for column, kind in list(table.match.items()):
        parent = _provider(tables, kind)
        others = [c for c in table.match if c != column]
        if parent is None or not parent.erase.startswith("{ anonymize") or not others:
            continue
        del table.match[column]
        table.comments.append(
            f"{column} is not used to match: {parent.name} rows are anonymised, not deleted, so a row "
            f"here pointing at the person's {parent.name} row belongs to whoever {', '.join(others)} names "
            "and stays"
        )


def _drop_unused_provides(tables: dict[str, DraftTable]) -> None:
    used = {kind for t in tables.values() for kind in t.match.values()}
    for table in tables.values():
        for kind in [k for k in table.provides if k not in used]:
            del table.provides[kind]


def _suggest_erase(schema: Schema, table: DraftTable, tables: dict[str, DraftTable]) -> None:
    _drop_links_through_kept_rows(table, tables)
    lowered = table.name.lower()
    link_columns = [c for c in table.match if table.match[c] != "email"]
    primary = set(schema.primary_keys.get(table.name, []))
    nullable = all(
        (column := schema.column(table.name, c)) is not None and column.nullable and c not in primary
        for c in link_columns
    )
    if key_only(schema, table.name, primary) and not LEGAL.search(lowered):
        both = ", in both directions" if len(table.match) > 1 else ""
        table.comments.append(
            f"only keys (links between people or things): the rows that match the person are deleted{both}; "
            "a key is never anonymised, and other people's own links stay"
        )
        return
    if LEGAL.search(lowered):
        table.category = table.category or "other"
        if link_columns and nullable:
            table.erase = "{ anonymize = " + _inline(dict.fromkeys(link_columns, "__NULL__")) + " }"
            table.comments.append(
                "kept by law (invoices, orders, payments: tax and accounting rules): the record stays, "
                'its link to the person is cut; say so in your privacy policy. Use erase = "keep" to keep '
                "the link too (then the rows it points to cannot be deleted)"
            )
        else:
            table.erase = '"keep"'
            table.comments.append(
                "kept by law (invoices, orders, payments: tax and accounting rules): exported, never "
                "erased; say so in your privacy policy"
            )
            if link_columns:
                table.comments.append(
                    f"WARNING: {', '.join(link_columns)} cannot be NULL, so deleting the rows it points "
                    "to will fail; allow NULL there and anonymise it, or keep those rows too"
                )
    elif SHARED.search(lowered) and not key_only(schema, table.name, primary):
        _suggest_shared(schema, table, link_columns, nullable, primary)
    elif len(table.match) > 1 and len(schema.columns[table.name]) <= len(table.match) + 2:
        table.comments.append("links between people or things: deleted in both directions")
    else:
        table.comments.append("the person's own rows: deleted")
    table.erase = table.erase.replace('"__NULL__"', "{ null = true }")


def _suggest_shared(
    schema: Schema, table: DraftTable, link_columns: list[str], nullable: bool, primary: set[str]
) -> None:
    """Rows other people need (comments, posts, messages): cut the person's link, blank their words.

    Matched through one column, the person wrote every matched row. Matched through
    several (sender, recipient), each link is cleared only where it names the person,
    and the words only where the author column does; with no recognisable author
    column the words are left alone and the comment says how to add them.
    """
    if link_columns and not nullable:
        table.comments.append(
            "other people may need these rows (threads), but anonymising needs "
            f"{', '.join(link_columns)} to allow NULL (and not be part of the primary key): the draft deletes them"
        )
        return
    overwrite: dict[str, str] = dict.fromkeys(link_columns, "__NULL__")
    for name in table.match:  # matched by e-mail: the address goes (empty where NULL is not allowed)
        column = schema.column(table.name, name)
        if name not in overwrite and column is not None and name not in primary:
            overwrite[name] = "__NULL__" if column.nullable else ""
    content = _words_to_blank(schema, table, overwrite, primary)
    author = ""
    if len(table.match) > 1:
        authors = [c for c in link_columns if AUTHOR_HINT.search(c.lower())]
        author = authors[0] if len(authors) == 1 else ""
        if content and not author:
            table.comments.append(
                f"WARNING: {', '.join(content)} not anonymised: no match column looks like the writer's "
                f'({", ".join(table.match)}); add them to anonymize with author = "<that column>" so they '
                "are overwritten only on rows the person wrote"
            )
            content = {}
    overwrite.update(content)
    if not overwrite:
        table.comments.append("the person's own rows: deleted")
        return
    if author:
        table.erase = "{ anonymize = " + _inline(overwrite) + f", author = {_toml(author)} }}"
        table.comments.append(
            f"shared by two people: each of {', '.join(link_columns)} is cleared only on the rows where it "
            f"names the person; {', '.join(content)} only where {author} does (what they wrote). "
            "The other person's part of each row stays as it is"
        )
    elif len(table.match) > 1:
        table.erase = "{ anonymize = " + _inline(overwrite) + " }"
        table.comments.append(
            f"shared by two people: each of {', '.join(link_columns)} is cleared only on the rows where it "
            "names the person; the other person's part of each row stays as it is"
        )
    else:
        table.erase = "{ anonymize = " + _inline(overwrite) + " }"
        table.comments.append(
            "other people need these rows (replies, threads): they stay, but nothing in them points to "
            "the person any more"
        )


def _words_to_blank(
    schema: Schema, table: DraftTable, overwrite: dict[str, str], primary: set[str]
) -> dict[str, str]:
    """Text columns holding the person's words or contact details: column → what replaces them."""
    content: dict[str, str] = {}
    for column in schema.columns[table.name]:
        name = column.name.lower()
        if column.name in overwrite or column.name in table.match or column.name in primary or column.family != "text":
            continue
        if PERSONAL[5][1].search(name) or "email" in name:
            content[column.name] = "__NULL__" if column.nullable else ""
        elif FREE_TEXT_NAMES.search(name):
            content[column.name] = "[deleted]"
    return content


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
