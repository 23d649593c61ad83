"""manage.py demo_hostapp [--reset]: a small demo host app (SQLite database + files) under var/demo/.

Used by ``make run`` so a person can try an access or deletion request end to
end against docs/examples/stores.toml: file a request as alice@example.com (or
bob@example.org) and watch the engine find, export or erase their rows and files.
Idempotent: an existing demo is left alone unless --reset.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

SCHEMA = """
CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL,
    username VARCHAR(50) NOT NULL,
    date_joined TIMESTAMP NOT NULL);
CREATE TABLE accounts_profile (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES accounts_user (id),
    display_name VARCHAR(100) NOT NULL, bio TEXT NOT NULL);
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

USERS = [
    (1, "alice@example.com", "alice", "2024-03-01 09:00:00"),
    (2, "bob@example.org", "bob", "2024-05-10 18:30:00"),
    (3, "carol@example.net", "carol", "2025-01-02 12:00:00"),
]


def demo_dir() -> Path:
    return Path(os.environ.get("PORTAL_DEMO_DIR") or settings.BASE_DIR / "var" / "demo")


class Command(BaseCommand):
    help = "Create the demo host app (SQLite database and files) used by docs/examples/stores.toml."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Recreate it from scratch.")

    def handle(self, *args, reset=False, **options):
        root = demo_dir()
        database = root / "hostapp.sqlite3"
        if reset:
            shutil.rmtree(root, ignore_errors=True)
        if database.exists():
            self.stdout.write(f"Demo host app already in {root} (use --reset to recreate it).")
            return
        (root / "media").mkdir(parents=True, exist_ok=True)
        partial = database.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        with sqlite3.connect(partial) as conn:
            conn.executescript(SCHEMA)
            conn.executemany("INSERT INTO accounts_user VALUES (?, ?, ?, ?)", USERS)
            conn.executemany(
                "INSERT INTO accounts_profile VALUES (?, ?, ?, ?)",
                [(1, 1, "Alice A.", "Photographer, cat person."), (2, 2, "Bob", "Here for the forum.")],
            )
            photos = [
                (i, 1, f"users/1/photo-{i}.jpg", f"Holiday picture {i}", f"2025-0{i}-01 10:00:00")
                for i in range(1, 4)
            ] + [(10, 2, "users/2/photo-1.jpg", "Bob's bike", "2023-06-01 10:00:00")]
            conn.executemany("INSERT INTO media_photo VALUES (?, ?, ?, ?, ?)", photos)
            conn.executemany(
                "INSERT INTO media_photo_likes VALUES (?, ?, ?)", [(1, 1, 2), (2, 10, 1), (3, 10, 3)]
            )
            conn.executemany(
                "INSERT INTO forum_comment VALUES (?, ?, ?, ?, ?)",
                [
                    (1, 1, "alice", "Does anyone know a good lens for portraits?", "2025-02-01 08:00:00"),
                    (2, 2, "bob", "Try a 50 mm prime.", "2025-02-01 09:00:00"),
                    (3, 1, "alice", "Thanks Bob!", "2025-02-01 09:30:00"),
                ],
            )
            conn.executemany("INSERT INTO social_follow VALUES (?, ?, ?)", [(1, 1, 2), (2, 2, 1), (3, 3, 2)])
        partial.rename(database)
        media = root / "media"
        for user_id, name in ((1, "alice"), (2, "bob")):
            (media / "avatars" / str(user_id)).mkdir(parents=True, exist_ok=True)
            (media / "avatars" / str(user_id) / "avatar.txt").write_text(f"(the avatar picture of {name})\n")
            (media / "voice").mkdir(exist_ok=True)
            (media / "voice" / f"{user_id}.txt").write_text(f"(a voice note of {name})\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo host app created in {root}: try a request as alice@example.com or bob@example.org."
            )
        )
