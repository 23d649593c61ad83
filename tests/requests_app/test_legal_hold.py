"""A deletion meets a legal hold: held stores are withheld (page and receipt say so, never why),
the rest is erased, and a year on — the hold over — a follow-up deletion completes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, TestCase
from django.utils import timezone

from abuse_app.cybertipline.models import HeldIdentity, identity_digest
from abuse_app.models import Case
from requests_app.demo import write_stores
from requests_app.engine import receipt
from requests_app.engine.local import run_local
from requests_app.models import PrivacyRequest
from requests_app.services.legal_hold import release_withheld
from requests_app.services.links import status_url
from requests_app.services.schedule import requests_purge_closed_pii

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def sqlite_stores(tmp_path, settings, sqlite_host, media_root):
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    return sqlite_host


def hold_account(user_id: str, days: int = 365) -> Case:
    """What confirming a CyberTipline report leaves behind: a held case and the account's id, hashed."""
    now = timezone.now()
    case = Case.objects.create(
        target_key=f"content:{user_id}",
        target_display=user_id,
        category="minors",
        is_child_safety=True,
        sla_due_at=now,
        legal_hold_until=now + timedelta(days=days),
    )
    HeldIdentity.objects.create(case=case, kind="user_id", digest=identity_digest("user_id", user_id))
    return case


def run(request: PrivacyRequest) -> PrivacyRequest:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return run_local(request)


def test_held_store_is_withheld_and_the_rest_erased(sqlite_stores, media_root, approved_request, settings):
    settings.PORTAL_LEGAL_HOLD_STORES = ["uploads"]
    case = hold_account("1")  # alice's account id in the demo host app
    request = run(approved_request("deletion"))

    assert request.status == PrivacyRequest.Status.COMPLETED
    assert sqlite_stores.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]  # the rest: erased
    assert (media_root / "avatars" / "1" / "me.png").exists()  # held: kept
    stores = {s["store"]: s for s in request.receipt["stores"]}
    assert stores["uploads"]["withheld"] == "legal_obligation" and stores["uploads"]["erased"] == 0
    assert stores["uploads"]["verified_gone"] is None
    assert stores["app-db"]["verified_gone"] is True and "withheld" not in stores["app-db"]
    assert receipt.verify(request.receipt, request.receipt_signature)
    html = receipt.as_html(request.receipt, request.receipt_signature)
    assert "Withheld under a legal obligation" in html and "Art. 17(3)(b)" in html

    page = Client().get(status_url(request)).content.decode()
    assert "withheld under a legal obligation" in page
    for leak in (case.reference, "CyberTipline", "NCMEC", "child", "minor", "abuse case"):
        assert leak.lower() not in page.lower()


def test_hold_over_a_year_on_a_follow_up_deletion_completes_it(sqlite_stores, media_root, approved_request):
    hold_account("1")
    request = run(approved_request("deletion"))
    assert (media_root / "avatars" / "1" / "me.png").exists()
    assert sqlite_stores.rows("SELECT id FROM accounts_user WHERE id = 1") == [(1,)]  # every held store kept
    assert release_withheld() == 0  # still held

    with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
        assert release_withheld() == 1
        assert release_withheld() == 0  # once
        follow_up = PrivacyRequest.objects.exclude(pk=request.pk).get()
        assert request.reference in follow_up.decision_reason
        assert (follow_up.email, follow_up.scope_purpose) == (request.email, request.scope_purpose)
        follow_up = run(follow_up)
    assert follow_up.status == PrivacyRequest.Status.COMPLETED
    assert not (media_root / "avatars" / "1").exists()
    assert sqlite_stores.rows("SELECT id FROM accounts_user WHERE id = 1") == []
    assert not any("withheld" in s for s in follow_up.receipt["stores"])


def test_hold_extended_upward_keeps_withholding(sqlite_stores, approved_request):
    case = hold_account("1")
    run(approved_request("deletion"))
    Case.objects.filter(pk=case.pk).update(legal_hold_until=timezone.now() + timedelta(days=800))
    with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
        assert release_withheld() == 1  # the task's recorded end passed: try again
        follow_up = run(PrivacyRequest.objects.order_by("-pk").first())
    stores = {s["store"]: s for s in follow_up.receipt["stores"]}
    assert stores["uploads"]["withheld"] == "legal_obligation"  # asked again: still held


def test_retention_purge_keeps_the_email_until_the_follow_up_is_filed(sqlite_stores, approved_request, settings):
    settings.PORTAL_REQUEST_RETENTION_DAYS = 30
    hold_account("1")
    request = run(approved_request("deletion"))
    with time_machine.travel(timezone.now() + timedelta(days=200), tick=False):
        requests_purge_closed_pii()
    request.refresh_from_db()
    assert request.email and request.pii_purged_at is None  # still needed to finish the deletion
    with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
        assert release_withheld() == 1
        requests_purge_closed_pii()
    request.refresh_from_db()
    assert request.pii_purged_at is not None
