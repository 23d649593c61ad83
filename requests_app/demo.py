"""The demo host app: one schema, data set and stores file for ``manage.py demo_hostapp``, the tests and ``bench/``.

A small social app on SQLite or PostgreSQL: users, profiles, photos, likes (a
many-to-many join between users and photos), comments (anonymised, not
deleted) and follows (a key-only join between users). Alice (user 1) is the
usual subject; Bob (2) and Carol (3) must survive untouched, except that the
rows linking them to Alice go.

It ships with the portal because ``make run`` builds the demo from it; the
tests and the benchmarks import it from here so the three never drift apart.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Named indexes in a syntax both SQLite and PostgreSQL accept (the benchmarks erase millions of rows).
SCHEMA = """
CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL,
    username VARCHAR(50) NOT NULL,
    created_at TIMESTAMP NOT NULL);
CREATE INDEX accounts_user_email ON accounts_user (lower(email));
CREATE TABLE accounts_profile (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES accounts_user (id),
    bio TEXT NOT NULL, phone VARCHAR(30) NOT NULL);
CREATE INDEX accounts_profile_user ON accounts_profile (user_id);
CREATE TABLE media_photo (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES accounts_user (id),
    blob_path VARCHAR(200) NOT NULL, caption TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE INDEX media_photo_owner ON media_photo (owner_id);
CREATE TABLE media_photo_likes (id INTEGER PRIMARY KEY, photo_id INTEGER NOT NULL REFERENCES media_photo (id),
    user_id INTEGER NOT NULL REFERENCES accounts_user (id));
CREATE INDEX media_photo_likes_photo ON media_photo_likes (photo_id);
CREATE INDEX media_photo_likes_user ON media_photo_likes (user_id);
CREATE TABLE forum_comment (id INTEGER PRIMARY KEY, author_id INTEGER NULL REFERENCES accounts_user (id),
    author_name VARCHAR(100) NOT NULL, body TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE INDEX forum_comment_author ON forum_comment (author_id);
CREATE TABLE social_follow (id INTEGER PRIMARY KEY,
    follower_id INTEGER NOT NULL REFERENCES accounts_user (id),
    followee_id INTEGER NOT NULL REFERENCES accounts_user (id));
CREATE INDEX social_follow_follower ON social_follow (follower_id);
CREATE INDEX social_follow_followee ON social_follow (followee_id)
"""

# Children before parents: the order to drop them in.
TABLES = ["social_follow", "forum_comment", "media_photo_likes", "media_photo", "accounts_profile", "accounts_user"]

# The SQL store of this schema (``str.format`` with ``url``). docs/examples/stores.toml is the
# commented version for people, with the demo's paths.
SQL_STORE_TOML = """
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
"""

# The SQL store plus the app's uploaded files (``url``, ``media``, and ``extra`` for more stores).
STORES_TOML = (
    SQL_STORE_TOML
    + """
[[store]]
name = "uploads"
kind = "files"
root = "{media}"
paths = ["avatars/{{user_id}}/", "voice/{{user_id}}.wav", "exports/{{user_id}}-*"]
{extra}
"""
)

ALICE = "Alice@Example.com"  # mixed case: the SQL store matches e-mail addresses case-insensitively
BOB = "bob@example.org"
CAROL = "carol@example.net"


@dataclass
class HostDb:
    """The host app's database: a URL for the stores file, and a DB-API connection factory."""

    vendor: str  # "sqlite" or "postgresql"
    url: str
    connect: Callable[[], Any]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s") if self.vendor == "postgresql" else sql, params)
            return [tuple(r) for r in cursor.fetchall()]

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
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
        """Alice, Bob and Carol with a few rows each; Alice's first photo and Bob's are from 2020."""
        p = "%s" if self.vendor == "postgresql" else "?"
        now = "2026-01-01 10:00:00"
        old = "2020-01-01 10:00:00"
        with self.cursor() as c:
            c.executemany(
                f"INSERT INTO accounts_user VALUES ({p}, {p}, {p}, {p})",
                [(1, ALICE, "alice", now), (2, BOB, "bob", now), (3, CAROL, "carol", now)],
            )
            c.executemany(
                f"INSERT INTO accounts_profile VALUES ({p}, {p}, {p}, {p})",
                [(1, 1, "I like cats", "+49 30 1234"), (2, 2, "Bob's bio", "+1 555 0100")],
            )
            photo_rows = [
                (i, 1, f"users/1/photo-{i}.jpg", f"alice photo {i}", old if i == 1 else now)
                for i in range(1, photos + 1)
            ]
            photo_rows += [(1000 + i, 2, f"users/2/photo-{i}.jpg", f"bob photo {i}", old) for i in range(1, 3)]
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
            c.executemany(f"INSERT INTO social_follow VALUES ({p}, {p}, {p})", [(1, 1, 2), (2, 2, 1), (3, 2, 3)])

    def drop(self) -> None:
        with self.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")


def sqlite_host(path: Path) -> HostDb:
    return HostDb("sqlite", f"sqlite:///{path}", lambda: sqlite3.connect(path))


def pg_connect(url: str, schema: str | None = None) -> Any:
    import psycopg

    conninfo = url.replace("postgres://", "postgresql://", 1)
    if schema:
        return psycopg.connect(conninfo, connect_timeout=3, options=f"-csearch_path={schema}")
    return psycopg.connect(conninfo, connect_timeout=3)


def ensure_pg_database(url: str) -> None:
    """Create the database of ``url`` if the server does not have it yet."""
    import psycopg

    try:
        pg_connect(url).close()
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
def pg_schema_host(base_url: str, prefix: str = "hostapp") -> Iterator[HostDb]:
    """A fresh, empty schema in the PostgreSQL database ``base_url``, dropped afterwards."""
    ensure_pg_database(base_url)
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = pg_connect(base_url)
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.commit()
    try:
        yield HostDb(
            "postgresql",
            f"{base_url}?options=-csearch_path%3D{schema}",
            lambda: pg_connect(base_url, schema),
        )
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.commit()
        admin.close()


def write_stores(path: Path, host: HostDb, media: Path, extra: str = "") -> Path:
    """The stores file of ``STORES_TOML`` for this database and media folder."""
    path.write_text(STORES_TOML.format(url=host.url, media=media, extra=extra))
    return path


def create_demo(root: Path) -> Path:
    """The demo of ``make run`` under ``root``: ``hostapp.sqlite3`` and ``media/`` (docs/examples/stores.toml).

    Written to a temporary name first, so an interrupted run is redone rather than left half-made.
    """
    database = root / "hostapp.sqlite3"
    media = root / "media"
    media.mkdir(parents=True, exist_ok=True)
    partial = database.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    host = sqlite_host(partial)
    host.create()
    host.populate()
    partial.rename(database)
    for user_id, name in ((1, "alice"), (2, "bob")):
        (media / "avatars" / str(user_id)).mkdir(parents=True, exist_ok=True)
        (media / "avatars" / str(user_id) / "avatar.txt").write_text(f"(the avatar picture of {name})\n")
        (media / "voice").mkdir(exist_ok=True)
        (media / "voice" / f"{user_id}.txt").write_text(f"(a voice note of {name})\n")
    return database
