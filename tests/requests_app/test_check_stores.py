"""A stores file with mistakes gets errors naming the file, the store, the field and what is wrong."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from requests_app.demo import write_stores
from requests_app.stores import registry

MISTAKES = """
[[store]]
name = "app-db"
kind = "sql"
url = "oracle://db/app"
batch_size = 0
  [[store.table]]
  name = "accounts_user; DROP TABLE x"
  match = { email = "email" }
  [[store.table]]
  name = "media_photo"
  match = { owner_id = "User-Id" }
  erase = "shred"
  [[store.table]]
  name = "forum_comment"
  match = { author_id = "user_id" }
  erase = { anonymize = { body = ["a", "b"] } }

[[store]]
name = "uploads"
kind = "files"
root = "${MEDIA_ROOT_THAT_IS_NOT_SET}"
paths = ["avatars/{user_id}/"]

[[store]]
name = "hook"
kind = "webhook"
url = "ftp://app"
secret = "short"

[[store]]
name = "Bad Name"
kind = "sql"

[[store]]
name = "mystery"
kind = "mongodb"
"""


def errors_of(text: str) -> list[str]:
    return registry.parse(text, "stores.toml").errors


def test_every_mistake_is_named():
    errors = errors_of(MISTAKES)
    expected = [
        'stores.toml: store "app-db" (sql): field "url": scheme \'oracle\' is not supported',
        'stores.toml: store "app-db" (sql): field "batch_size": a whole number between 1 and 10000',
        'stores.toml: store "app-db" (sql): field "table[0].name": required: the table name',
        'stores.toml: store "app-db" (sql): field "table[1] (media_photo).match.owner_id": '
        "'User-Id' is not an "
        "identity kind",
        'stores.toml: store "app-db" (sql): field "table[1] (media_photo).erase": \'shred\': use "delete", "keep"',
        'stores.toml: store "app-db" (sql): field "table[2] (forum_comment).erase.anonymize.body": a single value',
        'stores.toml: store "uploads" (files): field "root": ${MEDIA_ROOT_THAT_IS_NOT_SET} is not set in the '
        "environment",
        'stores.toml: store "hook" (webhook): field "url": required: the host app\'s endpoint',
        'stores.toml: store "hook" (webhook): field "secret": required: a shared random secret of at least 32',
        'stores.toml: store "Bad Name": field "name": required; lowercase letters, digits, - and _',
        'stores.toml: store "mystery": field "kind": \'mongodb\' is not one of',
    ]
    for fragment in expected:
        assert any(e.startswith(fragment) for e in errors), f"missing: {fragment}\n" + "\n".join(errors)


def test_a_store_entry_that_is_not_a_table_is_named_not_a_crash():
    assert errors_of('store = ["app-db"]') == [
        "stores.toml: store #1: must be a table: write [[store]] with name = … and kind = …"
    ]


def test_sql_tables_depending_in_a_circle_are_refused():
    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
  [[store.table]]
  name = "a"
  match = { email = "email", b_id = "b_key" }
  provides = { a_key = "id" }
  [[store.table]]
  name = "b"
  match = { a_id = "a_key" }
  provides = { b_key = "id" }
"""
    assert any("tables depend on each other in a circle" in e for e in errors_of(text))


def test_a_kind_provided_twice_in_one_store_is_refused():
    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
  [[store.table]]
  name = "a"
  match = { email = "email" }
  provides = { user_id = "id" }
  [[store.table]]
  name = "b"
  match = { email = "email" }
  provides = { user_id = "id" }
"""
    assert any("'user_id' is already provided by table 'a'" in e for e in errors_of(text))


def test_the_shipped_example_is_valid(settings):
    from pathlib import Path

    path = Path(settings.BASE_DIR) / "docs" / "examples" / "stores.toml"
    assert registry.parse(path.read_text(), path.name).errors == []


@pytest.mark.django_db
def test_check_stores_passes_on_a_good_file_and_reaches_each_store(tmp_path, settings, sqlite_host, media_root, capsys):
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    call_command("check_stores")
    out = capsys.readouterr().out
    assert '✓ store "app-db" (sql): configuration valid, reachable' in out
    # the ledger store is always there, named in the file or not
    assert '✓ store "azure-ledger" (azure_ledger)' in out and "All 3 store(s) are ready." in out


@pytest.mark.django_db
def test_check_stores_fails_naming_an_unreachable_store(tmp_path, settings, sqlite_host, media_root, capsys):
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    with sqlite_host.cursor() as c:
        c.execute("DROP TABLE social_follow")
    with pytest.raises(CommandError, match="the stores configuration has problems"):
        call_command("check_stores")
    err = capsys.readouterr().err
    assert 'store "app-db" (sql): store "app-db": table "social_follow" does not exist in the database' in err


def test_check_stores_fails_on_a_file_with_mistakes(tmp_path, capsys):
    path = tmp_path / "stores.toml"
    path.write_text(MISTAKES)
    with pytest.raises(CommandError):
        call_command("check_stores", file=str(path), no_connect=True)
    assert 'store "hook" (webhook): field "secret"' in capsys.readouterr().err


def test_check_stores_names_a_missing_file(tmp_path, capsys):
    with pytest.raises(CommandError):
        call_command("check_stores", file=str(tmp_path / "nope.toml"))
    assert "stores file not found (set PORTAL_STORES_FILE)" in capsys.readouterr().err


@pytest.mark.django_db
def test_healthz_reports_stores_file_errors(client, settings, tmp_path):
    path = tmp_path / "stores.toml"
    path.write_text(MISTAKES)
    settings.PORTAL_STORES_FILE = str(path)
    check = client.get("/healthz").json()["checks"]["stores_config"]
    assert check["ok"] is False
    assert any('store "hook" (webhook)' in e for e in check["errors"])
