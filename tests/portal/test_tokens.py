"""Secrets: random and long, stored hashed, compared safely, scoped and revocable; signing keys rotate."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from portal import tokens
from portal.api_keys import HasScope
from portal.models import ApiKey


def test_new_tokens_are_long_random_and_prefixed():
    many = {tokens.new_token("st") for _ in range(1000)}
    assert len(many) == 1000
    for token in list(many)[:20]:
        prefix, _, secret = token.partition("_")
        assert prefix == "st" and len(secret) == 43  # 32 random bytes, url-safe base64


def test_token_hash_is_not_the_token_and_matches_only_it():
    token = tokens.new_token("dl")
    digest = tokens.hash_token(token)
    assert token not in digest and len(digest) == 64
    assert tokens.matches(token, digest)
    assert not tokens.matches(token[:-1] + ("A" if token[-1] != "A" else "B"), digest)


def test_api_key_is_shown_once_and_stored_only_as_hash(db):
    key, raw = ApiKey.issue(name="host", scopes=["requests:write"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_apikey WHERE id = %s", [key.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert raw not in row and raw.split("_", 1)[1] not in row
    assert key.key_hash == tokens.hash_token(raw)


class _NeedsScope(APIView):
    permission_classes = [HasScope.for_("requests:write")]

    def get(self, request):
        return Response({"ok": True})


def _call(auth: str | None):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = _NeedsScope.as_view()(APIRequestFactory().get("/", **headers))
    response.render()
    return response


def test_api_key_with_the_scope_gets_in(db):
    _, raw = ApiKey.issue(name="host", scopes=["requests:write"])
    assert _call(f"Bearer {raw}").status_code == 200


def test_api_key_without_the_scope_is_refused_with_its_name(db):
    _, raw = ApiKey.issue(name="host", scopes=["consents:read"])
    response = _call(f"Bearer {raw}")
    assert response.status_code == 403
    assert "requests:write" in response.data["error"]["message"]


def test_revoked_api_key_stops_working_at_once(staff_client, admin_user):
    key, raw = ApiKey.issue(name="host", scopes=["requests:write"])
    assert _call(f"Bearer {raw}").status_code == 200
    staff_client(admin_user).post("/admin/portal/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _call(f"Bearer {raw}").status_code == 401


@pytest.mark.parametrize("guess", ["pk_", "pk_x", "Bearer", "pk_" + "A" * 43, "' OR 1=1 --", "pk_%00"])
def test_guessed_or_malformed_api_keys_get_401(db, guess):
    ApiKey.issue(name="host", scopes=["requests:write"])
    response = _call(f"Bearer {guess}")
    assert response.status_code == 401
    assert response.data["error"]["message"]


def test_api_key_header_that_is_not_latin1_gets_400_not_500(db):
    response = _call("Bearer " + "😀" * 10)
    assert response.status_code == 400
    assert response.data["error"]["message"]


def test_api_key_with_same_prefix_but_different_secret_is_refused(db):
    _, raw = ApiKey.issue(name="host", scopes=["requests:write"])
    forged = raw[:11] + "x" * (len(raw) - 11)
    assert _call(f"Bearer {forged}").status_code == 401


def test_missing_api_key_says_how_to_send_one(db):
    response = _call(None)
    assert response.status_code in (401, 403)
    assert "Authorization: Bearer" in response.data["error"]["message"]


def test_signing_key_rotation_keeps_old_signatures_valid_until_the_old_key_is_dropped(settings):
    payload = b'{"receipt": 1}'
    settings.PORTAL_SIGNING_KEYS = ["old-key-" + "o" * 40]
    old_signature = tokens.hmac_sign(payload)
    settings.PORTAL_SIGNING_KEYS = ["new-key-" + "n" * 40, "old-key-" + "o" * 40]
    assert tokens.hmac_sign(payload) != old_signature  # new signatures use the new key
    assert tokens.hmac_verify(payload, old_signature)
    assert tokens.hmac_verify(payload, tokens.hmac_sign(payload))
    settings.PORTAL_SIGNING_KEYS = ["new-key-" + "n" * 40]
    assert not tokens.hmac_verify(payload, old_signature)


def test_signature_over_a_changed_payload_fails(settings):
    signature = tokens.hmac_sign(b'{"erased": 10}')
    assert not tokens.hmac_verify(b'{"erased": 11}', signature)
    assert not tokens.hmac_verify(b'{"erased": 10}', signature.upper())
    assert not tokens.hmac_verify(b'{"erased": 10}', "")


# --- The e-mailed links of a privacy request: replay, expiry, guessing -----------------------------


def _submit(django_capture_on_commit_callbacks, mailoutbox, email="alice@example.com"):
    import re

    from requests_app.services.intake import request_submit

    with django_capture_on_commit_callbacks(execute=True):
        request = request_submit(kind="access", email=email, jurisdiction="gdpr", identifiers={}, language="en")
    body = mailoutbox[-1].body
    return request, re.search(r"/requests/verify/(pv_[\w-]+)/", body).group(1)


def test_verification_link_cannot_be_replayed(client, db, django_capture_on_commit_callbacks, mailoutbox):
    request, token = _submit(django_capture_on_commit_callbacks, mailoutbox)
    first = client.post(f"/requests/verify/{token}/")
    assert first.status_code == 302
    replay = client.post(f"/requests/verify/{token}/")
    assert replay.status_code == 404
    request.refresh_from_db()
    assert request.status != "unverified"


def test_expired_verification_link_does_not_verify(client, db, django_capture_on_commit_callbacks, mailoutbox):
    from datetime import timedelta

    from django.utils import timezone

    request, token = _submit(django_capture_on_commit_callbacks, mailoutbox)
    past = timezone.now() - timedelta(seconds=1)
    type(request).objects.filter(pk=request.pk).update(verify_expires_at=past)
    response = client.post(f"/requests/verify/{token}/")
    assert response.status_code == 410
    request.refresh_from_db()
    assert request.status == "unverified"


def test_verification_token_is_stored_only_as_hash(db, django_capture_on_commit_callbacks, mailoutbox):
    request, token = _submit(django_capture_on_commit_callbacks, mailoutbox)
    request.refresh_from_db()  # the queue's half wrote the hash, on its own copy of the row
    assert request.verify_token_hash == tokens.hash_token(token)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM requests_app_privacyrequest WHERE id = %s", [request.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert token not in row


@pytest.mark.usefixtures("one_rate_window")
def test_guessing_status_links_locks_the_address_out(client, db, django_capture_on_commit_callbacks, mailoutbox):
    from django.core.cache import cache

    from portal.ratelimit import TOKEN_FAILURE_RATE, parse_rate
    from requests_app.services.links import issue_status_token

    cache.clear()
    request, _ = _submit(django_capture_on_commit_callbacks, mailoutbox)
    real = issue_status_token(request)
    limit, _ = parse_rate(TOKEN_FAILURE_RATE)
    for n in range(limit):
        assert client.get(f"/requests/status/{tokens.new_token('ps')}/").status_code == 404
    locked = client.get(f"/requests/status/{real}/")
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert client.get(f"/requests/status/{real}/", REMOTE_ADDR="198.51.100.4").status_code == 200
    cache.clear()
