"""manage.py api_key: create (key printed once), list, revoke — audited, with specific errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from portal.models import ApiKey, AuditEvent

pytestmark = pytest.mark.django_db


def test_create_prints_the_key_once_and_it_works(capsys):
    call_command("api_key", "create", "--name", "host app", "--scopes", "consents:read", "transmissions:write")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert raw.startswith("pk_") and raw[3:11] == key.prefix and raw not in key.key_hash
    assert key.scopes == ["consents:read", "transmissions:write"]
    assert AuditEvent.objects.filter(action="api_key.created").count() == 1
    response = Client().get("/api/v1/consents/purposes/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_unknown_scope_is_refused_naming_the_known_ones():
    with pytest.raises(CommandError, match="consents:write.*not known|requests:rite not known"):
        call_command("api_key", "create", "--name", "x", "--scopes", "requests:rite")
    assert not ApiKey.objects.exists()


def test_list_shows_prefixes_not_keys_and_revoke_stops_the_key(capsys):
    key, raw = ApiKey.issue(name="old app", scopes=["consents:read"])
    call_command("api_key", "list")
    listed = capsys.readouterr().out
    assert key.prefix in listed and "old app" in listed and raw not in listed
    call_command("api_key", "revoke", "--prefix", key.prefix)
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert Client().get("/api/v1/consents/purposes/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    with pytest.raises(CommandError, match="already revoked"):
        call_command("api_key", "revoke", "--prefix", key.prefix)
    with pytest.raises(CommandError, match="no API key with prefix"):
        call_command("api_key", "revoke", "--prefix", "nope")


def test_purposes_endpoint_gives_the_current_notice_version_and_text_hash():
    import hashlib

    from requests_app import consent
    from tests.requests_app.azure_helpers import purpose

    face = purpose("face-login", text="Version one.")
    consent.publish_notice(purpose=face, text="Version two of the notice.", actor="staff:test")
    _, raw = ApiKey.issue(name="app", scopes=["consents:read"])
    body = Client().get("/api/v1/consents/purposes/", HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    [entry] = [p for p in body["results"] if p["slug"] == "face-login"]
    assert entry["notice_version"] == 2
    assert entry["notice_sha256"] == hashlib.sha256(b"Version two of the notice.").hexdigest()
    schema = Client().get("/api/schema/").content.decode()
    assert "/api/v1/consents/purposes/" in schema
