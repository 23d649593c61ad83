"""manage.py draft_stores --url DATABASE_URL --subject-table accounts_user [--out stores.toml]

Reads the database's schema (tables, columns, primary and foreign keys) and
prints a draft ``sql`` store for the stores file: the subject table matched by
its e-mail column, every table reaching it by foreign key with ``match`` and
``provides``, an erase suggestion per table (delete, anonymise, keep by law)
and the columns that look personal. Nothing in the database is changed.
The draft is checked with the same validator as the real file before it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from requests_app.stores import registry
from requests_app.stores.base import StoreError
from requests_app.stores.sql import SqlStore
from requests_app.stores.sql_draft import DraftError, draft
from requests_app.stores.sql_schema import Schema


class Command(BaseCommand):
    help = "Draft the sql store of a stores file from a database's schema (review it before use)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="Database URL, e.g. postgres://user:pass@host/app.")
        parser.add_argument(
            "--subject-table", required=True, help="The table of accounts (people), e.g. accounts_user."
        )
        parser.add_argument("--out", help="Write the draft to this file (default: print it).")
        parser.add_argument("--name", default="app-db", help='The store\'s name (default "app-db").')
        parser.add_argument("--force", action="store_true", help="Overwrite --out if it exists.")

    def handle(
        self,
        *args: Any,
        url: str,
        subject_table: str,
        out: str | None = None,
        name: str = "app-db",
        force: bool = False,
        **options: Any,
    ) -> None:
        target = _checked_arguments(url, name, out, force)
        schema = _schema(url)
        try:
            text = draft(schema, subject_table, url, name)
        except DraftError as exc:
            raise CommandError(str(exc))
        errors = [e for e in registry.parse(text, "draft").errors if "needs identity kind" not in e]
        if errors:  # a bug in the drafter, not the person's fault: say so and show the draft
            self.stdout.write(text)
            raise CommandError("The draft does not validate (please report this):\n" + "\n".join(errors))
        if target is None:
            self.stdout.write(text, ending="")
            return
        target.write_text(text, encoding="utf-8")
        tables = text.count("[[store.table]]")
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {target}: {tables} table(s). Review it, add your files and Azure stores, "
                f"then run manage.py check_stores --file {target}."
            )
        )


def _checked_arguments(url: str, name: str, out: str | None, force: bool) -> Path | None:
    """The file to write (None: print the draft), once --url, --name and --out make sense."""
    problems = [
        message
        for field, message in SqlStore.config_errors(
            {"url": url, "table": [{"name": "x", "match": {"email": "email"}}]}
        )
        if field == "url"
    ]
    if problems:
        raise CommandError(f"--url: {problems[0]}")
    if not registry.NAME_RE.match(name):
        raise CommandError("--name: lowercase letters, digits, - and _")
    target = Path(out) if out else None
    if target is not None:
        if target.is_dir():
            raise CommandError(f"--out: {target} is a folder; give a file name like {target / 'stores.toml'}")
        if not target.parent.exists():
            raise CommandError(f"--out: the folder {target.parent} does not exist")
        if target.exists() and not force:
            raise CommandError(f"--out: {target} exists; use --force to overwrite it")
    return target


def _schema(url: str) -> Schema:
    """The database's tables and links, read through a store with no tables of its own."""
    store = SqlStore("draft", {"url": url, "table": []})
    try:
        with store.connect() as conn:
            schema = store.schema(conn)
    except StoreError as exc:
        raise CommandError(f"--url: {exc}")
    return schema
