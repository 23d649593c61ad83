"""Approving a deletion shows what each store holds now (discovery only) and when the work starts;
the audit timeline speaks in the admin's words."""

import pytest
from django.utils import timezone

from portal.models import AuditEvent
from requests_app.demo import write_stores
from requests_app.models import PrivacyRequest
from tests.conftest import ALICE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def sqlite_stores(tmp_path, settings, sqlite_host, media_root):
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))


def _verified_deletion():
    return PrivacyRequest.objects.create(
        kind="deletion", status="verified", email=ALICE, verified_at=timezone.now(), due_at=timezone.now()
    )


def test_approve_page_lists_per_store_counts_and_grace_end(sqlite_stores, staff_client, officer, settings):
    settings.PORTAL_DELETION_GRACE_HOURS = 24
    obj = _verified_deletion()
    html = staff_client(officer).get(f"/admin/requests_app/privacyrequest/{obj.pk}/decide/approve/").content.decode()
    assert "What will be deleted" in html and "a grace period of 24 hours" in html
    assert 'class="pr-count"' in html
    obj.refresh_from_db()
    assert obj.status == "verified"  # looking changed nothing
    assert not obj.store_tasks.exists()
    assert AuditEvent.objects.filter(subject_id=str(obj.pk), action="request.dry_run", actor=officer).exists()


def test_timeline_in_plain_words(staff_client, officer):
    obj = _verified_deletion()
    AuditEvent.objects.create(
        subject_type="privacy_request",
        subject_id=str(obj.pk),
        action="request.verified",
        from_status="unverified",
        to_status="verified",
    )
    html = staff_client(officer).get(f"/admin/requests_app/privacyrequest/{obj.pk}/change/").content.decode()
    assert "Confirmed by the requester" in html
    assert "Waiting for e-mail confirmation → Confirmed, waiting for review" in html
    assert "request.verified" not in html and "Pii purged at" not in html and "Run after" not in html


def test_admin_home_hides_plumbing_from_officers_and_links_dashboard(staff_client, officer):
    html = staff_client(officer).get("/admin/").content.decode()
    assert "/admin/requests_app/privacyrequest/dashboard/" in html
    assert "/account/2fa/passkeys/" in html or "two-factor" in html
    assert "/admin/axes/" not in html and "/admin/portal/heartbeat/" not in html
