"""The download-code step, the receipt's HTML copy and the receipt keys table, on a phone and a desktop.

No axe check here (it skips without node_modules, and these must run everywhere); the download
page's accessibility is checked by test_privacy_requests.py and /receipts/verify/ by test_accessibility.py.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import TestCase

from requests_app.engine import local, receipt
from requests_app.models import PrivacyRequest
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_privacy_requests import ALICE, _link_from_mail, host_stores  # noqa: F401

SIZES = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
SIDEWAYS = "(el => el.scrollWidth - el.clientWidth)(document.documentElement)"


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


@SIZES
@pytest.mark.submits("package-download")
def test_a_wrong_code_is_an_error_at_the_field(new_page, live_server, host_stores, viewport):  # noqa: F811
    from django.utils import timezone

    now = timezone.now()
    request = PrivacyRequest.objects.create(
        kind="access", status="approved", email=ALICE, verified_at=now, approved_at=now
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        local.run_local(request)
    page = new_page(viewport=viewport)
    page.goto(_link_from_mail(mail.outbox, re.escape(live_server.url) + r"/requests/download/\S+"))
    page.get_by_role("button", name="E-mail me a code").click()
    field = page.get_by_label("Code from the e-mail")
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    # A code box one reads across the room: large digits, wide enough for six of them.
    assert float(field.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 24
    assert _box(field)["width"] >= 150
    confirm = page.get_by_role("button", name="Confirm")
    again = page.get_by_role("button", name="Send a new code")
    one, two = _box(confirm), _box(again)
    assert abs(one["height"] - two["height"]) < 1, "the two buttons differ in height"
    if viewport is DESKTOP:
        assert abs(one["y"] - two["y"]) < 1, "the two buttons are not on one line"

    field.fill("000000")
    confirm.click()
    assert page.title().startswith("Error: Download your data")
    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    assert summary.get_by_role("link").get_attribute("href") == "#download-code"
    inline = page.locator("#download-code-error")
    assert "not right" in inline.inner_text()
    assert "download-code-error" in page.get_by_label("Code from the e-mail").get_attribute("aria-describedby")
    assert page.evaluate(SIDEWAYS) <= 0
    # A new code from the same row of buttons works (the form attribute submits the other form).
    sent = len(mail.outbox)
    page.get_by_role("button", name="Send a new code").click()
    assert len(mail.outbox) == sent + 1
    assert not page.title().startswith("Error:")


@pytest.fixture
def signed(settings, tmp_path, transactional_db):
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "receipt-signing-keys.json")
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = True
    return receipt.sign(
        {
            "receipt_version": 2,
            "reference": "PR-7KQ2-M9XD",
            "kind": "deletion",
            "received_at": "2026-11-30T09:12:03.112233+00:00",
            "completed_at": "2026-12-07T00:21:44.781855+00:00",
            "issued_by": {"app": "Example App", "operator": "Example Ltd"},
            "stores": [
                {
                    "store": "app-db",
                    "kind": "sql",
                    "status": "done",
                    "found": 11,
                    "erased": 9,
                    "anonymised": 2,
                    "found_by_table": {"accounts_user": 1, "media_photo": 3, "forum_comment": 2},
                    "erased_at": "2026-12-07T00:21:40.000001+00:00",
                    "verified_gone": True,
                    "verified_at": "2026-12-07T00:21:44.781855+00:00",
                },
                {
                    "store": "uploads",
                    "kind": "files",
                    "status": "done",
                    "found": 2,
                    "erased": 2,
                    "anonymised": 0,
                    "erased_at": "2026-12-07T00:21:41+00:00",
                    "verified_gone": True,
                    "verified_at": "2026-12-07T00:21:44+00:00",
                },
            ],
        }
    )


@SIZES
def test_receipt_html_reads_on_a_phone_with_human_times(new_page, signed, viewport):
    page = new_page(viewport=viewport)
    page.set_content(receipt.as_html(*signed, language="en"))
    text = page.locator("body").inner_text()
    assert "2026-12-07T00" not in text and ".781855" not in text
    assert re.search(r"7 December 2026|Dec\. 7, 2026|December 7, 2026", text), text[:400]
    assert page.evaluate(SIDEWAYS) <= 0, f"the receipt scrolls sideways at {viewport['width']}px"
    if viewport is PHONE:
        # Each store is a card with labelled lines, not a six-column table squeezed to 390 px.
        assert page.locator("table.stores thead").evaluate("el => el.getBoundingClientRect().height") <= 1
        labels = (
            page.locator("table.stores tbody tr")
            .first.locator("td")
            .evaluate_all("cells => cells.map(td => getComputedStyle(td, '::before').content)")
        )
        assert '"Deleted"' in labels, labels


@SIZES
def test_the_keys_table_fits_a_phone(new_page, signed, viewport):
    page = new_page(viewport=viewport)
    page.goto("/receipts/verify/")
    table = page.locator("table.keys")
    assert table.count() == 1
    assert page.evaluate(SIDEWAYS) <= 0
    assert _box(table)["width"] <= viewport["width"]
    assert not re.search(r"\d{4}-\d\d-\d\dT", table.inner_text()), "ISO times in the keys table"
    page.get_by_role("button", name="Check the receipt").click()
    assert page.title().startswith("Error: Check a deletion receipt")
