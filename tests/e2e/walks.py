"""The steps of the journeys of issue 19, shared by the journey tests and ``make screenshots``.

Each step is what a person does on one page of the stack that `make run` starts (``stack.py``);
the language-independent checks a test makes stay in the tests. A step that takes ``shot`` calls
``shot(name)`` on each page it reaches, so ``tests/e2e/screenshots.py`` photographs the very pages
the tests walk through, without a copy of the journey.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e.shots import DESKTOP, PHONE
from tests.e2e.stack import Stack, link

ALICE, BOB, CAROL = "alice@example.com", "bob@example.org", "carol@example.net"  # the demo host app's people
NOBODY = "dora@example.net"  # no account in the demo host app: a deletion that finds nothing
OFFICER, OFFICER_PASSWORD = "officer", "journey-officer-Pa55word!"
ONCALL = "oncall@example.com"
WORK_TIMEOUT = 90  # seconds for the worker to finish a request (a bound, never an expectation)

Shot = Callable[[str], None]


def no_shot(name: str) -> None:
    """The tests' ``shot``: nothing to photograph."""


def look(page, *, lang: str | None = None) -> None:
    """The page is in the person's language and scrolls sideways at neither size."""
    expected = lang or getattr(page, "journey_lang", "en")
    assert page.locator("html").get_attribute("lang") == expected, f"{page.url} is not in {expected}"
    original = page.viewport_size
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{page.url} scrolls sideways at {size['width']} px: {width[0]} > {width[1]}"
    page.set_viewport_size(original)


def submit(page, form: str = "main form") -> None:
    page.locator(f"{form} button[type=submit]").first.click()
    page.wait_for_load_state()


def wait_for_state(page, stack: Stack, state: str) -> None:
    """Reload the status page (as a person does) until the request reaches ``state``."""
    page.wait_for_function(
        "state => { const s = document.querySelector('#state'); if (s && s.dataset.status === state) return true;"
        " if (!window.__reloading) { window.__reloading = true; setTimeout(() => location.reload(), 700); }"
        " return false; }",
        arg=state,
        timeout=WORK_TIMEOUT * 1000,
        polling=300,
    )
    assert page.locator("#state").get_attribute("data-status") == state, stack.tail()


def file_request(page, stack: Stack, kind: str, address: str, shot: Shot = no_shot) -> str:
    """Home → the form → the confirmation e-mail → confirm; returns the status page's URL."""
    page.goto(stack.url + "/")
    look(page)
    page.locator(f"a.choice#{kind}").click()
    look(page)
    page.locator("input[name=email]").fill(address)
    page.locator("input[name=confirm]").check()
    shot("form")
    submit(page, "main form.stacked")
    assert "/requests/submitted/" in page.url
    look(page)
    shot("submitted")
    confirm = stack.mailbox.wait(address, r"/requests/verify/", stack=stack)
    page.goto(link(confirm, stack.url, "/requests/verify/"))
    look(page)
    shot("confirm")
    submit(page)
    assert "/requests/status/" in page.url
    look(page)
    return page.url


def admin_login(page, stack: Stack) -> None:
    """A privacy officer signs in to the admin (the account the journeys' stack fixture creates)."""
    page.goto(f"{stack.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(OFFICER)
    page.locator("#id_password").fill(OFFICER_PASSWORD)
    page.locator("form input[type=submit], form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/admin/login/" not in page.url, "the officer could not sign in"


def approve_in_admin(page, stack: Stack, reference: str, shot: Shot = no_shot, *, signed_in: bool = False) -> None:
    """The officer opens the request in the admin and approves it, the dry run's counts on screen."""
    if not signed_in:
        admin_login(page, stack)
    page.goto(f"{stack.url}/admin/requests_app/privacyrequest/?q={reference}")
    page.get_by_role("link", name=reference).first.click()
    page.wait_for_load_state()
    shot("request")
    page.locator("a.pr-decision-approve").click()
    page.wait_for_load_state()
    shot("approve")
    page.locator("#content-main form input[type=submit], #content-main form button[type=submit]").first.click()
    page.wait_for_load_state()
