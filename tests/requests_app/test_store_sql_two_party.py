"""Erasing one of two people who wrote to each other, liked each other's posts and follow each other.

Issue 20: a shared row loses only the subject's link and the subject's own words;
a key-only table (likes, follows) is deleted, never anonymised; a primary key is
never overwritten. Run on SQLite and PostgreSQL (``HOSTAPP_TEST_DATABASE_URL``),
with a drafted and a hand-written stores file, through the engine and through
``manage.py erase_subject --email``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from requests_app.engine import local
from requests_app.models import PrivacyRequest
from requests_app.stores import registry
from requests_app.stores.base import PermanentStoreError, Subject
from tests.requests_app.engine_fixtures import scripted_host

pytestmark = pytest.mark.django_db

ANN, BEN, CID = 1, 2, 3
SCHEMA = """
CREATE TABLE members (id INTEGER PRIMARY KEY, email VARCHAR(254) NOT NULL, display_name VARCHAR(100) NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NULL REFERENCES members (id), body TEXT NOT NULL);
CREATE TABLE post_likes (post_id INTEGER NOT NULL REFERENCES posts (id),
    member_id INTEGER NOT NULL REFERENCES members (id), PRIMARY KEY (post_id, member_id));
CREATE TABLE follows (follower_id INTEGER NOT NULL REFERENCES members (id),
    followee_id INTEGER NOT NULL REFERENCES members (id), PRIMARY KEY (follower_id, followee_id));
CREATE TABLE messages (id INTEGER PRIMARY KEY, sender INTEGER NULL REFERENCES members (id),
    recipient INTEGER NULL REFERENCES members (id), text TEXT NOT NULL);
INSERT INTO members VALUES (1, 'Ann@Example.com', 'Ann A');
INSERT INTO members VALUES (2, 'ben@example.com', 'Ben B');
INSERT INTO members VALUES (3, 'cid@example.com', 'Cid C');
INSERT INTO posts VALUES (10, 1, 'Ann''s post');
INSERT INTO posts VALUES (20, 2, 'Ben''s post');
INSERT INTO posts VALUES (30, 3, 'Cid''s post');
INSERT INTO post_likes VALUES (20, 1);
INSERT INTO post_likes VALUES (10, 2);
INSERT INTO post_likes VALUES (30, 2);
INSERT INTO post_likes VALUES (10, 3);
INSERT INTO follows VALUES (1, 2);
INSERT INTO follows VALUES (2, 1);
INSERT INTO follows VALUES (2, 3);
INSERT INTO follows VALUES (3, 1);
INSERT INTO messages VALUES (100, 1, 2, 'Hi Ben, Ann here');
INSERT INTO messages VALUES (101, 2, 1, 'Hi Ann, Ben here');
INSERT INTO messages VALUES (102, 2, 3, 'Ben to Cid');
INSERT INTO messages VALUES (103, 1, 1, 'Ann, a note to herself');
INSERT INTO messages VALUES (104, 3, 2, 'Cid to Ben')
"""

# What is left after Ann (1) is erased. Ben's and Cid's rows are as they were; where a row is
# shared with Ann only her link and her own words went. Follows are links and nothing else:
# every follow naming Ann goes, in both directions (a key is never anonymised).
AFTER = {
    "members": [(2, "ben@example.com", "Ben B"), (3, "cid@example.com", "Cid C")],
    "posts": [(10, None, "[deleted]"), (20, 2, "Ben's post"), (30, 3, "Cid's post")],
    "post_likes": [(10, 2), (10, 3), (30, 2)],  # Ben's and Cid's likes of Ann's (anonymised) post stay
    "follows": [(2, 3)],
    "messages": [
        (100, None, 2, "[deleted]"),
        (101, 2, None, "Hi Ann, Ben here"),  # Ben's words and Ben as sender stay
        (102, 2, 3, "Ben to Cid"),
        (103, None, None, "[deleted]"),
        (104, 3, 2, "Cid to Ben"),
    ],
}

HAND_WRITTEN = """
[[store]]
name = "app-db"
kind = "sql"
url = "{url}"
  [[store.table]]
  name = "members"
  match = {{ email = "email" }}
  provides = {{ member_id = "id" }}
  [[store.table]]
  name = "posts"
  match = {{ author_id = "member_id" }}
  erase = {{ anonymize = {{ author_id = {{ null = true }}, body = "[deleted]" }} }}
  [[store.table]]
  name = "post_likes"
  match = {{ member_id = "member_id" }}
  [[store.table]]
  name = "follows"
  match = {{ follower_id = "member_id", followee_id = "member_id" }}
  [[store.table]]
  name = "messages"
  match = {{ sender = "member_id", recipient = "member_id" }}
  [store.table.erase]
  anonymize = {{ sender = {{ null = true }}, recipient = {{ null = true }}, text = "[deleted]" }}
  author = "sender"
"""

# The file the draft made: every listed column overwritten on every matched row, a
# key-only table anonymised through its primary key.
AUTHOR = '\n  author = "sender"'
OLD_LIKES = HAND_WRITTEN.replace(
    'match = {{ member_id = "member_id" }}',
    'match = {{ member_id = "member_id", post_id = "post_id" }}\n'
    "  erase = {{ anonymize = {{ post_id = {{ null = true }}, member_id = {{ null = true }} }} }}",
).replace(
    'match = {{ author_id = "member_id" }}', 'match = {{ author_id = "member_id" }}\n  provides = {{ post_id = "id" }}'
)
OLD_DRAFT = OLD_LIKES.replace(AUTHOR, "")


Rows = Callable[[str], list[tuple]]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_party(request, tmp_path) -> Iterator[tuple[str, Rows]]:
    """(url, rows(sql)) of a fresh database with SCHEMA, on SQLite or on PostgreSQL."""
    with scripted_host(request.param, tmp_path, SCHEMA) as host:
        yield host


def dump(rows: Rows) -> dict[str, list[tuple]]:
    return {table: rows(f"SELECT * FROM {table}") for table in AFTER}


def erase(email: str) -> PrivacyRequest:
    from django.utils import timezone

    now = timezone.now()
    request = PrivacyRequest.objects.create(
        kind="deletion", status="approved", email=email, verified_at=now, approved_at=now
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return local.run_local(request)


def use(path: Path, text: str, settings) -> None:
    path.write_text(text)
    settings.PORTAL_STORES_FILE = str(path)
    registry._cache.clear()
    assert registry.load().errors == []


def assert_verified(request: PrivacyRequest) -> None:
    assert request.status == "completed", request.attention_reason
    verify = list(request.store_tasks.filter(phase="verify"))
    assert verify and all(t.verified_gone for t in verify)


def test_a_hand_written_file_erases_ann_and_leaves_ben_as_he_was(two_party, tmp_path, settings):
    url, rows = two_party
    use(tmp_path / "stores.toml", HAND_WRITTEN.format(url=url), settings)
    call_command("check_stores")
    assert_verified(erase("ann@example.com"))
    assert dump(rows) == AFTER
    # Looking again finds nothing of Ann's left to change.
    store = registry.get("app-db")
    ann = Subject(identities={"email": {"ann@example.com"}})
    assert store.verify_gone(ann).found == 0
    assert store.discover(ann).found == 0  # a new request for Ann finds nothing of hers
    registry._cache.clear()


def test_a_drafted_file_erases_ann_and_leaves_ben_as_he_was(two_party, tmp_path, settings, capsys):
    url, rows = two_party
    out = tmp_path / "stores.toml"
    call_command("draft_stores", url=url, subject_table="members", out=str(out))
    text = out.read_text()
    # The two-party table: each link cleared where it names the person, the words where she wrote them.
    messages = text.split('name = "messages"', 1)[1].split("[[store.table]]", 1)[0]
    assert (
        'erase = { anonymize = { recipient = { null = true }, sender = { null = true }, text = "[deleted]" }, '
        'author = "sender" }' in messages
    )
    assert "shared by two people: each of recipient, sender is cleared only on the rows where it names" in text
    assert "text only where sender does (what they wrote)" in text
    # Key-only tables are deleted, never anonymised; a like is matched by its liker only.
    likes = text.split('name = "post_likes"', 1)[1].split("[[store.table]]", 1)[0]
    assert 'match = { member_id = "member_id" }' in likes and "erase" not in likes
    assert "post_id is not used to match: posts rows are anonymised" in text
    follows = text.split('name = "follows"', 1)[1].split("[[store.table]]", 1)[0]
    assert "erase" not in follows
    assert "only keys (links between people or things): the rows that match the person are deleted, in both" in text
    assert text.count("only keys (links between people or things)") == 2

    settings.PORTAL_STORES_FILE = str(out)
    registry._cache.clear()
    call_command("check_stores")
    capsys.readouterr()
    call_command("erase_subject", email="ann@example.com")
    assert "completed and verified" in capsys.readouterr().out
    assert_verified(PrivacyRequest.objects.get())
    assert dump(rows) == AFTER
    registry._cache.clear()


def test_each_column_changes_only_where_it_matched_in_one_statement_per_table(two_party, tmp_path):
    url, rows = two_party
    store = registry.parse(HAND_WRITTEN.format(url=url), "stores.toml").stores[0]
    outcome = store.erase(Subject(identities={"email": {"ann@example.com"}}))
    # One statement per table, also for messages: each column is a CASE on its own match.
    assert outcome.detail["statements"] == 5
    assert outcome.detail["tables"]["messages"] == {"mode": "anonymize", "rows": 3}  # 100, 101, 103
    assert dump(rows) == AFTER
    again = store.erase(Subject(identities={"email": {"ann@example.com"}, "member_id": {"1"}}))
    assert again.anonymised == again.erased == 0  # nothing left to change


def test_the_old_draft_is_refused_by_check_stores_naming_what_to_do(two_party, tmp_path, settings, capsys):
    url, rows = two_party
    path = tmp_path / "stores.toml"
    path.write_text(OLD_DRAFT.format(url=url))
    settings.PORTAL_STORES_FILE = str(path)
    registry._cache.clear()
    errors = registry.load().errors
    assert errors == [
        'stores.toml: store "app-db" (sql): field "table[4] (messages).erase": rows are matched through sender '
        "or recipient, so overwriting text on every matched row would erase other people's words too (a "
        'message the person received). Add author = "sender" (the match column naming who wrote the row): '
        "text would then be overwritten only on rows the person wrote"
    ]
    with pytest.raises(CommandError, match="stores.toml: the stores configuration has problems"):
        call_command("check_stores")
    assert 'field "table[4] (messages).erase": rows are matched through sender or recipient' in (
        capsys.readouterr().err
    )

    # With the author fixed, the key-only likes table is still refused once the schema is read.
    path.write_text(OLD_LIKES.format(url=url))
    registry._cache.clear()
    assert registry.load().errors == []
    with pytest.raises(CommandError):
        call_command("check_stores")
    err = capsys.readouterr().err
    assert (
        'store "app-db", table "post_likes": every column (post_id, member_id) is part of a key, so '
        "anonymising leaves nothing but a broken link" in err
    )
    assert 'use erase = "delete"' in err

    # The engine refuses it too, before any statement: nothing of anyone's changes.
    before = dump(rows)
    store = registry.get("app-db")
    with pytest.raises(PermanentStoreError, match="erasure refused, nothing was changed: .*post_likes"):
        store.erase(Subject(identities={"email": {"ann@example.com"}}))
    assert dump(rows) == before
    request = erase("ann@example.com")  # through the engine: the request waits for staff, saying why
    assert request.status == "needs_attention"
    assert "erasure refused, nothing was changed" in request.attention_reason
    assert "post_likes" in request.attention_reason
    assert dump(rows) == before
    registry._cache.clear()


def test_an_anonymize_of_a_primary_key_column_is_refused(two_party, tmp_path):
    url, _ = two_party
    text = HAND_WRITTEN.format(url=url).replace('body = "[deleted]"', 'body = "[deleted]", id = 0')
    store = registry.parse(text, "stores.toml").stores[0]
    with pytest.raises(PermanentStoreError) as caught:
        store.check_connection()
    assert str(caught.value) == (
        'store "app-db", table "posts": anonymize would overwrite column id, part of the primary key (id); a key '
        'identifies the row and is never overwritten: remove id from anonymize, or use erase = "delete"'
    )


@pytest.mark.parametrize(
    ("anonymize", "author", "field", "says"),
    [
        (
            'sender = { null = true }, text = "[deleted]"',
            '"sender"',
            "erase.anonymize",
            "recipient matches the person but is not anonymised: rows where only recipient names them would "
            "keep pointing to them; add recipient = { null = true }",
        ),
        (
            "sender = { null = true }, recipient = { null = true }",
            '"text"',
            "erase.author",
            "'text' is not one of the match columns (sender, recipient)",
        ),
        (
            "sender = { null = true }, recipient = { null = true }",
            "3",
            "erase.author",
            'a match column, or a list of them: author = "sender_id"',
        ),
    ],
)
def test_ambiguous_anonymize_settings_are_named(anonymize, author, field, says):
    text = HAND_WRITTEN.format(url="sqlite:///x").split("  [store.table.erase]")[0]
    text += f"  erase = {{ anonymize = {{ {anonymize} }}, author = {author} }}\n"
    errors = registry.parse(text, "stores.toml").errors
    assert len(errors) == 1 and errors[0].startswith(
        f'stores.toml: store "app-db" (sql): field "table[4] (messages).{field}": {says}'
    ), errors


def test_per_column_anonymise_without_words_and_author_lists(two_party):
    """No content columns: no author needed; several author columns: the words go where any matched."""
    url, rows = two_party
    text = HAND_WRITTEN.format(url=url).replace(', text = "[deleted]" }', " }").replace(AUTHOR, "")
    store = registry.parse(text, "stores.toml").stores[0]
    store.erase(Subject(identities={"email": {"ann@example.com"}}))
    assert rows("SELECT * FROM messages") == [
        (100, None, 2, "Hi Ben, Ann here"),
        (101, 2, None, "Hi Ann, Ben here"),
        (102, 2, 3, "Ben to Cid"),
        (103, None, None, "Ann, a note to herself"),
        (104, 3, 2, "Cid to Ben"),
    ]
    both = HAND_WRITTEN.format(url=url).replace('author = "sender"', 'author = ["sender", "recipient"]')
    assert registry.parse(both, "stores.toml").errors == []
