"""Journey (d): a report with evidence → a moderator decides with the preview → the reporter reads the
decision from the e-mail → appeals → sees a confirmation.

Public pages at phone and desktop width in en/de/fr (no sideways scroll, asserted); the admin at
1280×900 (case list columns visible, case and decision pages without sideways scroll).
"""

import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from abuse_app.models import Appeal, Case, Decision, Notice
from portal.models import AuditEvent
from tests.abuse_app.conftest import report_data
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.layout import no_sideways_scroll, visible_within
from tests.helpers import login_staff


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Six runs file six reports from one address: start each from empty rate-limit counters."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


LONG_URL = "https://app.example/posts/" + "a-very-long-slug-without-spaces-" * 6 + "42"


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _staff_page(new_page, live_server, user):
    client = Client()
    login_staff(client, user)
    page = new_page(viewport=DESKTOP)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


@pytest.mark.submits("abuse-report", "abuse-appeal")
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("locale", ["en-GB", "de-DE", "fr-FR"])
def test_report_decide_read_appeal(new_page, live_server, moderator, outbox, locale, viewport):
    # 1. The reporter files a report with a screenshot.
    reporter = new_page(locale=locale, viewport=viewport)
    reporter.goto("/report/")
    no_sideways_scroll(reporter, "report form")
    reporter.locator("input[name=category][value=harassment]").check()
    reporter.locator("textarea[name=locations]").fill(LONG_URL)
    screenshot = {"name": "screenshot.png", "mimeType": "image/png", "buffer": _png()}
    # A first try without the explanation: the browser drops the chosen file, and the page says so there.
    reporter.locator("input[type=file][name=evidence]").set_input_files(files=[screenshot])
    reporter.locator("input[name=good_faith]").check()
    reporter.locator("form.stacked button[type=submit]").click()
    assert reporter.locator("#field-evidence .field-error").is_visible()
    no_sideways_scroll(reporter, "report form with errors")
    reporter.locator("textarea[name=explanation]").fill("This post publishes my home address and threatens me.")
    reporter.locator("input[type=file][name=evidence]").set_input_files(files=[screenshot])
    reporter.locator("input[name=reporter_email]").fill("reporter@example.net")
    reporter.locator("input[name=good_faith]").check()
    reporter.locator("form.stacked button[type=submit]").click()
    reporter.wait_for_url("**/report/received/")
    no_sideways_scroll(reporter, "report received")
    notice = Notice.objects.get()
    case = Case.objects.get()

    # 2. The moderator finds the case in the list at 1280 px: every column visible, no sideways scroll.
    staff = _staff_page(new_page, live_server, moderator)
    staff.goto("/admin/abuse_app/case/")
    no_sideways_scroll(staff, "case list")
    for column in ("sla_due", "status", "assigned_to"):
        visible_within(staff, f"#result_list td.field-{column}", f"the case list's {column} column")
        visible_within(staff, f"#result_list th.column-{column}", f"the case list's {column} heading")
    staff.goto(f"/admin/abuse_app/case/{case.pk}/change/")
    no_sideways_scroll(staff, "case page")
    note = staff.locator("textarea#id_body").bounding_box()
    assert note and note["width"] >= 300, f"the note box is squeezed to {note and note['width']}px"

    # 3. The decision page shows the report and a working preview of the image; nothing is preselected.
    staff.goto(f"/admin/abuse_app/case/{case.pk}/decide/")
    no_sideways_scroll(staff, "decision page")
    assert "home address" in staff.locator(".abuse-report-text").inner_text()
    staff.wait_for_function("document.querySelector('.abuse-preview img').complete")
    assert staff.evaluate("document.querySelector('.abuse-preview img').naturalWidth") == 64
    assert staff.locator("input[name=action]:checked").count() == 0
    with staff.expect_navigation():  # the page comes back with the errors: wait for it, not the old one
        staff.locator("input[type=submit].default").click()
    staff.locator(".abuse-field-error").first.wait_for()
    assert staff.locator(".abuse-field-error").count() >= 2  # action and ground, said at the fields
    staff.locator("input[name=action][value=remove_content]").check()
    staff.locator("input[name=ground][value=terms]").check()
    staff.locator("input[name=legal_reference]").fill("Terms §4.2")
    staff.locator("textarea[name=facts]").fill("The post publishes a private address with a threat.")
    staff.locator("input[type=submit].default").click()
    staff.wait_for_url(f"**/admin/abuse_app/case/{case.pk}/change/")
    assert Decision.objects.get(case=case).action == "remove_content"

    # 4. The reporter reads the decision in the e-mail, then opens the private link of the
    #    confirmation e-mail (the decision e-mail points there for appeals).
    received, decided = [m for m in outbox if "reporter@example.net" in m.to][-2:]
    assert "Terms §4.2" in decided.body and notice.reference in decided.body
    link = re.search(r"https?://\S+/report/status/[^\s\"<>]+", received.body)
    assert link, received.body
    reporter.goto(link.group(0))
    no_sideways_scroll(reporter, "report status")
    assert "Terms §4.2" in reporter.content()

    # 5. ...appeals, and is told it was sent under their own reference.
    reporter.locator("a[href*='/appeal/']").click()
    assert notice.reference in reporter.locator("h1").inner_text()
    assert case.reference not in reporter.locator("h1").inner_text()
    no_sideways_scroll(reporter, "appeal page")
    reporter.locator("textarea[name=statement]").fill("The address is still online.")
    reporter.locator("form.stacked button[type=submit]").click()
    panel = reporter.locator(".confirmation-panel")
    assert panel.is_visible() and notice.reference in panel.inner_text()
    no_sideways_scroll(reporter, "appeal sent")
    assert Appeal.objects.get().notice == notice


def test_child_safety_preview_blurred_until_revealed(new_page, live_server):
    """The child-safety lane takes no uploads from the public form; evidence may still reach a case
    (a notice through the API joins it), so the preview is blurred and grey until revealed. Only
    child-safety moderators see it (tests/e2e/test_child_safety.py: the others are refused)."""
    from portal import roles
    from tests.conftest import _staff

    moderator = _staff("cora", roles.CHILD_SAFETY_MODERATORS)
    Client().post("/report/", report_data(evidence=[SimpleUploadedFile("shot.png", _png(), "image/png")]))
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(is_child_safety=True, legal_hold_until=timezone.now() + timedelta(days=9))
    staff = _staff_page(new_page, live_server, moderator)
    staff.goto(f"/admin/abuse_app/case/{case.pk}/decide/")
    image = staff.locator(".abuse-preview img")
    assert "blur" in image.evaluate("el => getComputedStyle(el).filter")
    staff.locator(".abuse-preview button[type=submit]").click()
    staff.locator(".abuse-preview button[type=submit]").wait_for(state="detached")
    assert staff.locator(".abuse-preview img").evaluate("el => getComputedStyle(el).filter") == "none"
    assert AuditEvent.objects.filter(action="abuse.evidence_revealed", subject_id=str(case.pk)).count() == 1
