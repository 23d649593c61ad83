"""One line instead of a traceback when a command meets a database that was never migrated.

``erase_subject`` (or any command) on a fresh portal database failed with a traceback ending in
``no such table: requests_app_privacyrequest`` (SQLite) or ``relation "…" does not exist``
(PostgreSQL). ``manage.py`` passes every command's database errors through ``missing_tables``:
a missing table becomes one line saying to run ``manage.py migrate``.
"""

from __future__ import annotations

import re

from django.db import DatabaseError

_MISSING_TABLE = re.compile(r"no such table: (\S+)|relation \"([^\"]+)\" does not exist")


def missing_tables(exc: BaseException) -> str | None:
    """The one-line message for ``exc`` if it (or its cause) is a missing table, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseError):
            match = _MISSING_TABLE.search(str(current))
            if match:
                table = match.group(1) or match.group(2)
                return (
                    f"The portal's database has no table {table}: it has not been set up yet. "
                    "Run `python manage.py migrate` first (make run does it for you)."
                )
        current = current.__cause__ or current.__context__
    return None
