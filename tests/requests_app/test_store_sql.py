"""The sql store kind against a real host-app database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from requests_app.demo import STORES_TOML
from requests_app.stores import registry
from requests_app.stores.base import PermanentStoreError, Subject
from requests_app.stores.sql import SqlStore
from tests.conftest import ALICE

pytestmark = pytest.mark.django_db  # the store connects through Django's database layer


def sql_store(host, tmp_path) -> SqlStore:
    loaded = registry.parse(STORES_TOML.format(url=host.url, media=tmp_path, extra=""), "stores.toml")
    assert loaded.errors == []
    return next(s for s in loaded.stores if s.name == "app-db")


def alice() -> Subject:
    return Subject(identities={"email": {ALICE}})


class ListSink:
    def __init__(self):
        self.tables = {}

    @contextmanager
    def records(self, name):
        rows = self.tables.setdefault(name, [])

        class W:
            def write(self, record):
                rows.append(json.loads(json.dumps(record)))

        yield W()

    def add_file(self, arcname, fileobj):
        raise AssertionError("sql stores export no files")


def test_discover_counts_rows_and_provides_user_id(host_db, tmp_path):
    found = sql_store(host_db, tmp_path).discover(alice())
    assert found.tables == {
        "accounts_user": 1,
        "accounts_profile": 1,
        "media_photo": 3,
        "media_photo_likes": 2,
        "forum_comment": 2,
        "social_follow": 2,
    }
    assert found.found == 11
    assert found.provides == {"user_id": {"1"}, "photo_id": {"1", "2", "3"}}


def test_discover_email_matches_case_insensitively(host_db, tmp_path):
    found = sql_store(host_db, tmp_path).discover(Subject(identities={"email": {"ALICE@example.COM"}}))
    assert found.provides["user_id"] == {"1"}


def test_discover_unknown_subject_finds_nothing(host_db, tmp_path):
    found = sql_store(host_db, tmp_path).discover(Subject(identities={"email": {"nobody@example.com"}}))
    assert found.found == 0
    assert found.provides == {}


def test_export_writes_only_the_subjects_rows_with_column_names(host_db, tmp_path):
    sink = ListSink()
    outcome = sql_store(host_db, tmp_path).export(alice(), sink)
    assert outcome.exported == 11
    assert [r["username"] for r in sink.tables["accounts_user"]] == ["alice"]
    assert sink.tables["accounts_profile"][0]["phone"] == "+49 30 1234"
    assert {r["id"] for r in sink.tables["media_photo_likes"]} == {1, 2}
    assert {r["id"] for r in sink.tables["social_follow"]} == {1, 2}
    # The subject's own id is no news to them; another person's id is never handed over.
    assert all("author_id" not in r for r in sink.tables["forum_comment"])
    likes = {r["id"]: r for r in sink.tables["media_photo_likes"]}
    assert likes[1]["user_id"] == "another member" and "user_id" not in likes[2]


def test_erase_deletes_anonymises_and_keeps_other_users(host_db, tmp_path):
    outcome = sql_store(host_db, tmp_path).erase(alice())
    assert outcome.erased == 1 + 1 + 3 + 2 + 2
    assert outcome.anonymised == 2
    assert host_db.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]
    assert host_db.rows("SELECT user_id FROM accounts_profile") == [(2,)]
    assert host_db.rows("SELECT owner_id, COUNT(*) FROM media_photo GROUP BY owner_id") == [(2, 2)]
    assert host_db.rows("SELECT id FROM media_photo_likes") == [(3,)]
    assert host_db.rows("SELECT id FROM social_follow") == [(3,)]
    assert host_db.rows("SELECT id, author_id, author_name, body FROM forum_comment ORDER BY id") == [
        (1, None, "", "[removed]"),
        (2, None, "", "[removed]"),
        (100000, 2, "bob", "bob says hi"),
    ]


def test_erase_twice_is_harmless(host_db, tmp_path):
    store = sql_store(host_db, tmp_path)
    store.erase(alice())
    again = store.erase(alice())
    assert (again.erased, again.anonymised) == (0, 0)
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 2


def test_verify_gone_after_erase_finds_nothing(host_db, tmp_path):
    store = sql_store(host_db, tmp_path)
    assert store.verify_gone(alice()).found == 11
    store.erase(alice())
    assert store.verify_gone(alice()).found == 0


def test_verify_gone_counts_rows_not_anonymised(host_db, tmp_path):
    toml = f"""
[[store]]
name = "forum"
kind = "sql"
url = "{host_db.url}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}
  erase = "keep"
  [[store.table]]
  name = "forum_comment"
  match = {{ author_id = "user_id" }}
  erase = {{ anonymize = {{ body = "[removed]", author_name = "" }} }}
"""
    store = registry.parse(toml, "stores.toml").stores[0]
    assert store.erase(alice()).anonymised == 2
    assert store.verify_gone(alice()).found == 0
    with host_db.cursor() as c:
        c.execute("UPDATE forum_comment SET body = 'written meanwhile' WHERE id = 2")
    assert store.verify_gone(alice()).tables == {"forum_comment": 1}


def test_erase_statement_count_does_not_grow_with_rows(host_db, tmp_path):
    small = sql_store(host_db, tmp_path).erase(alice()).detail["statements"]
    host_db.drop()
    host_db.create()
    host_db.populate(photos=500, comments=700)
    large = sql_store(host_db, tmp_path).erase(alice())
    assert large.erased > 500
    assert large.detail["statements"] == small == 6


def test_identity_values_are_bound_not_inlined(host_db, tmp_path):
    evil = Subject(identities={"email": {"x' OR '1'='1"}, "user_id": {"1 OR 1=1"}})
    store = sql_store(host_db, tmp_path)
    assert store.discover(evil).found == 0
    store.erase(evil)
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3


def test_reserved_word_identifiers_are_quoted(host_db, tmp_path):
    with host_db.cursor() as c:
        c.execute('CREATE TABLE "order" (id INTEGER PRIMARY KEY, "user" INTEGER NOT NULL, "select" TEXT)')
        c.execute("INSERT INTO \"order\" VALUES (1, 1, 'a'), (2, 2, 'b')")
    toml = f"""
[[store]]
name = "shop"
kind = "sql"
url = "{host_db.url}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}
  erase = "keep"
  [[store.table]]
  name = "order"
  match = {{ user = "user_id" }}
  erase = {{ anonymize = {{ select = "gone" }} }}
"""
    loaded = registry.parse(toml, "stores.toml")
    assert loaded.errors == []
    outcome = loaded.stores[0].erase(alice())
    assert outcome.anonymised == 1
    assert host_db.rows('SELECT id, "select" FROM "order" ORDER BY id') == [(1, "gone"), (2, "b")]
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3  # kept


def test_missing_table_is_a_permanent_error_naming_store_and_table(host_db, tmp_path):
    host_db.rows("SELECT 1")  # connection works
    with host_db.cursor() as c:
        c.execute("DROP TABLE social_follow")
    with pytest.raises(PermanentStoreError, match=r'store "app-db", table "social_follow"'):
        sql_store(host_db, tmp_path).erase(alice())
    # nothing was half-done: the erasure is one transaction
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3


def test_check_connection_names_a_missing_column(host_db, tmp_path):
    toml = STORES_TOML.format(url=host_db.url, media=tmp_path, extra="").replace(
        'match = { owner_id = "user_id" }', 'match = { owner = "user_id" }'
    )
    store = next(s for s in registry.parse(toml, "stores.toml").stores if s.name == "app-db")
    with pytest.raises(PermanentStoreError, match=r'table "media_photo"'):
        store.check_connection()


def test_unreachable_database_is_transient(tmp_path):
    from requests_app.stores.base import TransientStoreError

    toml = STORES_TOML.format(url="postgres://nobody@127.0.0.1:1/none", media=tmp_path, extra="")
    store = next(s for s in registry.parse(toml, "stores.toml").stores if s.name == "app-db")
    with pytest.raises(TransientStoreError, match='store "app-db": connecting failed'):
        store.discover(alice())


def test_erase_order_puts_children_before_parents_from_foreign_keys(sqlite_host, tmp_path):
    # The config lists parents first; the engine must still delete children first.
    store = sql_store(sqlite_host, tmp_path)
    with store.connect() as conn:
        order = [t.name for t in store.erase_order(conn)]
    assert order.index("media_photo_likes") < order.index("media_photo") < order.index("accounts_user")
    assert order.index("accounts_profile") < order.index("accounts_user")
    assert order.index("social_follow") < order.index("accounts_user")


def test_retention_deletes_only_old_rows(host_db, tmp_path):
    from datetime import datetime

    deleted = sql_store(host_db, tmp_path).erase_older_than("media_photo_likes", "id", 2)
    assert deleted == 1
    with host_db.cursor() as c:
        c.execute("DELETE FROM media_photo_likes")
    deleted = sql_store(host_db, tmp_path).erase_older_than("media_photo", "created_at", datetime(2021, 1, 1))
    assert deleted == 3  # alice's photo 1 and bob's two


def test_a_requests_phases_share_one_connection_closed_after_verify(host_db, tmp_path):
    store = sql_store(host_db, tmp_path)
    subject = Subject(identities={"email": {ALICE}}, request_id=41)
    store.discover(subject)
    kept = store._kept
    assert kept is not None  # open for the erasure of the same request
    connection = kept.session.conn
    assert store.erase(subject).erased > 0
    assert store._kept is not None and store._kept.session.conn is connection  # no reconnect
    assert store.verify_gone(subject).found == 0
    assert store._kept is None  # the last phase closes it
    assert connection.connection is None


def test_another_request_gets_its_own_connection(host_db, tmp_path):
    store = sql_store(host_db, tmp_path)
    store.discover(Subject(identities={"email": {ALICE}}, request_id=1))
    first = store._kept.session.conn
    store.discover(Subject(identities={"email": {ALICE}}, request_id=2))
    assert store._kept.session.conn is not first
    assert first.connection is None  # the first request's connection was closed
    store.close()
    assert store._kept is None


def test_without_a_request_nothing_stays_open(host_db, tmp_path):
    store = sql_store(host_db, tmp_path)
    store.discover(alice())
    assert store._kept is None


def test_discovery_reads_only_the_identity_kinds_wanted(host_db, tmp_path):
    subject = Subject(identities={"email": {ALICE}}, wanted={"email", "user_id"})
    found = sql_store(host_db, tmp_path).discover(subject)
    assert found.provides == {"user_id": {"1"}}  # photo_id is used only inside the store
    assert found.found == 11
