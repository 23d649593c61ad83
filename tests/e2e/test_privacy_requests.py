"""Privacy requests in a real browser: from the home page to the status page."""

import json
import re
import zipfile

import pytest

from requests_app.demo import write_stores
from requests_app.engine.local import run_local
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


@pytest.fixture
def host_stores(settings, tmp_path, sqlite_host, media_root):
    """The host app's data for Alice: a SQLite database and a media folder, described in a stores file."""
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    return settings.PORTAL_STORES_FILE


@pytest.mark.submits("package-download")
def test_access_request_to_download(page, new_page, outbox, live_server, host_stores, check_a11y, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Get a copy of my data").first.click()
    page.get_by_label("Your e-mail address").fill(ALICE)
    page.locator("input[name=confirm]").check()
    page.locator("form.stacked button[type=submit]").click()
    page.goto(_link_from_mail(outbox, re.escape(live_server.url) + r"/requests/verify/\S+"))
    page.get_by_role("button", name="Confirm my request").click()
    request = PrivacyRequest.objects.get(email=ALICE)
    assert request.status == PrivacyRequest.Status.APPROVED  # access requests are approved once verified

    # The engine's work: the same code the Celery workers run, here in the test's thread.
    run_local(request)
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED

    page.goto(_link_from_mail(outbox, re.escape(live_server.url) + r"/requests/download/\S+"))
    check_a11y(page, context="download page")
    screenshot(page, "download")
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile("Download")).click()
    archive = zipfile.ZipFile(download_info.value.path())
    assert "index.html" in archive.namelist()
    assert [user["username"] for user in json.loads(archive.read("app-db/accounts_user.json"))] == ["alice"]
    assert "uploads/files/avatars/1/me.png" in archive.namelist()

    # The same link opened in another browser (a forwarded e-mail): a code to the confirmed address first.
    other = new_page()
    other.goto(_link_from_mail(outbox, re.escape(live_server.url) + r"/requests/download/\S+"))
    assert other.get_by_role("button", name=re.compile("Download")).count() == 0
    other.get_by_role("button", name="E-mail me a code").click()
    check_a11y(other, context="download code form")
    code = re.search(r"^\s+(\d{6})$", outbox[-1].body, re.M).group(1)
    assert outbox[-1].to == [ALICE]
    other.get_by_label("Code from the e-mail").fill("000000" if code != "000000" else "111111")
    other.get_by_role("button", name="Confirm").click()
    assert "not right" in other.locator("#download-error").inner_text()
    other.get_by_label("Code from the e-mail").fill(code)
    other.get_by_role("button", name="Confirm").click()
    with other.expect_download() as second:
        other.get_by_role("button", name=re.compile("Download")).click()
    assert "index.html" in zipfile.ZipFile(second.value.path()).namelist()


def test_german_deletion_request_with_german_email(new_page, outbox, live_server, check_a11y, screenshot):
    page = new_page(locale="de-DE")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "de"
    page.get_by_role("link", name="Meine Daten löschen").first.click()
    page.get_by_role("button", name="Löschanfrage senden").click()
    assert "Es gibt ein Problem" in page.locator(".error-summary").inner_text()
    check_a11y(page, context="German deletion form with errors")

    page.get_by_label("Ihre E-Mail-Adresse").fill(ALICE)
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Löschanfrage senden").click()
    screenshot(page, "submitted-de")
    message = outbox[-1]
    assert "Guten Tag," in message.body  # the e-mail is in the language the request was made in
    page.goto(_link_from_mail(outbox, re.escape(live_server.url) + r"/requests/verify/\S+"))
    page.get_by_role("button", name="Meine Anfrage bestätigen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ihre Löschanfrage"
    check_a11y(page, context="German status page")


@pytest.mark.submits("request-new-agent")
def test_authorized_agent_files_for_a_consumer_who_then_confirms(page, outbox, live_server, tmp_path):
    permission = tmp_path / "signed-permission.pdf"
    permission.write_bytes(b"%PDF-1.7\n% signed by Alice for Rights Helpers Inc.\n")
    page.goto("/requests/new/access/")
    page.get_by_role("link", name="Use the agent form").click()
    assert page.url.endswith("/requests/new/access/agent/")

    page.get_by_label("The consumer's e-mail address").fill(ALICE)
    page.get_by_label("Your name (the agent)").fill("Rights Helpers Inc.")
    page.get_by_label("Your e-mail address (the agent)").fill("agent@helpers.example")
    page.get_by_label("The consumer's signed permission").set_input_files(str(permission))
    page.locator("input[name=confirm]").check()
    page.locator("form.stacked button[type=submit]").click()
    assert "/requests/submitted/" in page.url

    request = PrivacyRequest.objects.get(email=ALICE)
    assert request.channel == "agent" and request.status == "unverified"
    # The consumer, not the agent, confirms: the link goes to the consumer's address only.
    assert all("/requests/verify/" not in m.body for m in outbox if "agent@helpers.example" in m.to)
    page.goto(_link_from_mail(outbox, re.escape(live_server.url) + r"/requests/verify/\S+"))
    page.get_by_role("button", name="Confirm my request").click()
    request.refresh_from_db()
    assert request.verified_at is not None and request.status == "verified"  # staff check the permission
