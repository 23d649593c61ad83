"""Journey (f): a privacy officer's first day — invite → second factor → dashboard → a deadline →
approve a deletion, with the dry run shown. The admin at 1280×900, never scrolling sideways."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from requests_app.demo import write_stores
from requests_app.models import PrivacyRequest
from tests.conftest import ALICE
from tests.e2e.conftest import DESKTOP
from tests.e2e.layout import no_sideways_scroll, visible_within

PASSWORD = "correct horse battery staple"


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.fixture
def demo_stores(tmp_path, settings, sqlite_host, media_root):
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))


@pytest.fixture(autouse=True)
def _require_2fa(settings):
    settings.PORTAL_REQUIRE_2FA = True
    settings.PORTAL_DELETION_GRACE_HOURS = 24


def test_privacy_officer_first_day(new_page, officer, demo_stores):
    request = PrivacyRequest.objects.create(
        kind="deletion",
        status="verified",
        email=ALICE,
        verified_at=timezone.now(),
        due_at=timezone.now() + timedelta(days=3),
    )
    page = new_page(viewport=DESKTOP)

    # The admin runs the invite command and hands the link over.
    out = StringIO()
    call_command("invite_second_factor", officer.username, stdout=out)
    invite = next(line for line in out.getvalue().splitlines() if "/account/2fa/invite/" in line).strip()

    # Enrol: password, then the authenticator app's code, then the backup codes.
    page.goto(invite)
    page.wait_for_url("**/admin/login/**")
    page.fill("#id_username", officer.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/setup/**")
    page.fill("#id_code", _code(TOTPDevice.objects.get(user=officer, confirmed=False)))
    page.click("input[type=submit]")
    page.wait_for_url("**/account/2fa/backup-codes/**")
    page.locator("a[href*='/admin/']").last.click()
    page.wait_for_url("**/admin/")

    # The admin home: the dashboard first, the second factor in the user menu, no operators' plumbing.
    no_sideways_scroll(page, "admin home")
    assert page.locator(".pr-index-dashboard-link").is_visible()
    assert page.locator("#user-tools a[href*='/account/2fa/']").is_visible()
    assert page.locator("a[href*='/admin/axes/']").count() == 0
    assert page.locator("a[href*='/admin/portal/heartbeat/']").count() == 0

    # Dashboard → the requests due within 7 days → the list shows every column.
    page.locator(".pr-index-dashboard-link").click()
    page.wait_for_url("**/dashboard/")
    no_sideways_scroll(page, "dashboard")
    assert page.locator("#due-week-count").inner_text() == "1"
    page.locator("a.pr-card[href*='deadline=soon']").click()
    page.wait_for_url(lambda url: "deadline=soon" in url)
    no_sideways_scroll(page, "request list")
    for column in ("assigned_to", "due_column", "status_column"):
        visible_within(page, f"#result_list td.field-{column}", f"the {column} column")
        visible_within(page, f"#result_list th.column-{column}", f"the {column} heading")
    heading = page.locator("#result_list th.column-assigned_to")
    assert heading.evaluate("el => el.scrollWidth <= el.clientWidth"), "the 'Assigned to' heading is clipped"
    page.get_by_role("link", name=request.reference).click()
    page.wait_for_url(lambda url: f"/privacyrequest/{request.pk}/change/" in url)
    no_sideways_scroll(page, "request page")

    # Approve: the page says when the deletion starts and what each store holds now.
    page.locator("a.pr-decision-approve").click()
    page.wait_for_url(lambda url: "/decide/approve/" in url)
    no_sideways_scroll(page, "approve page")
    assert "24" in page.locator("#content-main").inner_text()
    counts = page.locator(".pr-dry-run td.pr-count").all_inner_texts()
    assert counts and sum(int(c) for c in counts) > 0, "the dry run found none of Alice's data"
    request.refresh_from_db()
    assert request.status == "verified" and not request.store_tasks.exists()  # looking changed nothing
    page.locator("input[type=submit].default").click()
    page.wait_for_url(lambda url: url.endswith(f"/privacyrequest/{request.pk}/change/"))
    request.refresh_from_db()
    assert request.status == "approved" and request.run_after > timezone.now() + timedelta(hours=23)
