"""Fixtures of the demo host app (``requests_app.demo``) for the engine tests, on SQLite and PostgreSQL.

Registered for every test package by ``pytest_plugins`` in tests/conftest.py: use the
fixtures by name. The schema, data and stores file are ``requests_app.demo``'s
(re-exported here, so ``from tests.requests_app.engine_fixtures import ...`` keeps working).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from requests_app import demo
from requests_app.demo import STORES_TOML, HostDb, write_stores
from tests.conftest import ALICE, service_unavailable

__all__ = [
    "HostDb",
    "host_db",
    "sqlite_host",
    "pg_host",
    "stores_file",
    "media_root",
    "approved_request",
    "write_stores",
    "STORES_TOML",
]

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/hostapp"


def pg_base_url() -> str:
    return os.environ.get("HOSTAPP_TEST_DATABASE_URL", PG_DEFAULT)


@contextmanager
def pg_schema_host() -> Iterator[HostDb]:
    """A fresh schema in the host-app PostgreSQL database (skipped, or failed in CI, without one)."""
    base = pg_base_url()
    try:
        demo.ensure_pg_database(base)
    except Exception as exc:
        service_unavailable(f"PostgreSQL host-app database {base} ({type(exc).__name__})")
    with demo.pg_schema_host(base) as db:
        yield db


@contextmanager
def scripted_host(vendor: str, tmp_path: Path, script: str) -> Iterator[tuple[str, Any]]:
    """(url, rows(sql) sorted) of a fresh database built by ``script`` (statements split on ";"),
    a SQLite file under ``tmp_path`` or a fresh PostgreSQL schema."""
    if vendor == "sqlite":
        path = tmp_path / "scripted.sqlite3"
        with sqlite3.connect(path) as conn:
            conn.executescript(script)

        def rows(sql: str) -> list[tuple]:
            with sqlite3.connect(path) as conn:
                return sorted(tuple(r) for r in conn.execute(sql).fetchall())

        yield f"sqlite:///{path}", rows
        return
    with pg_schema_host() as host:
        with host.cursor() as cursor:
            for statement in script.split(";"):
                if statement.strip():
                    cursor.execute(statement)
        yield host.url, lambda sql: sorted(host.rows(sql))


@pytest.fixture
def sqlite_host(tmp_path) -> HostDb:
    db = demo.sqlite_host(tmp_path / "hostapp.sqlite3")
    db.create()
    db.populate()
    return db


@pytest.fixture
def pg_host() -> Iterator[HostDb]:
    with pg_schema_host() as db:
        db.create()
        db.populate()
        yield db


@pytest.fixture(params=["sqlite", "postgresql"])
def host_db(request, tmp_path) -> Iterator[HostDb]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_host")
    else:
        yield request.getfixturevalue("pg_host")


@pytest.fixture
def media_root(tmp_path) -> Path:
    root = tmp_path / "media"
    (root / "avatars" / "1").mkdir(parents=True)
    (root / "avatars" / "1" / "me.png").write_bytes(b"\x89PNG alice")
    (root / "avatars" / "1" / "old").mkdir()
    (root / "avatars" / "1" / "old" / "me-2019.png").write_bytes(b"\x89PNG alice old")
    (root / "avatars" / "2").mkdir(parents=True)
    (root / "avatars" / "2" / "me.png").write_bytes(b"\x89PNG bob")
    (root / "voice").mkdir()
    (root / "voice" / "1.wav").write_bytes(b"RIFF alice voice")
    (root / "voice" / "2.wav").write_bytes(b"RIFF bob voice")
    (root / "exports").mkdir()
    (root / "exports" / "1-2025.csv").write_text("alice,export")
    (root / "exports" / "12-2025.csv").write_text("user 12, not alice")
    return root


@pytest.fixture
def stores_file(tmp_path, settings, host_db, media_root) -> Path:
    path = write_stores(tmp_path / "stores.toml", host_db, media_root)
    settings.PORTAL_STORES_FILE = str(path)
    return path


@pytest.fixture
def approved_request(db):
    from django.utils import timezone

    from requests_app.models import PrivacyRequest

    def _make(kind: str = "deletion", email: str = ALICE, **fields: Any) -> PrivacyRequest:
        now = timezone.now()
        return PrivacyRequest.objects.create(
            kind=kind,
            status=PrivacyRequest.Status.APPROVED,
            email=email,
            verified_at=now,
            approved_at=now,
            **fields,
        )

    return _make
