"""Journeys, not pages (issue 19): a person's whole way through the portal started by `make run`.

One stack for the session (``tests/e2e/stack.py``: the Procfile through honcho — gunicorn, Celery
worker and beat — on SQLite and the filesystem broker, in a temporary var dir on a free port).
The journeys follow the e-mails in ``var/mail/`` like a person: every link they use is the one
the web or the worker wrote, so a link to the wrong port fails here.

Each journey runs in en, de and fr (Accept-Language; fr through the site's language switch) and
at 1280×900 or 390×844; every page on the way is also checked at the other size, so each page is
seen at both sizes without walking every journey twice. Assertions are language-independent facts
(ids, states, URLs, files) — the catalogues' completeness is another test's job.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.stack import Stack, link, text
from tests.e2e.walks import (
    ALICE,
    BOB,
    CAROL,
    NOBODY,
    OFFICER,
    OFFICER_PASSWORD,
    ONCALL,
    approve_in_admin,
    file_request,
    look,
    submit,
    wait_for_state,
)

# (language, the size the person uses): en on a computer, de and fr on a phone.
LANGUAGES = [("en", DESKTOP), ("de", PHONE), ("fr", PHONE)]
LOCALES = {"en": "en-GB", "de": "de-DE", "fr": "fr-FR"}


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """`make run` on a free port in a temporary var dir, for every journey of the session."""
    running = Stack(tmp_path_factory.mktemp("journeys") / "var").start()
    try:
        # A privacy officer's account, made the way the README says (createsuperuser).
        running.manage(
            "createsuperuser",
            "--noinput",
            "--username",
            OFFICER,
            "--email",
            "officer@example.com",
            env={"DJANGO_SUPERUSER_PASSWORD": OFFICER_PASSWORD},
        )
        yield running
    finally:
        running.stop()


@pytest.fixture
def journey(browser, stack, request) -> Iterator[Callable]:
    """``journey(lang, size)`` → a page in a fresh browser context, watched like the conftest's pages.

    CSP violations, console errors and requests to other hosts fail the test; so does a POST a
    ``submits`` marker names that the browser never made (tests/portal/test_public_forms_covered.py).
    """
    from django.urls import Resolver404, resolve

    contexts, problems, posted = [], [], {}

    def on_response(response):
        if response.request.method != "POST" or not response.url.startswith(stack.url):
            return
        try:
            name = resolve(urlparse(response.url).path).url_name or ""
        except Resolver404:
            return
        posted[name] = min(posted.get(name, 999), response.status)

    def _make(lang: str = "en", size: dict | None = None):
        locale = LOCALES[lang]
        # fr arrives with an English browser and picks French with the site's language switch.
        header = "en-GB,en;q=0.9" if lang == "fr" else f"{locale},{lang};q=0.9"
        context = browser.new_context(
            locale=locale,
            viewport=size or DESKTOP,
            accept_downloads=True,
            extra_http_headers={"Accept-Language": header},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()

        def on_console(msg):
            own_document = msg.location.get("url") == page.url
            if msg.type != "error" or (own_document and "the server responded with a status of 4" in msg.text):
                return
            problems.append(f"console error on {page.url}: {msg.text}")

        def on_request(req):
            if not req.url.startswith((stack.url, "data:", "about:", "file:")):
                problems.append(f"request to another host from {page.url}: {req.url}")

        page.on("console", on_console)
        page.on("request", on_request)
        page.on("response", on_response)
        page.journey_lang = lang
        if lang == "fr":
            page.goto(stack.url + "/")
            page.select_option("#lang-select", "fr")
            page.locator("form.lang button[type=submit]").click()
            page.wait_for_load_state()
        return page

    yield _make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)
    marker = request.node.get_closest_marker("submits")
    for name in marker.args if marker else ():
        assert name in posted, f"the journey says it submits {name!r} but the browser never POSTed to it"
        assert posted[name] < 400, f"the browser's POST to {name!r} was answered {posted[name]}"


def test_worker_emails_link_to_the_web(stack):
    """Item 1 of issue 19 without a browser: under `make run` a worker-sent link answers 200.

    honcho gives the worker its own PORT (web +100); the Makefile's PORTAL_BASE_URL must win.
    The consent-link e-mail is sent by the worker (``consent.send_link``).
    """
    import http.cookiejar
    import urllib.parse
    import urllib.request

    log = stack.log.read_text(errors="replace")
    assert all(f"{process}.1" in log for process in ("web", "worker", "beat")), stack.tail()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{stack.url}/consent/", timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "email": ALICE}).encode()
    posted = urllib.request.Request(f"{stack.url}/consent/", data=body, headers={"Referer": f"{stack.url}/consent/"})
    assert opener.open(posted, timeout=10).status == 200
    message = stack.mailbox.wait(ALICE, r"/consent/\?subject=", stack=stack)
    assert re.findall(r"http://127\.0\.0\.1:\d+/", text(message)) == [f"{stack.url}/"], text(message)
    assert stack.status(link(message, stack.url, "/consent/?subject=")) == 200


@pytest.mark.submits("request-new-access", "request-verify", "request-status-download", "package-download")
@pytest.mark.parametrize(("lang", "size"), LANGUAGES, ids=[lang for lang, _ in LANGUAGES])
def test_access_request_to_index_html(journey, stack, lang, size, tmp_path):
    """(a) Access: request → confirm by e-mail → status → download with the code → index.html."""
    page = journey(lang, size)
    file_request(page, stack, "access", ALICE)
    wait_for_state(page, stack, "completed")
    look(page)
    assert page.locator("#stores li[data-state=done]").count() >= 1

    # The worker's "your data is ready" e-mail links to the web, not to the worker's own PORT.
    ready = stack.mailbox.wait(ALICE, r"/requests/download/", stack=stack)
    assert stack.status(link(ready, stack.url, "/requests/download/")) == 200

    # From the status page: this browser confirmed the request, so it may download at once.
    page.locator("#download-link").click()
    look(page)
    with page.expect_download() as download:
        page.locator("main form:has(input[value=download]) button").click()
    assert "index.html" in zipfile.ZipFile(download.value.path()).namelist()

    # From the e-mail, on another device: a code to the confirmed address first.
    other = journey(lang, size)
    other.goto(link(ready, stack.url, "/requests/download/"))
    look(other)
    assert other.locator("main form:has(input[value=download])").count() == 0
    other.locator("main form:has(input[value=send_code]) button").click()
    look(other)
    code = re.search(r"(?m)^\s+(\d{6})\s*$", text(stack.mailbox.wait(ALICE, r"(?m)^\s+\d{6}\s*$", stack=stack)))
    other.locator("#download-code").fill(code.group(1))
    other.locator("main form:has(input[value=check_code]) button:not([form])").click()
    look(other)
    with other.expect_download() as download:
        other.locator("main form:has(input[value=download]) button").click()
    archive = zipfile.ZipFile(download.value.path())
    assert "index.html" in archive.namelist()
    archive.extractall(tmp_path / "package")
    page.goto((tmp_path / "package" / "index.html").as_uri())
    assert page.locator("h1").count() == 1 and page.locator("body").inner_text().strip()
    original = page.viewport_size
    for width in (PHONE, DESKTOP):
        page.set_viewport_size(width)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "index.html scrolls"
    page.set_viewport_size(original)


@pytest.mark.submits("consent-overview", "consent-purpose")
@pytest.mark.parametrize(("lang", "size"), LANGUAGES, ids=[lang for lang, _ in LANGUAGES])
def test_consent_by_email_grant_then_withdraw(journey, stack, lang, size):
    """(c) Consent from the home page: e-mail → a single-use link → grant, then withdraw."""
    page = journey(lang, size)
    page.goto(stack.url + "/")
    page.locator("a.choice#consent").click()
    look(page)
    assert page.locator("ul.purposes a").count() >= 1  # the demo's purposes: a fresh make run is not empty
    page.locator("main form.stacked input[name=email]").fill(ALICE)
    submit(page, "main form.stacked")
    look(page)
    message = stack.mailbox.wait(ALICE, r"/consent/\?subject=", stack=stack)
    consent_link = link(message, stack.url, "/consent/?subject=")
    page.goto(consent_link)
    look(page)
    assert urlparse(page.url).query == ""  # the token left the address bar at once
    page.locator("ul.purposes a").first.click()
    look(page)
    page.locator("main button[value=grant]").click()
    page.wait_for_load_state()
    withdraw = page.locator("main button[value=withdraw]")
    assert withdraw.count() == 1 and page.locator("main button[value=grant]").count() == 0
    look(page)
    withdraw.click()
    page.wait_for_load_state()
    assert page.locator("main button[value=grant]").is_visible()
    look(page)

    # Single-use: the same link in another browser (a forwarded e-mail) no longer opens anything.
    other = journey(lang, size)
    answer = other.goto(consent_link)
    assert answer.status == 400 and other.locator("main .error").is_visible()
    assert other.locator("main button[value=grant]").count() == 0


@pytest.mark.submits("abuse-report")
@pytest.mark.parametrize(("lang", "size"), LANGUAGES, ids=[lang for lang, _ in LANGUAGES])
def test_child_safety_report(journey, stack, lang, size):
    """(e) The child-safety lane: addresses only, no upload, no identity; on-call alerted at once."""
    page = journey(lang, size)
    page.goto(stack.url + "/")
    page.locator("a.choice#report-abuse").click()
    look(page)
    page.locator("main a[href*='lane=child-safety']").click()
    look(page)
    assert page.locator("#hotline a").count() == 1
    assert page.locator("main input[type=file]").count() == 0 and page.locator("main input[type=email]").count() == 0
    page.locator("[name=locations]").fill(f"https://app.example/posts/{lang}-4711")
    page.locator("[name=explanation]").fill("A photo of a child shared with sexual comments.")
    page.locator("[name=good_faith]").check()
    submit(page, "main form.stacked")
    look(page)
    assert re.match(r"^AR-", page.locator("main .reference").inner_text().strip())
    alert = stack.mailbox.wait(ONCALL, re.escape(f"{lang}-4711") + "|" + re.escape(stack.url), stack=stack)
    for url in re.findall(re.escape(stack.url) + r"[^\s<>\"')]+", text(alert)):
        assert (stack.status(url) or 999) < 400, f"the on-call e-mail links to {url}, which does not open"
    page.locator("main a[href*='/report/status/']").first.click()
    look(page)


@pytest.mark.submits("request-new-deletion", "request-verify", "receipt-verify")
@pytest.mark.parametrize(
    ("lang", "size", "address"),
    [(*LANGUAGES[0], BOB), (*LANGUAGES[1], CAROL), (*LANGUAGES[2], NOBODY)],
    ids=["en", "de", "fr"],
)
def test_deletion_with_staff_approval_to_verified_receipt(journey, stack, lang, size, address, tmp_path):
    """(b) Deletion → a privacy officer approves in the admin → receipt on the status page → verified.

    Each language deletes another person (the journeys may run in any order, on any xdist worker).
    """
    page = journey(lang, size)
    status_url = file_request(page, stack, "deletion", address)
    reference = page.locator("#reference").inner_text().strip()
    assert page.locator("#state").get_attribute("data-status") == "verified"  # deletions wait for staff

    approve_in_admin(journey("en", DESKTOP), stack, reference)

    page.goto(status_url)
    wait_for_state(page, stack, "completed")
    look(page)
    # Someone with no data: "we found nothing about you", and no list of places; a receipt all the same.
    assert (page.locator("#stores").count() == 0) is (address == NOBODY)
    receipt_mail = stack.mailbox.wait(address, re.escape(reference), stack=stack, attachments=True)
    attached = {part.get_filename(): part.get_content() for part in receipt_mail.iter_attachments()}
    html = next(content for name, content in attached.items() if name and name.endswith(".html"))
    if isinstance(html, bytes):
        html = html.decode()
    assert f"{stack.url}/receipts/verify/" in html  # the worker's receipt points at the web
    assert stack.status(f"{stack.url}/receipts/verify/") == 200

    with page.expect_download() as download:
        page.locator("#receipt-json").click()
    saved = tmp_path / "receipt.json"
    download.value.save_as(saved)
    page.locator("#receipt a[href$='/receipts/verify/']").click()
    look(page)
    page.locator("main input[type=file]").set_input_files(str(saved))
    submit(page, "main form.stacked")
    assert page.locator("#verdict.verdict-genuine").is_visible(), page.locator("main").inner_text()
    look(page)
