"""/receipts/verify/ in chromium: reached from the footer, CSRF works, genuine and changed receipts."""

import json

import pytest

from requests_app.engine import receipt


@pytest.fixture
def signed_receipt(settings, tmp_path, transactional_db) -> bytes:
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "receipt-signing-keys.json")
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = True
    document, signature = receipt.sign(
        {
            "receipt_version": 2,
            "reference": "PR-7KQ2-M9XD",
            "kind": "deletion",
            "completed_at": "2026-12-01T10:00:00+00:00",
            "stores": [{"store": "app-db", "found": 11, "erased": 9, "anonymised": 2, "verified_gone": True}],
        }
    )
    return receipt.as_json(document, signature)


def test_receipt_pasted_from_the_footer_link_is_genuine(page, signed_receipt, check_a11y, screenshot):
    page.goto("/")
    page.locator("footer").get_by_role("link", name="Check a deletion receipt").click()
    page.get_by_label("Receipt (JSON)").fill(signed_receipt.decode())
    page.get_by_role("button", name="Check the receipt").click()
    verdict = page.locator("#verdict")
    assert verdict.get_by_role("heading").inner_text() == "Genuine"
    assert json.loads(signed_receipt)["receipt"]["kid"] in verdict.inner_text()
    check_a11y(page)
    screenshot(page, "receipt-verify")


def test_changed_receipt_uploaded_as_a_file_is_not_genuine(page, signed_receipt, tmp_path):
    changed = tmp_path / "receipt-PR-7KQ2-M9XD.json"
    changed.write_bytes(signed_receipt.replace(b'"erased": 9', b'"erased": 10'))
    page.goto("/receipts/verify/")
    page.get_by_label("…or upload the receipt file").set_input_files(str(changed))
    page.get_by_role("button", name="Check the receipt").click()
    assert page.locator("#verdict").get_by_role("heading").inner_text() == "Not genuine"
    assert "Changed" in page.locator("#verdict").inner_text()


def test_not_a_receipt_gets_a_specific_error(page, signed_receipt):
    page.goto("/receipts/verify/")
    page.get_by_label("Receipt (JSON)").fill("this is the HTML copy, not JSON")
    page.get_by_role("button", name="Check the receipt").click()
    assert "not valid JSON" in page.locator("main").inner_text()
    assert page.locator("#verdict").count() == 0
