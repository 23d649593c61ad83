"""Shared by the engine benchmarks: the demo host app (requests_app.demo) on PostgreSQL, one subject owning N rows.

Not a benchmark itself (bench/run.py only runs bench_*.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from requests_app import demo  # noqa: E402  (plain module: no Django needed)

PG_URL = os.environ.get("HOSTAPP_BENCH_DATABASE_URL") or os.environ.get(
    "HOSTAPP_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hostapp"
)

# The schema and the SQL store are the demo host app's (requests_app.demo), shared with the tests.
STORE_TOML = demo.SQL_STORE_TOML

HAND_WRITTEN_ERASURE = [
    "DELETE FROM social_follow WHERE follower_id = 1 OR followee_id = 1",
    "UPDATE forum_comment SET author_id = NULL, author_name = '', body = '[removed]' WHERE author_id = 1",
    "DELETE FROM media_photo_likes WHERE user_id = 1 "
    "OR photo_id IN (SELECT id FROM media_photo WHERE owner_id = 1)",
    "DELETE FROM media_photo WHERE owner_id = 1",
    "DELETE FROM accounts_profile WHERE user_id = 1",
    "DELETE FROM accounts_user WHERE id = 1",
]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()


@contextmanager
def pg_schema() -> Iterator[demo.HostDb]:
    """A fresh schema in the host-app database with the demo tables (no rows); dropped afterwards."""
    with demo.pg_schema_host(PG_URL, prefix="bench") as host:
        host.create()
        yield host


def split(rows: int) -> dict[str, int]:
    """How a subject's rows spread over the tables (adds up to ``rows``)."""
    photos = rows * 3 // 10
    likes = rows * 2 // 10
    comments = rows * 3 // 10
    follows = rows - 2 - photos - likes - comments
    return {"photos": photos, "likes": likes, "comments": comments, "follows": follows}


def populate(host: demo.HostDb, rows: int, others: int = 50_000) -> None:
    """User 1 (alice) owns ``rows`` rows; users 2..1001 own ``others`` rows that must survive."""
    s = split(rows)
    conn = host.connect()
    with conn.cursor() as c:
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
            "INSERT INTO media_photo_likes SELECT g, 1 + (g - 1) %% %s, 2 + g %% 1000 "
            "FROM generate_series(1, %s) g",
            [max(s["photos"], 1), half],
        )
        c.execute(
            "INSERT INTO media_photo_likes SELECT 1000000 + g, 10000001 + g %% %s, 1 "
            "FROM generate_series(1, %s) g",
            [others // 4, s["likes"] - half],
        )
        c.execute(
            "INSERT INTO media_photo_likes SELECT 5000000 + g, 10000001 + g %% %s, 2 + g %% 1000 "
            "FROM generate_series(1, %s) g",
            [others // 4, others // 4],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT g, 1, 'alice', 'hello ' || g, now() "
            "FROM generate_series(1, %s) g",
            [s["comments"]],
        )
        c.execute(
            "INSERT INTO forum_comment SELECT 10000000 + g, 2 + g %% 1000, 'someone', 'hi', now() "
            "FROM generate_series(1, %s) g",
            [others // 4],
        )
        half = s["follows"] // 2
        c.execute(
            "INSERT INTO social_follow SELECT g, 1, 2 + g %% 2000 FROM generate_series(1, %s) g", [half]
        )
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


def subject_rows(host: demo.HostDb) -> int:
    conn = host.connect()
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
