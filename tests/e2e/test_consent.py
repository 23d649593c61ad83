"""Consent in a real browser: the prominent Microsoft notice, grant, then withdraw."""

import pytest

from requests_app import consent, ledger
from requests_app.models import Consent, ConsentPurpose, PrivacyRequest
from tests.requests_app.azure_helpers import face_store_toml

NOTICE = (
    "We send the photos you upload to Microsoft's Face service to find the faces in them and to "
    "recognise you in new photos. We keep a face template for as long as you keep this feature on."
)


@pytest.fixture
def face_purpose(transactional_db):
    purpose = ConsentPurpose.objects.create(slug="face-tagging", title="Face tagging in photos", services=["face"])
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
    ledger.record_transmission(
        client_id="upload-1",
        service="face",
        account="https://face.example",
        resource_kind="person",
        resource_id="0e3c8d4a-5f1b-4a7e-9c2d-1b2a3c4d5e6f",
        subject_value="1",
        purpose="face-tagging",
        payload_kind="image",
        parent_ids={"person_group": "users"},
    )

    page.get_by_role("button", name="Withdraw my consent").click()
    granted.refresh_from_db()
    assert granted.withdrawn_at is not None
    assert page.get_by_role("button", name="I agree").is_visible()
    # Withdrawal starts the erasure of what was sent to Microsoft under this purpose.
    assert PrivacyRequest.objects.filter(kind="deletion", email="alice@example.com").exists()


@pytest.fixture
def face_store(tmp_path, settings, fake_face):
    path = tmp_path / "stores.toml"
    path.write_text(face_store_toml(fake_face) + '\n[[store]]\nname = "azure-ledger"\nkind = "azure_ledger"\n')
    settings.PORTAL_STORES_FILE = str(path)
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 0.01
    return path


@pytest.mark.submits("consent-purpose")
def test_gpc_signal_withdraws_a_sale_purpose_and_erases_its_azure_data(page, live_server, face_store, fake_face):
    from requests_app.engine.local import run_local

    ads = ConsentPurpose.objects.create(
        slug="ad-personalisation", title="Personalised ads from your photos", services=["face"], sale_or_sharing=True
    )
    consent.publish_notice(
        purpose=ads, text="We share what Face finds in your photos with ad partners.", actor="system"
    )
    consent.grant(purpose=ads, subject_kind="user_id", subject_value="1", method="api", actor=None)
    person, _ = fake_face.add_person("app-users", user_data="")
    ledger.record_transmission(
        client_id="ads-1",
        service="face",
        account=fake_face.url,
        resource_kind="person",
        resource_id=person,
        parent_ids={"person_group": "app-users"},
        subject_value="1",
        purpose="ad-personalisation",
        payload_kind="image",
    )
    # The browser's Global Privacy Control setting, as chromium sends it with every request.
    page.set_extra_http_headers({"Accept-Language": "en-GB,en;q=0.9", "Sec-GPC": "1"})

    link = consent.subject_link("ad-personalisation", "user_id", "1", email="alice@example.com")
    page.goto(link.replace("http://testserver", live_server.url))

    assert page.get_by_text("Your browser asked us not to sell or share your data; we honoured it.").is_visible()
    withdrawn = Consent.objects.get(purpose=ads)
    assert withdrawn.withdrawn_method == "gpc"
    erasure = PrivacyRequest.objects.get(kind="deletion", scope_purpose="ad-personalisation")
    run_local(erasure, sleep=lambda seconds: None)
    erasure.refresh_from_db()
    assert erasure.status == PrivacyRequest.Status.COMPLETED, erasure.attention_reason
    assert person not in fake_face.groups["persongroups"]["app-users"]["persons"]

    # Agreeing now conflicts with the signal: the page asks before recording anything.
    page.get_by_role("button", name="I agree").click()
    assert page.get_by_role("button", name="Yes, allow it anyway").is_visible()
    assert Consent.objects.filter(purpose=ads, withdrawn_at__isnull=True).count() == 0
