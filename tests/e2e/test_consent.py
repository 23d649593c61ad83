"""Consent in a real browser: the prominent Microsoft notice, grant, then withdraw."""

import pytest

from requests_app import consent, ledger
from requests_app.models import Consent, ConsentPurpose, PrivacyRequest

NOTICE = ("We send the photos you upload to Microsoft's Face service to find the faces in them and to "
          "recognise you in new photos. We keep a face template for as long as you keep this feature on.")


@pytest.fixture
def face_purpose(transactional_db):
    purpose = ConsentPurpose.objects.create(slug="face-tagging", title="Face tagging in photos",
                                            services=["face"])
    consent.publish_notice(purpose=purpose, text=NOTICE, actor="system")
    return purpose


@pytest.mark.submits("consent-purpose")
def test_consent_grant_and_withdraw(page, live_server, face_purpose, check_a11y, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Manage my consent").first.click()
    page.get_by_role("link", name="Face tagging in photos").click()
    # Without the app's signed link nobody can change a consent, but the notice is readable.
    assert page.get_by_role("button", name="I agree").count() == 0

    link = consent.subject_link("face-tagging", "user_id", "1", email="alice@example.com")
    page.goto(link.replace("http://testserver", live_server.url))
    notice = page.locator(".notice-microsoft")
    assert notice.is_visible() and "Microsoft" in notice.inner_text()
    assert page.get_by_text(NOTICE[:40]).is_visible()
    check_a11y(page, context="consent notice")
    screenshot(page, "consent")

    page.get_by_role("button", name="I agree").click()
    granted = Consent.objects.get(purpose=face_purpose, subject_value="1")
    assert granted.withdrawn_at is None and granted.notice_text == NOTICE
    assert page.get_by_role("button", name="Withdraw my consent").is_visible()
    check_a11y(page, context="consent granted")

    # The host app sends Alice's photo to Face under this consent (recorded in the ledger).
    ledger.record_transmission(client_id="upload-1", service="face", account="https://face.example",
                               resource_kind="person", resource_id="0e3c8d4a-5f1b-4a7e-9c2d-1b2a3c4d5e6f",
                               subject_value="1",
                               purpose="face-tagging", payload_kind="image",
                               parent_ids={"person_group": "users"})

    page.get_by_role("button", name="Withdraw my consent").click()
    granted.refresh_from_db()
    assert granted.withdrawn_at is not None
    assert page.get_by_role("button", name="I agree").is_visible()
    # Withdrawal starts the erasure of what was sent to Microsoft under this purpose.
    assert PrivacyRequest.objects.filter(kind="deletion", email="alice@example.com").exists()
