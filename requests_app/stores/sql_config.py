"""The ``sql`` store's configuration: one ``Table`` per [[store.table]], the checks of the
stores file's ``sql`` entries, and the small connection helpers every part of the kind uses.

Checks answer ``[(field, what is wrong), ...]`` with the field's place in the file
(``table[2] (media_photo).match``), as ``check_stores`` prints them.
"""

from __future__ import annotations

import json
import re
from graphlib import CycleError, TopologicalSorter
from typing import Any

from portal.config import env
from requests_app.stores import sql_anonymize
from requests_app.stores.base import CATEGORIES

IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql", "psql", "mysql", "mariadb")
DEFAULT_BATCH = 1000
INT_RE = re.compile(r"^-?[0-9]{1,18}$")
EXPORT_CHUNK = 2000
TABLE_FIELDS = {"name", "key", "match", "provides", "erase", "label", "describe", "category", "columns", "shown_as"}
Problems = list[tuple[str, str]]


class Table:
    """One configured table, validated."""

    def __init__(self, raw: dict[str, Any]):
        self.name: str = raw["name"]
        key = raw.get("key")
        # None: the database's primary key (detected), else "id"
        self.declared_key: list[str] | None = [key] if isinstance(key, str) else (list(key) if key else None)
        self.match: dict[str, str] = dict(raw.get("match", {}))  # column → identity kind
        self.provides: dict[str, str] = dict(raw.get("provides", {}))  # identity kind → column
        self.ignore: str = raw.get("ignore", "")
        self.label: str = raw.get("label", "")
        self.describe: str = raw.get("describe", "")
        self.category: str = raw.get("category", "")
        self.shown_as: str = raw.get("shown_as", "")  # the column other people's rows show instead of the id
        self.columns: dict[str, dict[str, str]] = {
            col: ({"label": meta} if isinstance(meta, str) else dict(meta))
            for col, meta in (raw.get("columns") or {}).items()
        }
        erase = raw.get("erase", "delete")
        self.mode = "anonymize" if isinstance(erase, dict) else erase
        self.anonymize: dict[str, Any] = {}
        self.author: list[str] = []
        if isinstance(erase, dict):
            self.anonymize = {
                col: (None if isinstance(v, dict) and v.get("null") else v)
                for col, v in erase.get("anonymize", {}).items()
            }
            author = erase.get("author")
            declared = [author] if isinstance(author, str) else list(author or [])
            # One match column: the subject wrote every matched row (the file format before author).
            self.author = declared or (list(self.match) if len(self.match) == 1 else [])

    @property
    def content(self) -> dict[str, Any]:
        """Anonymised columns that are not match columns: the words of whoever wrote the row."""
        return {c: v for c, v in self.anonymize.items() if c not in self.match}

    def plans(self) -> list[tuple[str, dict[str, Any]]]:
        """(match column, columns to overwrite where THAT column matched the subject), in match order.

        A match column is cleared only on the rows where it names the subject (the
        sender where they sent, the recipient where they received); content columns
        only where an author column names them. All plans go into one UPDATE per batch.
        """
        out = []
        for column in self.match:
            sets = {column: self.anonymize[column]} if column in self.anonymize else {}
            if column in self.author:
                sets.update(self.content)
            if sets:
                out.append((column, sets))
        return out


def _column_name(value: Any) -> bool:
    """A plain column of the table (no schema prefix)."""
    return isinstance(value, str) and IDENT_RE.match(value) is not None and "." not in value


# --- the store -------------------------------------------------------------------
def store_config_errors(config: dict[str, Any]) -> Problems:
    """What is wrong with one ``kind = "sql"`` store of the stores file."""
    errors: Problems = []
    url = config.get("url")
    if not isinstance(url, str) or not url:
        errors.append(("url", "required: a database URL, e.g. postgres://user:pass@host:5432/app"))
    elif url.split("://", 1)[0] not in SCHEMES:
        errors.append(("url", f"scheme {url.split('://', 1)[0]!r} is not supported; use {', '.join(SCHEMES)}"))
    else:
        try:
            env.db_url_config(url)
        except Exception as exc:
            errors.append(("url", f"cannot be parsed: {type(exc).__name__}"))
    batch = config.get("batch_size", DEFAULT_BATCH)
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 10000:
        errors.append(("batch_size", "a whole number between 1 and 10000"))
    for extra in sorted(set(config) - {"url", "table", "batch_size"}):
        errors.append((extra, "unknown field; expected url, batch_size, table"))
    tables = config.get("table")
    if not isinstance(tables, list) or not tables:
        errors.append(("table", "at least one [[store.table]] is required"))
        return errors
    for i, raw in enumerate(tables):
        errors.extend(table_errors(i, raw))
    return errors or _tables_together_errors(tables)


def _tables_together_errors(tables: list[dict[str, Any]]) -> Problems:
    """The tables as a whole: none listed twice, each kind provided once, no circle of lookups."""
    errors: Problems = []
    names = [t["name"] for t in tables]
    tables = [t for t in tables if "ignore" not in t]
    if not tables:
        return [("table", "every table is ignored; declare at least one with match = { ... }")]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(("table", f"{dup!r} is listed twice; merge its settings into one [[store.table]]"))
    providers: dict[str, str] = {}
    for t in tables:
        for kind in t.get("provides", {}):
            if kind in providers:
                errors.append(
                    (f"table ({t['name']}).provides", f"{kind!r} is already provided by table {providers[kind]!r}")
                )
            providers[kind] = t["name"]
    graph = {
        t["name"]: {providers[k] for k in t["match"].values() if k in providers and providers[k] != t["name"]}
        for t in tables
    }
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        errors.append(("table", f"tables depend on each other in a circle: {' → '.join(exc.args[1])}"))
    return errors


# --- one table -------------------------------------------------------------------
def table_errors(index: int, raw: Any) -> Problems:
    """What is wrong with the ``index``-th [[store.table]]."""
    where = f"table[{index}]"
    if not isinstance(raw, dict):
        return [(where, "must be a table: write [[store.table]] with name = ...")]
    name = raw.get("name")
    if not isinstance(name, str) or not IDENT_RE.match(name):
        return [(f"{where}.name", "required: the table name (letters, digits, _; optional schema.)")]
    where = f"table[{index}] ({name})"
    if "ignore" in raw:
        return _ignored_table_errors(where, raw)
    errors: Problems = [
        (f"{where}.{extra}", f"unknown field; expected one of {', '.join(sorted(TABLE_FIELDS))}")
        for extra in sorted(set(raw) - TABLE_FIELDS)
    ]
    key = raw.get("key", "id")
    keys = key if isinstance(key, list) else [key]
    if not keys or not all(_column_name(k) for k in keys):
        errors.append((f"{where}.key", 'a column name, or a list of them for a composite key: ["a_id", "b_id"]'))
    errors += _words_errors(where, raw)
    errors += _columns_errors(where, raw.get("columns", {}))
    errors += _match_and_provides_errors(where, raw.get("match"), raw.get("provides", {}))
    errors += _erase_errors(where, raw.get("erase", "delete"), raw.get("match"))
    return errors


def _ignored_table_errors(where: str, raw: dict[str, Any]) -> Problems:
    errors: Problems = []
    reason = raw["ignore"]
    if not isinstance(reason, str) or not reason.strip():
        errors.append((f"{where}.ignore", 'say why the table is left out: ignore = "rows are not about people"'))
    for extra in sorted(set(raw) - {"name", "ignore"}):
        errors.append((f"{where}.{extra}", "an ignored table takes only name and ignore"))
    return errors


def _words_errors(where: str, raw: dict[str, Any]) -> Problems:
    """The words for the access package: label, describe, shown_as, category."""
    errors: Problems = []
    for text_field in ("label", "describe"):
        if text_field in raw and (not isinstance(raw[text_field], str) or len(raw[text_field]) > 500):
            errors.append((f"{where}.{text_field}", "a short text (at most 500 characters)"))
    shown_as = raw.get("shown_as")
    if shown_as is not None and not _column_name(shown_as):
        errors.append((f"{where}.shown_as", 'a column of this table, e.g. shown_as = "username"'))
    elif shown_as is not None and not raw.get("provides"):
        errors.append(
            (
                f"{where}.shown_as",
                'only a table that provides an id (provides = { user_id = "id" }) '
                "can name the column shown instead of that id",
            )
        )
    if "category" in raw and (not isinstance(raw["category"], str) or raw["category"] not in CATEGORIES):
        errors.append((f"{where}.category", f"{raw['category']!r}: use one of {', '.join(CATEGORIES)}"))
    return errors


def _columns_errors(where: str, columns: Any) -> Problems:
    if not isinstance(columns, dict):
        return [(f"{where}.columns", '{ column = "label" } or { column = { label = "...", describe = "..." } }')]
    errors: Problems = []
    for col, meta in columns.items():
        ok = isinstance(meta, str) or (
            isinstance(meta, dict)
            and set(meta) <= {"label", "describe", "file"}
            and all(isinstance(v, str) for v in meta.values())
            and (not meta.get("file") or re.match(r"^[a-z0-9_-]+(/[^/].*)?$", meta["file"]) is not None)
        )
        if not _column_name(col) or not ok:
            errors.append(
                (f"{where}.columns.{col}", 'a label, or { label = "...", describe = "...", file = "<store>[/folder]" }')
            )
    return errors


def _match_and_provides_errors(where: str, match: Any, provides: Any) -> Problems:
    errors: Problems = []
    if not isinstance(match, dict) or not match:
        errors.append((f"{where}.match", 'required: { column = "identity kind" }, e.g. { email = "email" }'))
    else:
        for col, kind in match.items():
            if not _column_name(col):
                errors.append((f"{where}.match", f"{col!r} is not a column name"))
            if not isinstance(kind, str) or not KIND_RE.match(kind):
                errors.append((f"{where}.match.{col}", f"{kind!r} is not an identity kind (e.g. email, user_id)"))
    if not isinstance(provides, dict):
        errors.append((f"{where}.provides", '{ identity kind = "column" }, e.g. { user_id = "id" }'))
        return errors
    for kind, col in provides.items():
        if not KIND_RE.match(kind):
            errors.append((f"{where}.provides", f"{kind!r} is not an identity kind (lowercase, digits, _)"))
        if not _column_name(col):
            errors.append((f"{where}.provides.{kind}", f"{col!r} is not a column name"))
    return errors


def _erase_errors(where: str, erase: Any, match: Any) -> Problems:
    if isinstance(erase, str):
        if erase in ("delete", "keep"):
            return []
        return [(f"{where}.erase", f'{erase!r}: use "delete", "keep" or {{ anonymize = {{ column = value }} }}')]
    if not isinstance(erase, dict):
        return [(f"{where}.erase", 'use "delete", "keep" or { anonymize = { column = value } }')]
    anonymize = erase.get("anonymize")
    if not set(erase) <= {"anonymize", "author"} or not isinstance(anonymize, dict) or not anonymize:
        return [
            (
                f"{where}.erase",
                "anonymise needs { anonymize = { column = value, ... } } and, on a table matched "
                'through several columns, author = "column"',
            )
        ]
    errors: Problems = []
    for col, value in anonymize.items():
        if not _column_name(col):
            errors.append((f"{where}.erase.anonymize", f"{col!r} is not a column name"))
        if isinstance(value, dict) and value != {"null": True}:
            errors.append((f"{where}.erase.anonymize.{col}", "a value, or { null = true } for NULL"))
        if isinstance(value, list):
            errors.append((f"{where}.erase.anonymize.{col}", "a single value, not a list"))
    if isinstance(match, dict) and match:
        errors.extend(sql_anonymize.config_errors(where, match, anonymize, erase.get("author")))
    return errors


# --- connections -------------------------------------------------------------------
def mysql_driver() -> None:
    """Django's MySQL backend speaks mysqlclient (``MySQLdb``); without it, use pure-Python PyMySQL.

    mysqlclient needs C headers to build; PyMySQL installs anywhere (``pip install PyMySQL``).
    """
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        try:
            import pymysql  # untyped: [[tool.mypy.overrides]] for pymysql in pyproject.toml
        except ImportError:
            return  # Django's own error then says "Did you install mysqlclient?"
        pymysql.install_as_MySQLdb()


def rollback_quietly(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection may already be gone; the database rolls back
        pass


def autocommit_quietly(conn: Any) -> None:
    try:
        conn.set_autocommit(True)
    except Exception:  # noqa: BLE001, S110 - closing the connection next anyway
        pass


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str))
    return str(value)
