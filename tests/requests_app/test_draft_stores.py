"""manage.py draft_stores: a stores file drafted from the schema erases as well as a hand-written one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from requests_app.engine import local
from requests_app.models import PrivacyRequest
from requests_app.stores import registry
from tests.requests_app.engine_fixtures import scripted_host

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "stores.toml"


def erase(email: str, **identifiers: str) -> PrivacyRequest:
    from django.utils import timezone

    now = timezone.now()
    request = PrivacyRequest.objects.create(
        kind="deletion", status="approved", email=email, verified_at=now, approved_at=now, identifiers=identifiers
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return local.run_local(request)


def dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


def draft_text(capsys, url: str, subject: str = "accounts_user") -> str:
    call_command("draft_stores", url=url, subject_table=subject)
    return capsys.readouterr().out


def test_the_draft_for_the_demo_app_erases_exactly_like_the_example_file(tmp_path, monkeypatch, settings, capsys):
    by_hand, drafted = tmp_path / "by-hand", tmp_path / "drafted"
    for folder in (by_hand, drafted):
        monkeypatch.setenv("PORTAL_DEMO_DIR", str(folder))
        call_command("demo_hostapp")
    capsys.readouterr()

    # The example file, as shipped.
    monkeypatch.setenv("PORTAL_DEMO_DIR", str(by_hand))
    registry._cache.clear()
    settings.PORTAL_STORES_FILE = str(EXAMPLE)
    assert erase("alice@example.com").status == "completed"

    # The draft, with the example's non-SQL stores (files, ledger) appended.
    monkeypatch.setenv("PORTAL_DEMO_DIR", str(drafted))
    text = draft_text(capsys, f"sqlite:///{drafted / 'hostapp.sqlite3'}")
    rest = EXAMPLE.read_text().split('[[store]]\nname = "uploads"', 1)[1]
    rest = rest.replace("[[retention]]", "[[ignored_retention]]")
    stores = tmp_path / "drafted.toml"
    stores.write_text(text + '\n[[store]]\nname = "uploads"' + rest)
    settings.PORTAL_STORES_FILE = str(stores)
    registry._cache.clear()
    assert registry.load().errors == []
    request = erase("alice@example.com")
    assert request.status == "completed", request.attention_reason
    assert all(t.verified_gone for t in request.store_tasks.filter(phase="verify"))

    assert dump(drafted / "hostapp.sqlite3") == dump(by_hand / "hostapp.sqlite3")
    assert sorted(p.relative_to(drafted) for p in (drafted / "media").rglob("*")) == sorted(
        p.relative_to(by_hand) for p in (by_hand / "media").rglob("*")
    )
    registry._cache.clear()


SHOP = """
CREATE TABLE shop_customer (id INTEGER PRIMARY KEY, email_address VARCHAR(254) NOT NULL,
    full_name VARCHAR(100) NOT NULL, phone VARCHAR(30), date_of_birth DATE);
CREATE TABLE shop_product (id INTEGER PRIMARY KEY, title VARCHAR(100) NOT NULL);
CREATE TABLE shop_address (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES shop_customer (id),
    street VARCHAR(200) NOT NULL, city VARCHAR(100) NOT NULL);
CREATE TABLE shop_order (id INTEGER PRIMARY KEY, customer_id INTEGER NULL REFERENCES shop_customer (id),
    total INTEGER NOT NULL);
CREATE TABLE shop_order_line (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES shop_order (id),
    product_id INTEGER NOT NULL REFERENCES shop_product (id), quantity INTEGER NOT NULL);
CREATE TABLE shop_review (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES shop_product (id),
    customer_id INTEGER NULL REFERENCES shop_customer (id), reviewer_name VARCHAR(100) NOT NULL, body TEXT NOT NULL);
CREATE TABLE shop_wishlist (customer_id INTEGER NOT NULL REFERENCES shop_customer (id),
    product_id INTEGER NOT NULL REFERENCES shop_product (id), PRIMARY KEY (customer_id, product_id));
CREATE TABLE shop_login_event (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES shop_customer (id),
    ip_address VARCHAR(45) NOT NULL, at TIMESTAMP NOT NULL);
CREATE TABLE mailing_signup (id INTEGER PRIMARY KEY, signup_email VARCHAR(254) NOT NULL);
INSERT INTO shop_customer VALUES (1, 'Dana@Example.com', 'Dana D', '+1 555 0101', '1990-01-01');
INSERT INTO shop_customer VALUES (2, 'eli@example.org', 'Eli E', NULL, NULL);
INSERT INTO shop_product VALUES (1, 'Lamp');
INSERT INTO shop_product VALUES (2, 'Desk');
INSERT INTO shop_address VALUES (1, 1, '1 Main St', 'Springfield');
INSERT INTO shop_address VALUES (2, 2, '2 Side St', 'Shelbyville');
INSERT INTO shop_order VALUES (1, 1, 100);
INSERT INTO shop_order VALUES (2, 2, 50);
INSERT INTO shop_order_line VALUES (1, 1, 1, 2);
INSERT INTO shop_order_line VALUES (2, 2, 2, 1);
INSERT INTO shop_review VALUES (1, 1, 1, 'Dana D', 'Bright lamp, would buy again');
INSERT INTO shop_review VALUES (2, 1, 2, 'Eli E', 'Too bright');
INSERT INTO shop_wishlist VALUES (1, 2);
INSERT INTO shop_wishlist VALUES (2, 1);
INSERT INTO shop_login_event VALUES (1, 1, '203.0.113.7', '2026-01-01 10:00:00');
INSERT INTO shop_login_event VALUES (2, 2, '198.51.100.9', '2026-01-01 11:00:00');
INSERT INTO mailing_signup VALUES (1, 'dana@example.com');
INSERT INTO mailing_signup VALUES (2, 'eli@example.org')
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def shop(request, tmp_path):
    with scripted_host(request.param, tmp_path, SHOP) as host:
        yield host


def test_a_draft_for_a_schema_never_seen_erases_and_verifies(shop, tmp_path, settings, capsys):
    url, rows = shop
    out = tmp_path / "stores.toml"
    call_command("draft_stores", url=url, subject_table="shop_customer", out=str(out))
    assert "Wrote" in capsys.readouterr().out
    text = out.read_text()
    assert "personal-looking columns: email_address (e-mail), full_name (name), phone (phone), " in text
    assert "date_of_birth (birth date)" in text and "ip_address (IP address)" in text
    assert "kept by law" in text and "#   shop_product" in text
    # A table found only by its e-mail column gets an erase choice and its reason too.
    assert "found by its e-mail column signup_email\n  # the person's own rows: deleted" in text

    settings.PORTAL_STORES_FILE = str(out)
    registry._cache.clear()
    call_command("check_stores")  # every table is covered: no warning, exit 0
    request = erase("dana@example.com")
    assert request.status == "completed", request.attention_reason
    verify = list(request.store_tasks.filter(phase="verify"))
    assert verify and all(t.verified_gone for t in verify)

    assert rows("SELECT id FROM shop_customer") == [(2,)]
    assert rows("SELECT customer_id FROM shop_address") == [(2,)]
    assert rows("SELECT id, customer_id, total FROM shop_order") == [(1, None, 100), (2, 2, 50)]  # kept by law
    assert rows("SELECT id FROM shop_order_line") == [(1,), (2,)]
    assert rows("SELECT id, customer_id, reviewer_name, body FROM shop_review") == [
        (1, None, "", "[deleted]"),
        (2, 2, "Eli E", "Too bright"),
    ]
    assert rows("SELECT customer_id, product_id FROM shop_wishlist") == [(2, 1)]
    assert rows("SELECT customer_id FROM shop_login_event") == [(2,)]
    assert rows("SELECT signup_email FROM mailing_signup") == [("eli@example.org",)]
    registry._cache.clear()


def test_draft_stores_explains_bad_input(tmp_path):
    path = tmp_path / "x.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, nickname TEXT)")
    with pytest.raises(CommandError, match="--url: scheme 'oracle' is not supported"):
        call_command("draft_stores", url="oracle://db/app", subject_table="person")
    with pytest.raises(
        CommandError, match="--subject-table: there is no table 'people' in this database; it has: person"
    ):
        call_command("draft_stores", url=f"sqlite:///{path}", subject_table="people")
    with pytest.raises(CommandError, match="person has no e-mail column"):
        call_command("draft_stores", url=f"sqlite:///{path}", subject_table="person")
    (tmp_path / "out.toml").write_text("mine")
    with pytest.raises(CommandError, match="exists; use --force"):
        call_command("draft_stores", url=f"sqlite:///{path}", subject_table="person", out=str(tmp_path / "out.toml"))


def test_a_password_in_the_url_stays_out_of_the_draft(capsys):
    from requests_app.stores.sql_draft import url_for_file

    assert url_for_file("postgres://app:s3cret@db/app")[0] == "${APP_DATABASE_URL}"
    assert url_for_file("sqlite:////srv/app.sqlite3")[0] == "sqlite:////srv/app.sqlite3"
