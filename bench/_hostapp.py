"""Shared by the engine benchmarks: a host-app schema on PostgreSQL with one subject owning N rows.

Not a benchmark itself (bench/run.py only runs bench_*.py).
"""

from __future__ import annotations

import os
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from requests_app import demo  # noqa: E402  (a plain module: no Django needed)

PG_URL = os.environ.get("HOSTAPP_BENCH_DATABASE_URL") or os.environ.get(
    "HOSTAPP_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hostapp"
)

# The schema and the SQL store are the demo host app's (requests_app.demo), shared with the tests
# and manage.py demo_hostapp.
SCHEMA = demo.SCHEMA
STORE_TOML = demo.SQL_STORE_TOML

HAND_WRITTEN_ERASURE = [
    "DELETE FROM social_follow WHERE follower_id = 1 OR followee_id = 1",
    "UPDATE forum_comment SET author_id = NULL, author_name = '', body = '[removed]' WHERE author_id = 1",
    "DELETE FROM media_photo_likes WHERE user_id = 1 OR photo_id IN (SELECT id FROM media_photo WHERE owner_id = 1)",
    "DELETE FROM media_photo WHERE owner_id = 1",
    "DELETE FROM accounts_profile WHERE user_id = 1",
    "DELETE FROM accounts_user WHERE id = 1",
]


# What a developer who knows the schema would SELECT for an access export of user 1 (alice).
HAND_WRITTEN_EXPORT = {
    "accounts_user": "SELECT * FROM accounts_user WHERE lower(email) = 'alice@example.com' ORDER BY id",
    "accounts_profile": "SELECT * FROM accounts_profile WHERE user_id = 1 ORDER BY id",
    "media_photo": "SELECT * FROM media_photo WHERE owner_id = 1 ORDER BY id",
    "media_photo_likes": "SELECT * FROM media_photo_likes WHERE user_id = 1 "
    "OR photo_id IN (SELECT id FROM media_photo WHERE owner_id = 1) ORDER BY id",
    "forum_comment": "SELECT * FROM forum_comment WHERE author_id = 1 ORDER BY id",
    "social_follow": "SELECT * FROM social_follow WHERE follower_id = 1 OR followee_id = 1 ORDER BY id",
}


def hand_export_zip(schema: str, target: Path) -> tuple[float, int]:
    """The bar for access: one connection, ``HAND_WRITTEN_EXPORT``'s six SELECTs, each table written
    as JSON and as CSV into one deflated ZIP. Returns (seconds, rows); the ZIP is removed."""
    import csv
    import io
    import json
    import time
    import zipfile

    started = time.perf_counter()
    conn = connect(schema)
    rows = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive, conn.cursor() as cursor:
        for table, sql in HAND_WRITTEN_EXPORT.items():
            cursor.execute(sql)
            names = [c.name for c in cursor.description]
            records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            rows += len(records)
            archive.writestr(f"{table}.json", json.dumps(records, default=str, ensure_ascii=False))
            text = io.StringIO()
            writer = csv.DictWriter(text, names)
            writer.writeheader()
            writer.writerows(records)
            archive.writestr(f"{table}.csv", text.getvalue())
    conn.close()
    seconds = time.perf_counter() - started
    target.unlink(missing_ok=True)
    return seconds, rows


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


def connect(schema: str | None = None):
    import psycopg

    try:
        return psycopg.connect(
            PG_URL.replace("postgres://", "postgresql://", 1),
            connect_timeout=3,
            **({"options": f"-csearch_path={schema}"} if schema else {}),
        )
    except psycopg.OperationalError as exc:
        from _stack import BenchUnavailable

        raise BenchUnavailable(
            f"the host-app PostgreSQL database {PG_URL} ({str(exc).strip()[:120]}): "
            "start PostgreSQL and create it, or set HOSTAPP_BENCH_DATABASE_URL"
        )


@contextmanager
def pg_schema():
    """A fresh schema in the host-app database; yields (schema, store URL). Dropped afterwards."""
    schema = f"bench_{secrets.token_hex(4)}"
    admin = connect()
    admin.execute(f"CREATE SCHEMA {schema}")
    admin.commit()
    try:
        yield schema, f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.commit()
        admin.close()


def split(rows: int) -> dict[str, int]:
    """How a subject's rows spread over the tables (adds up to ``rows``)."""
    photos = rows * 3 // 10
    likes = rows * 2 // 10
    comments = rows * 3 // 10
    follows = rows - 2 - photos - likes - comments
    return {"photos": photos, "likes": likes, "comments": comments, "follows": follows}


def populate(schema: str, rows: int, others: int = 50_000) -> None:
    """User 1 (alice) owns ``rows`` rows; users 2..1001 own ``others`` rows that must survive."""
    s = split(rows)
    conn = connect(schema)
    with conn.cursor() as c:
        c.execute(SCHEMA)
        c.execute(
            "INSERT INTO accounts_user SELECT g, CASE WHEN g = 1 THEN 'alice@example.com' "
            "ELSE 'user' || g || '@example.org' END, 'user' || g, now() FROM generate_series(1, 2001) g"
        )
        c.execute("INSERT INTO accounts_profile SELECT g, g, 'bio', '+1 555' FROM generate_series(1, 2001) g")
        # alice's photos, then others' photos
        c.execute(
            "INSERT INTO media_photo SELECT g, 1, 'users/1/' || g || '.jpg', 'caption', now() "
            "FROM generate_series(1, %s) g",
            [s["photos"]],
        )
        c.execute(
            "INSERT INTO media_photo SELECT 10000000 + g, 2 + g %% 1000, 'x.jpg', 'c', now() "
            "FROM generate_series(1, %s) g",
            [others // 4],
        )
        # likes of alice's photos by other users (half) and alice's likes of others' photos (half)
        half = s["likes"] // 2
        c.execute(
            "INSERT INTO media_photo_likes SELECT g, 1 + (g - 1) %% %s, 2 + g %% 1000 FROM generate_series(1, %s) g",
            [max(s["photos"], 1), half],
        )
        c.execute(
            "INSERT INTO media_photo_likes SELECT 1000000 + g, 10000001 + g %% %s, 1 FROM generate_series(1, %s) g",
            [others // 4, s["likes"] - half],
        )
        c.execute(
            "INSERT INTO media_photo_likes SELECT 5000000 + g, 10000001 + g %% %s, 2 + g %% 1000 "
            "FROM generate_series(1, %s) g",
            [others // 4, others // 4],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT g, 1, 'alice', 'hello ' || g, now() FROM generate_series(1, %s) g",
            [s["comments"]],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT 10000000 + g, 2 + g %% 1000, 'someone', 'hi', now() "
            "FROM generate_series(1, %s) g",
            [others // 4],
        )
        half = s["follows"] // 2
        c.execute("INSERT INTO social_follow SELECT g, 1, 2 + g %% 2000 FROM generate_series(1, %s) g", [half])
        c.execute(
            "INSERT INTO social_follow SELECT 1000000 + g, 2 + g %% 2000, 1 FROM generate_series(1, %s) g",
            [s["follows"] - half],
        )
        c.execute(
            "INSERT INTO social_follow SELECT 5000000 + g, 2 + g %% 1000, 1002 + g %% 999 "
            "FROM generate_series(1, %s) g",
            [others // 4],
        )
    conn.commit()
    conn.autocommit = True
    conn.execute("ANALYZE")
    conn.close()


def subject_rows(schema: str) -> int:
    conn = connect(schema)
    with conn.cursor() as c:
        c.execute("""SELECT (SELECT count(*) FROM accounts_user WHERE id = 1)
            + (SELECT count(*) FROM accounts_profile WHERE user_id = 1)
            + (SELECT count(*) FROM media_photo WHERE owner_id = 1)
            + (SELECT count(*) FROM media_photo_likes WHERE user_id = 1
               OR photo_id IN (SELECT id FROM media_photo WHERE owner_id = 1))
            + (SELECT count(*) FROM forum_comment WHERE author_id = 1)
            + (SELECT count(*) FROM social_follow WHERE follower_id = 1 OR followee_id = 1)""")
        total = c.fetchone()[0]
    conn.close()
    return total


def populate_many(schema: str, subjects: int, rows: int, background: int = 2000) -> None:
    """Users 1..``subjects`` (subject<i>@example.com) own ``rows`` rows each, spread as ``split``;
    ``background`` more users own rows that must survive. For the throughput benchmark."""
    s = split(rows)
    first_bg, last_bg = subjects + 1, subjects + background
    conn = connect(schema)
    with conn.cursor() as c:
        c.execute(SCHEMA)
        c.execute(
            "INSERT INTO accounts_user SELECT g, CASE WHEN g <= %s THEN 'subject' || g || '@example.com' "
            "ELSE 'user' || g || '@example.org' END, 'user' || g, now() FROM generate_series(1, %s) g",
            [subjects, last_bg],
        )
        c.execute("INSERT INTO accounts_profile SELECT g, g, 'bio', '+1 555' FROM generate_series(1, %s) g", [last_bg])
        photos = subjects * s["photos"]
        c.execute(
            "INSERT INTO media_photo SELECT g, 1 + (g - 1) / %s, 'p/' || g || '.jpg', 'c', now() "
            "FROM generate_series(1, %s) g",
            [max(s["photos"], 1), photos],
        )
        c.execute(
            "INSERT INTO media_photo SELECT 100000000 + g, %s + g %% %s, 'x.jpg', 'c', now() "
            "FROM generate_series(1, %s) g",
            [first_bg, background, background * 5],
        )
        # likes of the subjects' photos by background users (erased with the photos)
        c.execute(
            "INSERT INTO media_photo_likes SELECT g, 1 + (g - 1) %% %s, %s + g %% %s FROM generate_series(1, %s) g",
            [max(photos, 1), first_bg, background, subjects * s["likes"]],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT g, 1 + (g - 1) / %s, 'someone', 'hello', now() "
            "FROM generate_series(1, %s) g",
            [max(s["comments"], 1), subjects * s["comments"]],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT 100000000 + g, %s + g %% %s, 'someone', 'hi', now() "
            "FROM generate_series(1, %s) g",
            [first_bg, background, background * 5],
        )
        c.execute(
            "INSERT INTO social_follow SELECT g, 1 + (g - 1) / %s, %s + g %% %s FROM generate_series(1, %s) g",
            [max(s["follows"], 1), first_bg, background, subjects * s["follows"]],
        )
        c.execute(
            "INSERT INTO social_follow SELECT 100000000 + g, %s + g %% %s, %s + (g + 7) %% %s "
            "FROM generate_series(1, %s) g",
            [first_bg, background, first_bg, background, background * 5],
        )
    conn.commit()
    conn.autocommit = True
    conn.execute("ANALYZE")
    conn.close()
