"""A realistic host-app database and stores file for the engine tests, on SQLite and PostgreSQL.

The schema: users, profiles, photos, likes (a many-to-many join between users
and photos), comments (anonymised, not deleted), follows (a key-only join
between users). Alice (user 1) is the subject; Bob (2) and Carol (3) must
survive untouched, except that rows linking them to Alice go.

Test modules import the fixtures: ``from tests.requests_app.engine_fixtures import *``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ALICE, BOB, service_unavailable

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

SCHEMA = """
CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL,
    username VARCHAR(50) NOT NULL,
    created_at TIMESTAMP NOT NULL);
CREATE TABLE accounts_profile (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES accounts_user (id),
    bio TEXT NOT NULL, phone VARCHAR(30) NOT NULL);
CREATE TABLE media_photo (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES accounts_user (id),
    blob_path VARCHAR(200) NOT NULL, caption TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE media_photo_likes (id INTEGER PRIMARY KEY, photo_id INTEGER NOT NULL REFERENCES media_photo (id),
    user_id INTEGER NOT NULL REFERENCES accounts_user (id));
CREATE TABLE forum_comment (id INTEGER PRIMARY KEY, author_id INTEGER NULL REFERENCES accounts_user (id),
    author_name VARCHAR(100) NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE social_follow (id INTEGER PRIMARY KEY,
    follower_id INTEGER NOT NULL REFERENCES accounts_user (id),
    followee_id INTEGER NOT NULL REFERENCES accounts_user (id));
"""

TABLES = [
    "social_follow",
    "forum_comment",
    "media_photo_likes",
    "media_photo",
    "accounts_profile",
    "accounts_user",
]

STORES_TOML = """
[[store]]
name = "app-db"
kind = "sql"
url = "{url}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}
  [[store.table]]
  name = "accounts_profile"
  match = {{ user_id = "user_id" }}
  [[store.table]]
  name = "media_photo"
  match = {{ owner_id = "user_id" }}
  provides = {{ photo_id = "id" }}
  [[store.table]]
  name = "media_photo_likes"
  match = {{ user_id = "user_id", photo_id = "photo_id" }}
  [[store.table]]
  name = "forum_comment"
  match = {{ author_id = "user_id" }}
  erase = {{ anonymize = {{ author_id = {{ null = true }}, author_name = "", body = "[removed]" }} }}
  [[store.table]]
  name = "social_follow"
  match = {{ follower_id = "user_id", followee_id = "user_id" }}

[[store]]
name = "uploads"
kind = "files"
root = "{media}"
paths = ["avatars/{{user_id}}/", "voice/{{user_id}}.wav", "exports/{{user_id}}-*"]
{extra}
"""


@dataclass
class HostDb:
    """The host app's database: a URL for the stores file, and a DB-API connection for the test."""

    vendor: str
    url: str
    connect: Any

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s") if self.vendor == "postgresql" else sql, params)
            return [tuple(r) for r in cursor.fetchall()]

    def scalar(self, sql: str, params: tuple = ()) -> Any:
        return self.rows(sql, params)[0][0]

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        conn = self.connect()
        try:
            cursor = conn.cursor()
            yield cursor
            conn.commit()
        finally:
            conn.close()

    def create(self) -> None:
        with self.cursor() as cursor:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    cursor.execute(statement)

    def populate(self, *, photos: int = 3, comments: int = 2) -> None:
        p = "%s" if self.vendor == "postgresql" else "?"
        now = "2026-01-01 10:00:00"
        old = "2020-01-01 10:00:00"
        with self.cursor() as c:
            c.executemany(
                f"INSERT INTO accounts_user VALUES ({p}, {p}, {p}, {p})",
                [
                    (1, "Alice@Example.com", "alice", now),
                    (2, BOB, "bob", now),
                    (3, "carol@example.net", "carol", now),
                ],
            )
            c.executemany(
                f"INSERT INTO accounts_profile VALUES ({p}, {p}, {p}, {p})",
                [(1, 1, "I like cats", "+49 30 1234"), (2, 2, "Bob's bio", "+1 555 0100")],
            )
            photo_rows = [
                (i, 1, f"users/1/photo-{i}.jpg", f"alice photo {i}", old if i == 1 else now)
                for i in range(1, photos + 1)
            ]
            photo_rows += [
                (1000 + i, 2, f"users/2/photo-{i}.jpg", f"bob photo {i}", old) for i in range(1, 3)
            ]
            c.executemany(f"INSERT INTO media_photo VALUES ({p}, {p}, {p}, {p}, {p})", photo_rows)
            c.executemany(
                f"INSERT INTO media_photo_likes VALUES ({p}, {p}, {p})",
                [
                    (1, 1, 2),  # bob likes alice's photo: goes (the photo goes)
                    (2, 1001, 1),  # alice likes bob's photo: goes (alice goes)
                    (3, 1001, 3),  # carol likes bob's photo: survives
                ],
            )
            comment_rows = [(i, 1, "alice", f"alice says {i}", now) for i in range(1, comments + 1)]
            comment_rows += [(100000, 2, "bob", "bob says hi", now)]
            c.executemany(f"INSERT INTO forum_comment VALUES ({p}, {p}, {p}, {p}, {p})", comment_rows)
            c.executemany(
                f"INSERT INTO social_follow VALUES ({p}, {p}, {p})", [(1, 1, 2), (2, 2, 1), (3, 2, 3)]
            )

    def drop(self) -> None:
        with self.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _sqlite(tmp_path: Path) -> HostDb:
    path = tmp_path / "hostapp.sqlite3"
    return HostDb("sqlite", f"sqlite:///{path}", lambda: sqlite3.connect(path))


PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/hostapp"


def pg_base_url() -> str:
    return os.environ.get("HOSTAPP_TEST_DATABASE_URL", PG_DEFAULT)


def _pg_connect(url: str, schema: str | None = None):
    import psycopg

    conn = psycopg.connect(
        url.replace("postgres://", "postgresql://", 1),
        connect_timeout=3,
        **({"options": f"-csearch_path={schema}"} if schema else {}),
    )
    return conn


def _ensure_pg_database(url: str) -> None:
    import psycopg

    try:
        _pg_connect(url).close()
        return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = psycopg.connect(
        url.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/postgres",
        autocommit=True,
        connect_timeout=3,
    )
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.errors.DuplicateDatabase:
        pass
    finally:
        admin.close()


@contextmanager
def pg_schema_host() -> Iterator[HostDb]:
    """A fresh schema in the host-app PostgreSQL database, dropped afterwards."""
    base = pg_base_url()
    try:
        _ensure_pg_database(base)
    except Exception as exc:
        service_unavailable(f"PostgreSQL host-app database {base} ({type(exc).__name__})")
    schema = f"hostapp_{secrets.token_hex(4)}"
    admin = _pg_connect(base)
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.commit()
    try:
        yield HostDb(
            "postgresql", f"{base}?options=-csearch_path%3D{schema}", lambda: _pg_connect(base, schema)
        )
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.commit()
        admin.close()


@pytest.fixture
def sqlite_host(tmp_path) -> HostDb:
    db = _sqlite(tmp_path)
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


def write_stores(path: Path, host: HostDb, media: Path, extra: str = "") -> Path:
    path.write_text(STORES_TOML.format(url=host.url, media=media, extra=extra))
    return path


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
