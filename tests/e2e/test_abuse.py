"""Abuse reports in a real browser: a report with evidence, and the child-safety lane."""

import io

import pytest

from abuse_app.models import Evidence, Notice


def _png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.submits("abuse-report")
def test_abuse_report_with_evidence_from_home(page, check_a11y, screenshot):
    page.goto("/")
    page.get_by_role("link", name="Report abuse").first.click()
    assert "/report/" in page.url
    check_a11y(page, context="report form")
    screenshot(page, "report-abuse")

    page.get_by_label("Harassment, stalking or threats").check()
    page.get_by_label("Where is it?").fill("https://app.example/posts/42")
    page.get_by_label("What happened?").fill("This post publishes my home address and threatens me.")
    page.locator("input[type=file][name=evidence]").set_input_files(
        files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": _png_bytes()}]
    )
    page.get_by_label("Your e-mail").fill("reporter@example.net")
    page.locator("input[name=good_faith]").check()
    page.get_by_role("button", name="Send report").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you, we received your report"
    check_a11y(page, context="report received")
    notice = Notice.objects.get()
    assert notice.category == "harassment"
    evidence = Evidence.objects.get(notice=notice)
    assert evidence.original_name == "screenshot.png"

    # The private status link on the receipt page leads to the report's status.
    page.locator("main a[href*='/report/status/']").first.click()
    assert "/report/status/" in page.url
    check_a11y(page, context="report status")


def test_child_safety_choice_hides_uploads_and_identity(page, check_a11y):
    page.goto("/report/")
    assert page.locator("#field-evidence").is_visible()
    page.get_by_label("Harm or exploitation of minors").check()
    assert not page.locator("#field-evidence").is_visible()
    assert not page.locator("#field-identity").is_visible()
    check_a11y(page, context="report form, minors chosen")


def test_report_form_errors_are_announced_and_tied_to_fields(page, check_a11y):
    page.goto("/report/")
    page.get_by_role("button", name="Send report").click()
    assert page.locator(".error-summary").is_visible()
    explanation = page.get_by_label("What happened?")
    assert explanation.get_attribute("aria-invalid") == "true"
    check_a11y(page, context="report form with errors")
