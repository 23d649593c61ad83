"""``make screenshots``: the journeys of issue 19 photographed at 1280×900 and 390×844.

Starts the stack exactly as `make run` does (``stack.py``: the Procfile through honcho, the demo host
app, e-mails in a temporary ``var/mail/``), walks the journeys with the steps the journey tests use
(``walks.py``) and saves ``docs/screenshots/<journey>-<step>-<desktop|phone>.png`` for the steps in
``STEPS`` — the ones the README and docs/ show. Each image is the viewport (the whole page where
``FULL`` says so, at most ``MAX_SHOT_HEIGHT`` px), reduced to 64 colours; an image that differs from
the committed one only in a reference or a date (under 2% of pixels) is left untouched.

Run: ``make screenshots`` (or ``.venv/bin/python -m tests.e2e.screenshots``).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from tests.e2e.shots import CHROMIUM_ARGS, DESKTOP, MAX_SHOT_HEIGHT, PHONE, SCREENSHOTS, save_screenshot
from tests.e2e.stack import Stack, StackError, link, text
from tests.e2e.walks import (
    ALICE,
    BOB,
    OFFICER,
    OFFICER_PASSWORD,
    admin_login,
    approve_in_admin,
    file_request,
    submit,
    wait_for_state,
)

REPORTER = "reporter@example.net"
STEPS = {
    "access": ("form", "status", "code", "package"),
    "deletion": ("status", "receipt", "verify"),
    "consent": ("email", "purpose"),
    "report": ("form", "decide", "status", "appealed"),
    "child-safety": ("form", "received"),
    "officer": ("2fa", "dashboard", "approve"),
}
FULL = {"access-package", "report-decide", "officer-approve"}  # the whole page matters here
TOTP_CODE = (
    "from django_otp.oath import TOTP; from django_otp.plugins.otp_totp.models import TOTPDevice as D; "
    "d = D.objects.filter(user__username='officer', confirmed=False).latest('pk'); "
    "print(f'{TOTP(d.bin_key, d.step, d.t0, d.digits, d.drift).token():06d}')"
)


class Camera:
    """``camera.shot(journey)`` → a ``shot(step)`` for that journey and page, saving the listed steps."""

    def __init__(self) -> None:
        self.saved: list[Path] = []

    def shot(self, journey: str, page):
        def _shot(step: str) -> None:
            if step in STEPS[journey]:
                self.save(page, f"{journey}-{step}")

        return _shot

    def save(self, page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            height = size["height"]
            if name in FULL:
                height = min(max(page.evaluate("document.documentElement.scrollHeight"), height), MAX_SHOT_HEIGHT)
            path = SCREENSHOTS / f"{name}-{label}.png"
            save_screenshot(page, path, size["width"], height)
            self.saved.append(path)
        if original:
            page.set_viewport_size(original)


def access(stack: Stack, new_page, camera: Camera, work: Path) -> None:
    """(a) Access request → confirm → status → download with the code → index.html of the package."""
    page = new_page()
    shot = camera.shot("access", page)
    file_request(page, stack, "access", ALICE, shot)
    wait_for_state(page, stack, "completed")
    shot("status")
    ready = stack.mailbox.wait(ALICE, r"/requests/download/", stack=stack)
    other = new_page()  # the e-mail opened on another device: a code to the confirmed address first
    other.goto(link(ready, stack.url, "/requests/download/"))
    other.locator("main form:has(input[value=send_code]) button").click()
    other.wait_for_load_state()
    shot = camera.shot("access", other)
    shot("code")
    code = re.search(r"(?m)^\s+(\d{6})\s*$", text(stack.mailbox.wait(ALICE, r"(?m)^\s+\d{6}\s*$", stack=stack)))
    if code is None:
        raise StackError("the download-code e-mail carries no six-digit code")
    other.locator("#download-code").fill(code.group(1))
    other.locator("main form:has(input[value=check_code]) button:not([form])").click()
    other.wait_for_load_state()
    shot("download")
    with other.expect_download() as download:
        other.locator("main form:has(input[value=download]) button").click()
    zipfile.ZipFile(download.value.path()).extractall(work / "package")
    other.goto((work / "package" / "index.html").as_uri())
    shot("package")


def deletion_approved_by_officer(stack: Stack, new_page, camera: Camera, work: Path) -> None:
    """(b) with (f): a deletion waits for staff; the officer's first day approves it with the dry run."""
    page = new_page()
    shot = camera.shot("deletion", page)
    status_url = file_request(page, stack, "deletion", BOB, shot)
    reference = page.locator("#reference").inner_text().strip()
    shot("status")

    officer = new_page()
    shot = camera.shot("officer", officer)
    # An operator beside `make run` on another port sets PORTAL_BASE_URL as the Makefile does for the stack.
    printed = stack.manage("invite_second_factor", OFFICER, env={"PORTAL_BASE_URL": stack.url})
    invite = next(line.strip() for line in printed.splitlines() if "/account/2fa/invite/" in line)
    admin_login(officer, stack)
    officer.goto(invite)
    officer.wait_for_url("**/account/2fa/setup/**")
    officer.evaluate(
        "document.querySelectorAll('main img, #content img, svg, code, .secret')"
        ".forEach(el => el.style.filter = 'blur(6px)')"
    )  # the enrolment secret is not for a picture
    shot("2fa")
    officer.fill("#id_code", stack.manage("shell", "-c", TOTP_CODE).strip().splitlines()[-1])
    officer.click("input[type=submit]")
    officer.wait_for_url("**/account/2fa/backup-codes/**")
    officer.locator("a[href*='/admin/']").last.click()
    officer.wait_for_url("**/admin/")
    officer.locator(".pr-index-dashboard-link").click()
    officer.wait_for_url("**/dashboard/")
    shot("dashboard")
    approve_in_admin(officer, stack, reference, shot, signed_in=True)

    shot = camera.shot("deletion", page)
    page.goto(status_url)
    wait_for_state(page, stack, "completed")
    shot("receipt")
    with page.expect_download() as download:
        page.locator("#receipt-json").click()
    saved = work / "receipt.json"
    download.value.save_as(saved)
    page.locator("#receipt a[href$='/receipts/verify/']").click()
    page.locator("main input[type=file]").set_input_files(str(saved))
    submit(page, "main form.stacked")
    shot("verify")


def consent(stack: Stack, new_page, camera: Camera) -> None:
    """(c) Consent from the home page: e-mail → the link → a purpose → grant."""
    page = new_page()
    shot = camera.shot("consent", page)
    page.goto(stack.url + "/")
    page.locator("a.choice#consent").click()
    page.locator("main form.stacked input[name=email]").fill(ALICE)
    shot("email")
    submit(page, "main form.stacked")
    message = stack.mailbox.wait(ALICE, r"/consent/\?subject=", stack=stack)
    page.goto(link(message, stack.url, "/consent/?subject="))
    page.locator("ul.purposes a").first.click()
    page.wait_for_load_state()
    shot("purpose")
    page.locator("main button[value=grant]").click()
    page.wait_for_load_state()


def evidence_png() -> bytes:
    """A small picture the reporter attaches: a red square with a white bar, easy to recognise in the preview."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (200, 30, 30))
    ImageDraw.Draw(image).rectangle((40, 80, 280, 120), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def report(stack: Stack, new_page, camera: Camera) -> None:
    """(d) Report with evidence → the moderator decides with the preview → the reporter reads it → appeals."""
    reporter = new_page()
    shot = camera.shot("report", reporter)
    reporter.goto(stack.url + "/report/")
    reporter.locator("input[name=category][value=harassment]").check()
    reporter.locator("textarea[name=locations]").fill("https://app.example/posts/2231")
    reporter.locator("textarea[name=explanation]").fill("This post publishes my home address and threatens me.")
    reporter.locator("input[type=file][name=evidence]").set_input_files(
        files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": evidence_png()}]
    )
    reporter.locator("input[name=reporter_email]").fill(REPORTER)
    reporter.locator("input[name=good_faith]").check()
    shot("form")
    reporter.locator("form.stacked button[type=submit]").click()
    reporter.wait_for_url("**/report/received/")

    staff = new_page()
    admin_login(staff, stack)
    staff.goto(f"{stack.url}/admin/abuse_app/case/")
    staff.locator("#result_list tbody tr th a, #result_list tbody tr td a").first.click()
    staff.wait_for_url(re.compile(r".*/case/\d+/change/$"))
    staff.goto(staff.url.replace("/change/", "/decide/"))
    staff.wait_for_function("(img => img && img.complete)(document.querySelector('.abuse-preview img'))")
    staff.locator("input[name=action][value=remove_content]").check()
    staff.locator("input[name=ground][value=terms]").check()
    staff.locator("input[name=legal_reference]").fill("Terms §4.2")
    staff.locator("textarea[name=facts]").fill("The post publishes a private address with a threat.")
    camera.shot("report", staff)("decide")
    staff.locator("input[type=submit].default").click()
    staff.wait_for_url("**/change/")

    received = stack.mailbox.wait(REPORTER, r"/report/status/", stack=stack)
    stack.mailbox.wait(REPORTER, r".", stack=stack)  # the decision, after the receipt of the report
    reporter.goto(link(received, stack.url, "/report/status/"))
    shot("status")
    reporter.locator("a[href*='/appeal/']").click()
    reporter.locator("textarea[name=statement]").fill("The address is still online.")
    reporter.locator("form.stacked button[type=submit]").click()
    reporter.locator(".confirmation-panel").wait_for()
    shot("appealed")


def child_safety(stack: Stack, new_page, camera: Camera) -> None:
    """(e) The child-safety lane: addresses only, no upload, no identity."""
    page = new_page()
    shot = camera.shot("child-safety", page)
    page.goto(stack.url + "/report/")
    page.locator("main a[href*='lane=child-safety']").click()
    page.locator("[name=locations]").fill("https://app.example/posts/4711")
    page.locator("[name=explanation]").fill("A photo of a child shared with sexual comments.")
    page.locator("[name=good_faith]").check()
    shot("form")
    submit(page, "main form.stacked")
    shot("received")


def main() -> int:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium")
    if not executable:
        print("make screenshots needs chromium (Debian: apt-get install chromium, or set PORTAL_CHROMIUM)")
        return 2
    camera = Camera()
    with tempfile.TemporaryDirectory(prefix="portal-screenshots-") as tmp:
        work = Path(tmp)
        stack = Stack(work / "var")
        print(f"Starting `make run` on {stack.url} (log: {stack.log}) …", flush=True)
        stack.start()
        try:
            stack.manage(
                "createsuperuser",
                "--noinput",
                "--username",
                OFFICER,
                "--email",
                "officer@example.com",
                env={"DJANGO_SUPERUSER_PASSWORD": OFFICER_PASSWORD},
            )
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)

                def new_page():
                    context = browser.new_context(
                        locale="en-GB",
                        viewport=DESKTOP,
                        accept_downloads=True,
                        extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
                    )
                    context.set_default_timeout(20_000)
                    return context.new_page()

                if os.environ.get("SCREENSHOTS_SKIP_ACCESS") != "1":  # a quicker run while changing the others
                    access(stack, new_page, camera, work)
                deletion_approved_by_officer(stack, new_page, camera, work)
                consent(stack, new_page, camera)
                report(stack, new_page, camera)
                child_safety(stack, new_page, camera)
                browser.close()
        finally:
            stack.stop()
    total = sum(path.stat().st_size for path in camera.saved)
    print(f"{len(camera.saved)} screenshots in {SCREENSHOTS.relative_to(Path.cwd())}/ ({total // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
