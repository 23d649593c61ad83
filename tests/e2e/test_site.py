"""The public site in a real browser: pages, accessibility, keyboard, language, screenshots."""

import pytest

from tests.portal.policy import ensure_default_policy


@pytest.fixture
def policy(transactional_db):
    return ensure_default_policy()


def test_home_choices_footer_accessible_and_screenshot(page, check_a11y, screenshot):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "en"
    for name in ("Get a copy of my data", "Delete my data", "Manage my consent", "Report abuse"):
        assert page.get_by_role("link", name=name).first.is_visible()
    footer = page.locator("footer")
    attribution = footer.get_by_role("link", name="using Microsoft Cognitive Services")
    assert attribution.get_attribute("href").startswith("https://azure.microsoft.com/")
    assert footer.get_by_role("link", name="Privacy policy").is_visible()
    assert footer.get_by_role("link", name="Report abuse").is_visible()
    check_a11y(page)
    screenshot(page, "home")


def test_home_skip_link_is_first_and_focus_visible(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_privacy_policy_accessible_with_microsoft_links_and_screenshot(page, policy, check_a11y, screenshot):
    page.goto("/privacy/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Privacy policy of")
    assert (
        page.get_by_role("link", name="Microsoft Privacy Statement").first.get_attribute("href")
        == "https://privacy.microsoft.com/privacystatement"
    )
    assert page.locator('a[href="https://msrc.microsoft.com/report/abuse"]').count() >= 1
    check_a11y(page)
    screenshot(page, "privacy-policy")


def test_language_switcher_and_accept_language_give_german_ui(new_page, check_a11y, screenshot):
    page = new_page(locale="de-DE")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "de"
    check_a11y(page)
    screenshot(page, "home-de")
    # Switch to French with the form (no JavaScript needed), and the choice sticks.
    page.select_option("#lang-select", "fr")
    page.get_by_role("button", name=page.locator(".lang button").inner_text()).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.goto("/privacy/")
    assert page.locator("html").get_attribute("lang") == "fr"


def test_site_works_without_javascript(browser, live_server, transactional_db):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Delete my data").first.click()
        assert page.locator("form button[type=submit]").count() >= 1
        page.locator("form.stacked button[type=submit]").click()
        # Server-side validation answers with the error summary and fields tied to their errors.
        assert page.locator(".error-summary").is_visible()
        email = page.locator("input[name=email]")
        assert email.get_attribute("aria-invalid") == "true"
        assert "email_error" in email.get_attribute("aria-describedby")
    finally:
        context.close()


def test_print_shows_the_content_without_navigation(page, policy):
    page.goto("/privacy/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".lang").is_visible()
    assert page.locator("main h1").is_visible()
    # The attribution stays on paper; the footer's navigation links do not.
    assert page.locator(".attribution").is_visible()
    assert not page.locator(".site-footer nav").is_visible()
