"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

- ``page``: a fresh browser context (English, desktop width) on the live server.
- ``check_a11y(page)``: runs axe-core in the page and fails on serious/critical violations.
- ``screenshot(page, name)``: saves ``docs/screenshots/<name>-phone.png`` and ``-desktop.png``.
- Every page load is watched for CSP violations and console errors: a page that needs
  an inline script or style fails the test that loads it.

Chromium comes from the OS (``PORTAL_CHROMIUM`` or ``chromium`` on PATH); without it the
tests skip locally and fail in CI (``PORTAL_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import service_unavailable
from tests.e2e.shots import CHROMIUM_ARGS, DESKTOP, MAX_SHOT_HEIGHT, PHONE, SCREENSHOTS, save_screenshot

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def browser() -> Iterator:
    executable = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium")
    if not executable or not Path(executable).exists():
        service_unavailable("chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests
    # make beside it are synchronous and safe. Only while the browser is open: the variable must
    # not leak into other tests (``check --deploy`` in a subprocess rejects it).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageProblems(list):
    """CSP violations, console errors and requests to other hosts seen while a test ran."""


@pytest.fixture
def new_page(browser, live_server, settings, request) -> Iterator[Callable]:
    """``new_page(locale="en-GB", viewport=DESKTOP)`` → a page in a fresh context (own cookies).

    A test marked ``@pytest.mark.submits("url-name", ...)`` must POST to each named URL from the
    browser and get an answer below 400 (tests/portal/test_public_forms_covered.py compares
    those names with the URLconf, so a new public form needs a browser test).
    """
    from urllib.parse import urlparse

    from django.urls import Resolver404, resolve

    # Links in e-mails must point at the live server.
    settings.PORTAL_BASE_URL = live_server.url
    contexts = []
    problems = PageProblems()
    posted: dict[str, int] = {}

    def on_response(response):
        if response.request.method != "POST" or not response.url.startswith(live_server.url):
            return
        try:
            name = resolve(urlparse(response.url).path).url_name or ""
        except Resolver404:
            return
        if response.status < 400:
            posted[name] = response.status
        else:
            posted.setdefault(name, response.status)

    def _make(locale: str = "en-GB", viewport: dict | None = None):
        context = browser.new_context(
            locale=locale,
            viewport=viewport or DESKTOP,
            base_url=live_server.url,
            extra_http_headers={"Accept-Language": f"{locale},{locale[:2]};q=0.9"},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()

        def on_console(msg):
            if msg.type != "error":
                return
            # A page answering 4xx on purpose (a form with errors, an expired link) is not a problem;
            # a 4xx/5xx for anything it loads (CSS, script, icon) is, and so is every CSP violation.
            own_document = msg.location.get("url") == page.url
            if own_document and "the server responded with a status of 4" in msg.text:
                return
            problems.append(f"console error on {page.url}: {msg.text} ({msg.location.get('url')})")

        def on_request(request):
            if not request.url.startswith((live_server.url, "data:", "about:")):
                problems.append(f"request to another host from {page.url}: {request.url}")

        page.on("console", on_console)
        page.on("request", on_request)
        page.on("response", on_response)
        return page

    yield _make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)
    marker = request.node.get_closest_marker("submits")
    for name in marker.args if marker else ():
        status = posted.get(name)
        assert status is not None, f"the test says it submits {name!r} but the browser never POSTed to it"
        assert status < 400, f"the browser's POST to {name!r} was answered {status}"


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        service_unavailable("axe-core (run `npm ci`)")
    return AXE_JS.read_text()


@pytest.fixture
def check_a11y(axe_source) -> Callable:
    """Run axe-core (WCAG 2.0/2.1 A+AA rules) on the current page; fail on serious or critical findings.

    axe is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the page under test keeps its strict policy.
    """

    def _check(page, *, context: str = "") -> list[dict]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(f"() => {{ {axe_source}\n }}")
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                # axe registers itself on window only in a browser global scope.
                page.evaluate(axe_source)
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a','wcag2aa','wcag21a','wcag21aa','best-practice']}}); "
            "return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
            "nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"accessibility violations on {context or page.url}:\n" + "\n".join(
            f"- [{v['impact']}] {v['id']}: {v['help']} at {v['nodes']}" for v in bad
        )
        return result

    return _check


@pytest.fixture
def screenshot() -> Callable:
    """Save the current page at phone and desktop width to docs/screenshots/.

    The top of the page (at most ``MAX_SHOT_HEIGHT`` CSS pixels), reduced to a 64-colour
    palette so the PNGs stay small in the repository.
    """

    def _shot(page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
            path = SCREENSHOTS / f"{name}-{label}.png"
            save_screenshot(page, path, size["width"], height)
        if original:
            page.set_viewport_size(original)

    return _shot


@pytest.fixture
def outbox():
    """The locmem outbox the live server's thread writes into (same process)."""
    from django.core import mail

    return mail.outbox


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every browser test submits from 127.0.0.1: start each from empty rate-limit counters.

    Only this run's keys go (tests.cache.RunRedisCache.clear); the limits themselves are tested in
    tests/portal/test_ratelimit*.py.
    """
    from django.core.cache import cache

    cache.clear()
    yield
