"""The stores file misses nothing: undeclared tables are named everywhere, composite keys work,
every identifier the form asks for is usable (and held for staff when unproven)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from portal.models import AuditEvent
from requests_app.engine import local, receipt
from requests_app.models import AccessPackage, PrivacyRequest
from requests_app.services.intake import request_file_verified, request_verify
from requests_app.stores import registry
from requests_app.stores.base import Subject
from tests.conftest import ALICE
from tests.requests_app.engine_fixtures import *  # noqa: F403
from tests.requests_app.intake_helpers import committed, fresh_rate_limits, submit  # noqa: F401

pytestmark = pytest.mark.django_db

INVOICES = """CREATE TABLE billing_invoice (id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES accounts_user (id), amount INTEGER NOT NULL)"""
NEWSLETTER = "CREATE TABLE newsletter (id INTEGER PRIMARY KEY, contact_email VARCHAR(254) NOT NULL)"
BLOCKS = """CREATE TABLE social_block (blocker_id INTEGER NOT NULL REFERENCES accounts_user (id),
    blocked_id INTEGER NOT NULL REFERENCES accounts_user (id), created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id))"""


def add(host, *statements: str) -> None:
    with host.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def with_tables(path: Path, snippet: str) -> None:
    """Add [[store.table]] entries to the app-db store of a stores file."""
    text = path.read_text()
    path.write_text(text.replace('[[store]]\nname = "uploads"', snippet + '\n[[store]]\nname = "uploads"'))


def run(request):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return local.run_local(request)


def invoices(host):
    add(
        host,
        INVOICES,
        "INSERT INTO billing_invoice VALUES (1, 1, 100)",
        "INSERT INTO billing_invoice VALUES (2, 2, 50)",
    )


# --- check_stores and /healthz --------------------------------------------------------------
def test_check_stores_names_an_undeclared_table_that_references_a_declared_one(stores_file, host_db, capsys):
    invoices(host_db)
    with pytest.raises(CommandError, match="the stores configuration has problems"):
        call_command("check_stores")
    err = capsys.readouterr().err
    assert 'store "app-db" (sql): billing_invoice.user_id references accounts_user.id but is not declared' in err


def test_check_stores_names_a_column_shaped_like_a_match_column(stores_file, host_db, capsys):
    add(host_db, NEWSLETTER)
    with pytest.raises(CommandError):
        call_command("check_stores")
    assert (
        "newsletter.contact_email looks like accounts_user.email (identity kind email, same name and type) "
        "but is not declared" in capsys.readouterr().err
    )


def test_ignore_with_a_reason_silences_a_table(stores_file, host_db, capsys):
    invoices(host_db)
    with_tables(stores_file, '  [[store.table]]\n  name = "billing_invoice"\n  ignore = "handled by accounting"\n')
    call_command("check_stores")
    assert "All 3 store(s) are ready." in capsys.readouterr().out


def test_ignore_needs_a_reason_and_nothing_else():
    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
  [[store.table]]
  name = "accounts_user"
  match = { email = "email" }
  [[store.table]]
  name = "billing_invoice"
  ignore = ""
  erase = "keep"
"""
    errors = registry.parse(text, "stores.toml").errors
    assert any('"table[1] (billing_invoice).ignore": say why the table is left out' in e for e in errors)
    assert any('"table[1] (billing_invoice).erase": an ignored table takes only name and ignore' in e for e in errors)


def test_healthz_warns_about_uncovered_tables_without_failing(client, stores_file, host_db):
    invoices(host_db)
    registry._coverage_cache.clear()
    check = client.get("/healthz").json()["checks"]["stores_config"]
    assert check["ok"] is True
    assert check["warnings"] == [
        'store "app-db" (sql): billing_invoice.user_id references accounts_user.id but is not declared'
    ]


# --- erasure ----------------------------------------------------------------------------------
def test_an_erasure_blocked_by_an_undeclared_table_names_that_table(stores_file, host_db, approved_request):
    invoices(host_db)
    request = run(approved_request("deletion"))
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert 'table "billing_invoice" is not declared in the stores file and 1 of its rows reference' in (
        request.attention_reason
    )
    assert "another table still references" not in request.attention_reason
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3  # rolled back, nothing half-done
    assert host_db.scalar("SELECT COUNT(*) FROM media_photo") == 5


def test_a_kept_table_that_blocks_the_erasure_is_named_with_the_fix(stores_file, host_db, approved_request):
    invoices(host_db)
    with_tables(
        stores_file,
        '  [[store.table]]\n  name = "billing_invoice"\n  match = { user_id = "user_id" }\n  erase = "keep"\n',
    )
    request = run(approved_request("deletion"))
    assert 'table "billing_invoice" is kept, and 1 of its rows still reference the accounts_user rows' in (
        request.attention_reason
    )


def test_dry_run_says_the_erasure_would_fail_and_why(stores_file, host_db, capsys):
    invoices(host_db)
    call_command("erase_subject", email=ALICE, dry_run=True)
    out = capsys.readouterr().out
    assert "not covered: app-db · billing_invoice (1 row(s) of this person)" in out
    assert "the erasure would FAIL on it" in out


def test_failed_erase_subject_summary_reads_true(stores_file, host_db, capsys):
    invoices(host_db)
    with pytest.raises(CommandError, match='table "billing_invoice" is not declared'):
        call_command("erase_subject", email=ALICE)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("app-db", "uploads"))]
    assert lines[0].startswith("app-db") and "FAILED (erase)" in lines[0]
    assert lines[1].startswith("uploads") and "not run" in lines[1]
    assert "NOT gone" not in out
    assert "not covered: app-db · billing_invoice" in out


def test_receipt_lists_a_table_it_did_not_erase(stores_file, host_db, approved_request):
    add(host_db, NEWSLETTER, f"INSERT INTO newsletter VALUES (1, '{ALICE.upper()}')")
    request = run(approved_request("deletion"))
    assert request.status == PrivacyRequest.Status.COMPLETED
    store = next(s for s in request.receipt["stores"] if s["store"] == "app-db")
    assert store["not_covered"] == [
        {
            "table": "newsletter",
            "why": "newsletter.contact_email looks like accounts_user.email (identity kind email, "
            "same name and type) but is not declared",
            "rows": 1,
        }
    ]
    assert receipt.verify(request.receipt, request.receipt_signature)
    assert "Not covered: newsletter" in receipt.as_html(request.receipt, request.receipt_signature)


# --- the access package --------------------------------------------------------------------------
def read_package(request) -> zipfile.ZipFile:
    package = AccessPackage.objects.get(request=request)
    return zipfile.ZipFile(Path(django_settings.PORTAL_PRIVATE_ROOT) / package.path)


def test_access_package_names_what_it_does_not_cover(stores_file, host_db, approved_request):
    invoices(host_db)
    request = run(approved_request("access"))
    assert request.status == PrivacyRequest.Status.COMPLETED
    index = read_package(request).read("index.html").decode()
    assert "not covered: billing_invoice" in index
    assert "1 entry may be about you" in index


# --- composite keys -------------------------------------------------------------------------------
BLOCK_TABLE = (
    '  [[store.table]]\n  name = "social_block"\n  match = { blocker_id = "user_id", blocked_id = "user_id" }\n'
)


def test_a_key_only_table_with_a_composite_primary_key_needs_no_key(stores_file, host_db, approved_request, capsys):
    add(
        host_db,
        BLOCKS,
        "INSERT INTO social_block VALUES (1, 2, '2020-01-01 00:00:00')",
        "INSERT INTO social_block VALUES (3, 1, '2026-01-01 00:00:00')",
        "INSERT INTO social_block VALUES (2, 3, '2026-01-01 00:00:00')",
    )
    with_tables(stores_file, BLOCK_TABLE)
    call_command("check_stores")
    assert "All 3 store(s) are ready." in capsys.readouterr().out
    request = run(approved_request("deletion"))
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    assert host_db.rows("SELECT blocker_id, blocked_id FROM social_block") == [(2, 3)]


def test_a_declared_composite_key_orders_the_export_and_drives_retention(stores_file, host_db, tmp_path):
    add(
        host_db,
        BLOCKS,
        "INSERT INTO social_block VALUES (1, 3, '2020-01-01 00:00:00')",
        "INSERT INTO social_block VALUES (1, 2, '2026-01-01 00:00:00')",
        "INSERT INTO social_block VALUES (2, 3, '2019-01-01 00:00:00')",
    )
    with_tables(stores_file, BLOCK_TABLE + '  key = ["blocker_id", "blocked_id"]\n')
    store = registry.get("app-db")

    class Sink:
        rows: list = []

        def records(self, name):
            from contextlib import contextmanager

            @contextmanager
            def writer():
                class W:
                    def write(self, record):
                        if name == "social_block":
                            # Alice's own id is left out; whom she blocked is withheld (no name declared).
                            assert "blocker_id" not in record and record["blocked_id"] == "another member"
                            Sink.rows.append(str(record["created_at"])[:4])

                yield W()

            return writer()

    store.export(Subject(identities={"email": {ALICE}}), Sink())
    assert Sink.rows == ["2026", "2020"]  # (1, 2) before (1, 3): the declared key's order
    assert store.erase_older_than("social_block", "created_at", "2021-01-01 00:00:00") == 2
    assert host_db.rows("SELECT blocker_id, blocked_id FROM social_block") == [(1, 2)]


def test_a_key_must_be_a_column_or_a_list_of_columns():
    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
  [[store.table]]
  name = "accounts_user"
  match = { email = "email" }
  key = ["a", 3]
"""
    assert any(
        'field "table[0] (accounts_user).key": a column name, or a list of them' in e
        for e in registry.parse(text, "stores.toml").errors
    )


# --- every identifier the form asks for is an identity kind ---------------------------------------
def username_file(stores_file: Path) -> None:
    text = stores_file.read_text()
    stores_file.write_text(
        text.replace(
            'match = { email = "email" }\n  provides = { user_id = "id" }',
            'match = { email = "email", username = "username" }\n  provides = { user_id = "id" }',
            1,
        )
    )


def test_username_is_a_usable_identity_kind_when_the_form_asks_for_it(stores_file, settings):
    username_file(stores_file)
    settings.PORTAL_EXTRA_IDENTIFIERS = ["username"]
    assert registry.load().errors == []
    settings.PORTAL_EXTRA_IDENTIFIERS = []
    assert any(
        "needs identity kind(s) username that no store provides and the request form does not ask for" in e
        for e in registry.load().errors
    )


def test_an_erasure_found_through_the_username_erases_that_account(stores_file, host_db, approved_request):
    username_file(stores_file)
    request = run(approved_request("deletion", email="someone-else@example.com", identifiers={"username": "alice"}))
    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    assert host_db.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]


@pytest.mark.usefixtures("fresh_rate_limits")
def test_a_typed_in_identifier_holds_auto_approval_for_staff(stores_file, settings):
    username_file(stores_file)
    settings.PORTAL_AUTO_APPROVE = ["access", "deletion"]
    request, token = submit(kind="deletion", identifiers={"username": "alice"})
    with committed():
        request = request_verify(token=token)
    assert request.status == PrivacyRequest.Status.VERIFIED
    held = AuditEvent.objects.get(subject_id=str(request.pk), action="request.auto_approval_held")
    assert "username" in held.reason and "does not prove" in held.reason
    # Without the identifier, the same request is approved at once.
    plain, token = submit(email="carol@example.net", kind="deletion")
    with committed():
        assert request_verify(token=token).status == PrivacyRequest.Status.APPROVED


def test_an_identifier_vouched_for_by_the_host_app_is_approved_automatically(stores_file, settings):
    username_file(stores_file)
    settings.PORTAL_AUTO_APPROVE = ["access", "deletion"]
    with committed():
        request = request_file_verified(
            kind="deletion",
            email=ALICE,
            identifiers={"username": "alice"},
            jurisdiction="gdpr",
            channel="host_app",
            actor="api-key:host app",
        )
    assert request.status == PrivacyRequest.Status.APPROVED
    mail.outbox.clear()


# --- MySQL / MariaDB (when a server is reachable) ------------------------------------------------
MYSQL_URL = "mysql://root@127.0.0.1:3306/test"


def test_mysql_schema_coverage_and_erasure(tmp_path):
    import os

    url = os.environ.get("HOSTAPP_TEST_MYSQL_URL", MYSQL_URL)
    pymysql = pytest.importorskip("pymysql")
    parts = url.split("://", 1)[1]
    user, rest = parts.split("@", 1)
    host_port, database = rest.split("/", 1)
    host, port = host_port.split(":")
    try:
        conn = pymysql.connect(host=host, port=int(port), user=user, database=database, connect_timeout=2)
    except Exception as exc:  # no MariaDB here: the queries are documented in docs/stores.md
        pytest.skip(f"MySQL/MariaDB at {url} not reachable ({type(exc).__name__})")
    cursor = conn.cursor()
    prefix = f"t{os.getpid()}_"
    names = [f"{prefix}{n}" for n in ("invoice", "follow", "user")]
    try:
        cursor.execute(f"CREATE TABLE {prefix}user (id INT PRIMARY KEY, email VARCHAR(254) NOT NULL) ENGINE=InnoDB")
        cursor.execute(
            f"CREATE TABLE {prefix}follow (follower_id INT NOT NULL, followee_id INT NOT NULL, "
            f"PRIMARY KEY (follower_id, followee_id), FOREIGN KEY (follower_id) REFERENCES {prefix}user (id), "
            f"FOREIGN KEY (followee_id) REFERENCES {prefix}user (id)) ENGINE=InnoDB"
        )
        cursor.execute(
            f"CREATE TABLE {prefix}invoice (id INT PRIMARY KEY, user_id INT NOT NULL, "
            f"FOREIGN KEY (user_id) REFERENCES {prefix}user (id)) ENGINE=InnoDB"
        )
        cursor.execute(f"INSERT INTO {prefix}user VALUES (1, 'Alice@Example.com'), (2, 'bob@example.org')")
        cursor.execute(f"INSERT INTO {prefix}follow VALUES (1, 2), (2, 1)")
        cursor.execute(f"INSERT INTO {prefix}invoice VALUES (1, 1)")
        conn.commit()
        text = f"""
[[store]]
name = "db"
kind = "sql"
url = "{url}"
  [[store.table]]
  name = "{prefix}user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}
  [[store.table]]
  name = "{prefix}follow"
  match = {{ follower_id = "user_id", followee_id = "user_id" }}
"""
        loaded = registry.parse(text, "stores.toml")
        assert loaded.errors == []
        store = loaded.stores[0]
        store.check_connection()
        assert f"{prefix}invoice.user_id references {prefix}user.id but is not declared" in store.coverage_messages()
        with store.connect() as db:
            assert store.keys(db, store.tables[1]) == ["follower_id", "followee_id"]
        from requests_app.stores.base import PermanentStoreError

        with pytest.raises(PermanentStoreError, match=f'table "{prefix}invoice" is not declared'):
            store.erase(Subject(identities={"email": {ALICE}}))
        cursor.execute(f"DELETE FROM {prefix}invoice")
        conn.commit()
        outcome = store.erase(Subject(identities={"email": {ALICE}}))
        assert outcome.erased == 3
        assert (
            store.verify_gone(
                Subject(
                    identities={"email": {ALICE}},
                )
            ).found
            == 0
        )
    finally:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        conn.commit()
        conn.close()


def test_check_stores_on_the_demo_app_names_an_extra_undeclared_table(tmp_path, monkeypatch, settings, capsys):
    import sqlite3

    monkeypatch.setenv("PORTAL_DEMO_DIR", str(tmp_path / "demo"))
    call_command("demo_hostapp")
    with sqlite3.connect(tmp_path / "demo" / "hostapp.sqlite3") as conn:
        conn.execute(INVOICES)
    registry._cache.clear()
    settings.PORTAL_STORES_FILE = str(Path(django_settings.BASE_DIR) / "docs" / "examples" / "stores.toml")
    with pytest.raises(CommandError):
        call_command("check_stores")
    err = capsys.readouterr().err
    assert 'store "app-db" (sql): billing_invoice.user_id references accounts_user.id but is not declared' in err
    registry._cache.clear()


def test_a_least_privilege_user_gets_unknown_counts_not_a_failed_discovery(pg_host, tmp_path):
    import secrets

    from tests.requests_app.engine_fixtures import STORES_TOML

    invoices(pg_host)
    role = f"limited_{secrets.token_hex(4)}"
    schema = pg_host.url.split("search_path%3D", 1)[1]
    add(
        pg_host,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        *[
            f"GRANT SELECT, UPDATE, DELETE ON {schema}.{table} TO {role}"
            for table in (
                "accounts_user",
                "accounts_profile",
                "media_photo",
                "media_photo_likes",
                "forum_comment",
                "social_follow",
            )
        ],
    )
    try:
        url = pg_host.url.replace("postgres://postgres@", f"postgres://{role}@", 1)
        loaded = registry.parse(STORES_TOML.format(url=url, media=tmp_path, extra=""), "stores.toml")
        store = next(s for s in loaded.stores if s.name == "app-db")
        found = store.discover(Subject(identities={"email": {ALICE}}))
        assert [gap.as_dict() for gap in found.not_covered] == [
            {
                "table": "billing_invoice",
                "why": "billing_invoice.user_id references accounts_user.id but is not declared",
                "rows": None,
                "blocks_erasure": True,
            }
        ]
        assert found.tables["accounts_user"] == 1
    finally:
        add(pg_host, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_missing_sqlite_file_is_named_and_never_created(tmp_path, client, settings):
    missing = tmp_path / "nowhere.sqlite3"
    path = tmp_path / "stores.toml"
    path.write_text(
        f'[[store]]\nname = "app-db"\nkind = "sql"\nurl = "sqlite:///{missing}"\n'
        '  [[store.table]]\n  name = "accounts_user"\n  match = { email = "email" }\n'
    )
    settings.PORTAL_STORES_FILE = str(path)
    registry._coverage_cache.clear()
    assert "warnings" not in client.get("/healthz").json()["checks"]["stores_config"]
    from requests_app.stores.base import PermanentStoreError

    with pytest.raises(PermanentStoreError, match="the SQLite database file .*nowhere.sqlite3 does not exist"):
        registry.get("app-db").check_connection()
    assert not missing.exists()
