"""Every public page: axe-core finds nothing serious, the footer names attribution, policy and abuse,
and the page stays under 50 KB of HTML + CSS — at phone and desktop width."""

import pytest

from tests.e2e.conftest import DESKTOP, PHONE
from tests.portal.policy import ensure_default_policy

PUBLIC_PAGES = [
    "/",
    "/privacy/",
    "/privacy/v/1/",
    "/requests/new/access/",
    "/requests/new/deletion/",
    "/requests/find/",
    "/consent/",
    "/report/",
    "/report/?lane=child-safety",
    "/transparency/",
    "/requests/verify/not-a-real-token/",
    "/requests/status/not-a-real-token/",
    "/no-such-page/",
]


@pytest.fixture
def policy(transactional_db):
    return ensure_default_policy()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_public_pages_accessible_with_footer_links(new_page, policy, check_a11y, viewport):
    page = new_page(viewport=viewport)
    for path in PUBLIC_PAGES:
        page.goto(path)
        footer = page.locator("footer")
        assert footer.get_by_role("link", name="using Microsoft Cognitive Services").count() == 1, path
        assert footer.get_by_role("link", name="Privacy policy").count() == 1, path
        assert footer.get_by_role("link", name="Report abuse").count() == 1, path
        # Nothing wider than the screen: no sideways scrolling on a phone.
        overflow = page.evaluate("(el => el.scrollWidth - el.clientWidth)(document.documentElement)")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {viewport['width']}px"
        check_a11y(page, context=f"{path} at {viewport['width']}px")


def test_public_pages_under_50_kb_of_html_and_css(page, policy):
    sizes = {}
    for path in PUBLIC_PAGES:
        response = page.goto(path)
        total = len(response.body())
        for href in page.eval_on_selector_all("link[rel=stylesheet]", "links => links.map(l => l.href)"):
            total += len(page.request.get(href).body())
        sizes[path] = total
    assert max(sizes.values()) < 50_000, sizes
