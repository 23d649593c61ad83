"""A drafted table of ``manage.py draft_stores`` and the erase choice suggested for it.

``sql_draft`` finds the tables that reach the subject and writes the file; this module decides, table
by table, whether the person's rows are deleted, anonymised (shared rows: comments, messages) or kept
(records kept by law), as the ``sql_draft`` module documentation describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from requests_app.stores.sql_anonymize import key_only
from requests_app.stores.sql_schema import Column, Schema

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
# The column of a two-party row (a message) that names who wrote it; the other names who received it.
AUTHOR_HINT = re.compile(r"(^|_)(sender|from|author|writer|poster|creator|created_by|posted_by|sent_by|owner)(_|$)")


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


def toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def inline_table(mapping: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{key} = {toml_string(value)}" for key, value in mapping.items()) + " }"


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


def drop_unused_provides(tables: dict[str, DraftTable]) -> None:
    used = {kind for t in tables.values() for kind in t.match.values()}
    for table in tables.values():
        for kind in [k for k in table.provides if k not in used]:
            del table.provides[kind]


def suggest_erase(schema: Schema, table: DraftTable, tables: dict[str, DraftTable]) -> None:
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
            table.erase = "{ anonymize = " + inline_table(dict.fromkeys(link_columns, "__NULL__")) + " }"
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


def _words(schema: Schema, table: DraftTable, *, skip: set[str]) -> dict[str, str]:
    """The person's words in a shared row: names and e-mails emptied, free text replaced (column → value)."""
    content: dict[str, str] = {}
    for column in schema.columns[table.name]:
        name = column.name.lower()
        if column.name in skip or column.family != "text":
            continue
        if PERSONAL[5][1].search(name) or "email" in name:
            content[column.name] = "__NULL__" if column.nullable else ""
        elif FREE_TEXT_NAMES.search(name):
            content[column.name] = "[deleted]"
    return content


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
    content = _words(schema, table, skip=set(overwrite) | set(table.match) | primary)
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
        table.erase = "{ anonymize = " + inline_table(overwrite) + f", author = {toml_string(author)} }}"
        table.comments.append(
            f"shared by two people: each of {', '.join(link_columns)} is cleared only on the rows where it "
            f"names the person; {', '.join(content)} only where {author} does (what they wrote). "
            "The other person's part of each row stays as it is"
        )
    elif len(table.match) > 1:
        table.erase = "{ anonymize = " + inline_table(overwrite) + " }"
        table.comments.append(
            f"shared by two people: each of {', '.join(link_columns)} is cleared only on the rows where it "
            "names the person; the other person's part of each row stays as it is"
        )
    else:
        table.erase = "{ anonymize = " + inline_table(overwrite) + " }"
        table.comments.append(
            "other people need these rows (replies, threads): they stay, but nothing in them points to "
            "the person any more"
        )
