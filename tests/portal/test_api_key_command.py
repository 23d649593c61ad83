"""manage.py api_key create | list | revoke."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from portal import tokens
from portal.models import ApiKey, AuditEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CHECK_URL = "/api/v1/consents/check?subject=42&purpose=face-verification"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def create(name: str = "shop-backend", scopes: str = "consents:read", *extra: str) -> str:
    out, _ = run("create", "--name", name, "--scopes", scopes, *extra)
    return out.strip()


def call(client, raw: str, url: str = CHECK_URL):
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_create_prints_only_the_key_on_stdout_and_it_works(client):
    out, err = run("create", "--name", "shop-backend", "--scopes", "consents:read,requests:read")

    raw = out.strip()
    assert raw.startswith("pk_") and "\n" not in raw
    key = ApiKey.objects.get()
    assert key.key_hash == tokens.hash_token(raw) and raw not in str(key.__dict__)  # only the hash is kept
    assert key.scopes == ["consents:read", "requests:read"] and key.prefix == raw[3:11]
    assert "shop-backend" in err and key.prefix in err and raw not in err
    assert call(client, raw).status_code == 200


def test_key_is_shown_once_list_shows_prefix_only():
    raw = create()
    out, err = run("list")
    assert raw not in out + err
    assert ApiKey.objects.get().prefix in out and "shop-backend" in out


def test_create_is_audited_without_the_key():
    raw = create()
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.actor_type == "system" and event.actor_label.startswith("manage.py api_key")
    assert event.data["scopes"] == ["consents:read"] and raw not in str(event.data)


def test_scope_check_follows_the_key(client):
    raw = create(scopes="requests:read")
    response = call(client, raw)
    assert response.status_code == 403 and "consents:read" in response.json()["error"]["message"]


def test_revoke_by_name_gives_401_and_is_audited(client):
    raw = create()
    out, _ = run("revoke", "shop-backend")

    assert "Revoked" in out
    assert call(client, raw).status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_by_prefix_and_by_whole_key(client):
    first = create("first")
    second = create("second")
    run("revoke", ApiKey.objects.get(name="first").prefix)
    run("revoke", second)
    assert call(client, first).status_code == 401 and call(client, second).status_code == 401


def test_revoke_twice_changes_nothing():
    create()
    run("revoke", "shop-backend")
    out, _ = run("revoke", "shop-backend")
    assert "already revoked" in out
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_revoke_unknown_names_the_value():
    with pytest.raises(CommandError, match="No API key has the name or prefix 'nope'"):
        run("revoke", "nope")


def test_revoke_ambiguous_legacy_names_asks_for_prefix():
    ApiKey.issue(name="twin", scopes=["consents:read"])  # duplicates made before names were checked
    ApiKey.issue(name="twin", scopes=["consents:read"])
    with pytest.raises(CommandError, match="2 keys are named 'twin'.*prefix"):
        run("revoke", "twin")


def test_unknown_scope_is_named_with_the_valid_ones():
    with pytest.raises(CommandError) as info:
        create(scopes="consents:read,consent:wrte")
    message = str(info.value)
    assert "'consent:wrte'" in message and "Valid scopes:" in message
    assert all(scope in message for scope in ApiKey.Scope.values)
    assert not ApiKey.objects.exists()


def test_empty_scopes_refused():
    with pytest.raises(CommandError, match="at least one scope"):
        create(scopes=" , ")


def test_duplicate_name_refused_until_the_old_key_is_revoked():
    create()
    with pytest.raises(CommandError, match="'shop-backend' already exists.*revoke"):
        create()
    run("revoke", "shop-backend")
    assert create().startswith("pk_")
    assert ApiKey.objects.filter(name="shop-backend").count() == 2


@time_machine.travel(NOW, tick=False)
def test_expiry_date_stops_the_key(client):
    raw = create("temp", "consents:read", "--expires", "2026-12-10")
    key = ApiKey.objects.get()
    assert key.expires_at is not None and key.expires_at.date().isoformat() in ("2026-12-09", "2026-12-10")
    assert call(client, raw).status_code == 200
    with time_machine.travel(datetime(2026, 12, 10, 12, 0, tzinfo=UTC), tick=False):
        response = call(client, raw)
        assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
        out, _ = run("list")
        assert "(expired)" in out


@time_machine.travel(NOW, tick=False)
def test_expiry_in_days():
    create("temp", "consents:read", "--expires", "90d")
    assert (ApiKey.objects.get().expires_at - NOW).days == 90


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next week", "'next week' is not a date"),
        ("2026-02-30", "is not a date"),
        ("2026-12-01", "in the past"),
        ("0d", "at least 1 day"),
    ],
)
def test_bad_expiry_is_a_clear_error(value, message):
    with pytest.raises(CommandError, match=message):
        create("temp", "consents:read", "--expires", value)
    assert not ApiKey.objects.exists()


def test_missing_action_or_name_is_a_usage_error():
    with pytest.raises(CommandError):
        call_command("api_key")
    with pytest.raises(CommandError, match="--name"):
        call_command("api_key", "create", "--scopes", "consents:read")


def test_list_without_keys_says_how_to_create_one():
    out, _ = run("list")
    assert "api_key create" in out


def test_admin_refuses_a_duplicate_active_name(staff_client, admin_user):
    create()
    client = staff_client(admin_user)
    response = client.post("/admin/portal/apikey/add/", {"name": "shop-backend", "scopes": ["consents:read"]})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert ApiKey.objects.count() == 1


def test_admin_creates_through_the_same_service(staff_client, admin_user):
    client = staff_client(admin_user)
    response = client.post(
        "/admin/portal/apikey/add/", {"name": "from-admin", "scopes": ["consents:read"]}, follow=True
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="from-admin")
    event = AuditEvent.objects.get(action="api_key.created")
    assert event.actor == admin_user and event.data["prefix"] == key.prefix
