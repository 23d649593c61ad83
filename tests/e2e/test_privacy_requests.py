"""Privacy requests in a real browser: from the home page to the status page."""

import re

from requests_app.models import PrivacyRequest

ALICE = "alice@example.com"


def _link_from_mail(outbox, pattern: str) -> str:
    for message in reversed(outbox):
        match = re.search(pattern, message.body)
        if match:
            return match.group(0)
    raise AssertionError(f"no e-mail with a link matching {pattern!r}: {[m.subject for m in outbox]}")


def test_deletion_request_home_to_verified_status(page, outbox, live_server, check_a11y, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Delete my data").first.click()
    assert page.url.endswith("/requests/new/deletion/")
    check_a11y(page, context="deletion form")
    screenshot(page, "deletion-form")

    # Submitting empty: the error summary is announced and each error is tied to its field.
    page.locator("form.stacked button[type=submit]").click()
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    check_a11y(page, context="deletion form with errors")
    screenshot(page, "deletion-form-errors")

    page.get_by_label("Your e-mail address").fill(ALICE)
    page.locator("input[name=confirm]").check()
    page.locator("form.stacked button[type=submit]").click()
    assert "/requests/submitted/" in page.url
    check_a11y(page, context="submitted page")

    verify_url = _link_from_mail(outbox, re.escape(live_server.url) + r"/requests/verify/\S+")
    page.goto(verify_url)
    check_a11y(page, context="verify page")
    page.get_by_role("button", name="Confirm my request").click()
    assert "/requests/status/" in page.url
    request = PrivacyRequest.objects.get(email=ALICE)
    assert request.kind == "deletion" and request.verified_at is not None
    assert page.locator("#reference").inner_text() == request.reference
    check_a11y(page, context="status page")
    screenshot(page, "request-status")
