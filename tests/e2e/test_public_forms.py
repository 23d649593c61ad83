"""Every public POST form, submitted in chromium, with the page that follows checked.

The test client never sends ``Origin`` or ``Referer`` the way a browser does, so only a
browser finds a form that CSRF refuses (the appeal pages once sent ``Referrer-Policy:
no-referrer``, which makes chromium send ``Origin: null``). Each test names the URL patterns
it submits (``submits`` marker): the e2e conftest checks the browser really POSTed there and
got an answer below 400, and tests/portal/test_public_forms_covered.py compares the names
with the URLconf. Flows already walked elsewhere (a report with evidence, consent grant and
withdraw, the access-package download) carry the marker in their own module.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from abuse_app.models import Appeal, Case, Notice
from requests_app.models import PrivacyRequest
from tests.public_world import build_world

ALICE = "alice@example.com"


def _link(pattern: str) -> str:
    for message in reversed(mail.outbox):
        match = re.search(pattern, message.body)
        if match:
            return match.group(0)
    raise AssertionError(f"no e-mail with a link matching {pattern!r}")


def _heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


@pytest.mark.submits("request-new-access", "request-verify", "request-status")
def test_access_request_confirm_then_cancel(page, live_server):
    page.goto("/requests/new/access/")
    page.get_by_label("Your e-mail address").fill(ALICE)
    page.locator("input[name=confirm]").check()
    page.locator("form.stacked button[type=submit]").click()
    assert page.url.endswith("/requests/submitted/") and _heading(page) == "Check your e-mail"

    page.goto(_link(re.escape(live_server.url) + r"/requests/verify/\S+"))
    page.get_by_role("button", name="Confirm my request").click()
    assert "/requests/status/" in page.url
    assert PrivacyRequest.objects.get(email=ALICE).verified_at is not None

    page.get_by_role("button", name="Cancel this request").click()
    assert "/requests/status/" in page.url
    assert page.locator("#state").get_attribute("data-status") == "canceled"
    assert "Your request is canceled" in page.locator(".messages").inner_text()


@pytest.mark.submits("request-new-deletion", "request-status", "request-verify")
def test_deletion_request_resend_link_then_expired_link_sends_a_new_one(page, live_server):
    page.goto("/requests/new/deletion/")
    page.get_by_label("Your e-mail address").fill(ALICE)
    page.locator("input[name=confirm]").check()
    page.locator("form.stacked button[type=submit]").click()
    assert _heading(page) == "Check your e-mail"

    # The status page of an unconfirmed request offers a new confirmation link.
    page.goto(_link(re.escape(live_server.url) + r"/requests/status/\S+"))
    sent = len(mail.outbox)
    page.get_by_role("button", name="Send a new confirmation link").click()
    assert "/requests/status/" in page.url and len(mail.outbox) == sent + 1

    # An expired confirmation link offers to send a new one.
    verify_url = _link(re.escape(live_server.url) + r"/requests/verify/\S+")
    PrivacyRequest.objects.filter(email=ALICE).update(verify_expires_at=timezone.now() - timedelta(minutes=1))
    page.goto(verify_url)
    assert _heading(page) == "This confirmation link has expired"
    page.get_by_role("button", name="Send me a new link").click()
    assert _heading(page) == "We sent you a new link"
    assert len(mail.outbox) == sent + 2


@pytest.mark.submits("request-find", "request-resend")
def test_find_and_resend_links_answer_the_same_for_any_address(page, live_server):
    for path in ("/requests/find/", "/requests/resend/"):
        page.goto(path)
        page.get_by_label(re.compile("e-mail", re.I)).first.fill("nobody@example.net")
        page.get_by_role("button", name="E-mail me my links").click()
        assert _heading(page) == "Check your e-mail", path


@pytest.mark.submits("abuse-report")
def test_child_safety_lane_report_is_received(page):
    page.goto("/report/?lane=child-safety")
    assert _heading(page) == "Report harm to a child"
    assert page.locator("input[type=file]").count() == 0
    page.get_by_label("Where is it?").fill("https://app.example/videos/9")
    page.get_by_label("What happened?").fill("This video shows a child being hurt.")
    page.locator("input[name=good_faith]").check()
    page.get_by_role("button", name="Send report").click()
    assert _heading(page) == "Thank you, we received your report"
    notice = Notice.objects.get()
    assert notice.category == "minors" and notice.reporter_email == ""
    assert Case.objects.get().is_child_safety


@pytest.fixture
def decided_world(transactional_db):
    return build_world()


@pytest.mark.submits("abuse-appeal", "abuse-target-decision")
def test_reporter_and_reported_person_appeal_from_the_browser(new_page, decided_world):
    reporter = new_page()
    reporter.goto(decided_world.paths["abuse-status"])
    reporter.locator("a[href*='/appeal/']").first.click()
    reporter.get_by_label("Why should the decision change?").fill("The photo is still online at a second address.")
    reporter.get_by_role("button", name="Send appeal").click()
    assert "Appeal sent" in reporter.locator("main").inner_text()

    target = new_page()
    target.goto(decided_world.paths["abuse-target-decision"])
    target.get_by_label("Why should the decision change?").fill("The person in the photo is me; I posted it.")
    target.get_by_label(re.compile("Your e-mail")).fill("target@example.net")
    target.get_by_role("button", name="Send appeal").click()
    assert "Appeal sent" in target.locator("main").inner_text()

    assert sorted(Appeal.objects.values_list("appellant", flat=True)) == ["reporter", "target"]


@pytest.mark.submits("set_language")
def test_language_switch_keeps_the_page(page):
    page.goto("/report/")
    page.locator("#lang-select").select_option("de")
    page.locator("form.lang button[type=submit]").click()
    assert page.url.endswith("/report/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.locator("#lang-select").select_option("en")
    page.locator("form.lang button[type=submit]").click()
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.submits("receipt-verify")
def test_receipt_check_says_a_forged_receipt_is_not_genuine(page):
    page.goto("/receipts/verify/")
    page.get_by_label("Receipt (JSON)").fill('{"receipt": {"reference": "PR-AAAA-BBBB"}, "signature": "forged"}')
    page.get_by_role("button", name="Check the receipt").click()
    assert page.locator("#verdict h2").inner_text() == "Not genuine"
