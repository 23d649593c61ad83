"""The privacy request admin page fits a 1280 px screen: the store-task table and its dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from requests_app.models import PrivacyRequest, StoreTask
from tests.helpers import login_staff

pytestmark = pytest.mark.django_db(transaction=True)


def request_with_tasks() -> PrivacyRequest:
    now = timezone.now()
    request = PrivacyRequest.objects.create(
        kind="deletion",
        status="needs_attention",
        email="alice@example.com",
        verified_at=now,
        due_at=now + timedelta(days=20),
        attention_reason='Store "app-db", erase: table "billing_invoice" is not declared',
    )
    for store, kind in (("app-db", "sql"), ("uploads", "files"), ("media-blobs", "azure_blob")):
        for phase in ("discover", "erase", "verify"):
            failed = store == "app-db" and phase == "erase"
            StoreTask.objects.create(
                request=request,
                store=store,
                store_kind=kind,
                phase=phase,
                status="failed" if failed else "succeeded",
                attempts=2 if failed else 1,
                found_count=11,
                started_at=now,
                finished_at=now + timedelta(seconds=3),
                last_error=(
                    'store "app-db": erasure stopped and rolled back, nothing was changed: table '
                    '"billing_invoice" is not declared in the stores file and 1 of its rows reference the '
                    "accounts_user rows being deleted (billing_invoice.user_id references accounts_user.id)"
                )
                if failed
                else "",
                detail={
                    "not_covered": [
                        {
                            "table": "billing_invoice",
                            "why": "billing_invoice.user_id references accounts_user.id but is not declared",
                            "rows": 1,
                        }
                    ]
                }
                if store == "app-db" and phase == "discover"
                else {},
            )
    return request


def test_request_page_fits_1280_px_and_dates_stay_on_one_line(new_page, live_server, officer):
    request = request_with_tasks()
    client = Client()
    login_staff(client, officer)
    page = new_page()
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(f"/admin/requests_app/privacyrequest/{request.pk}/change/")
    table = page.locator(".store-tasks table")
    assert table.count() == 1
    width = table.evaluate("el => el.getBoundingClientRect().width")
    overflow = page.evaluate("(el => el.scrollWidth - el.clientWidth)(document.documentElement)")
    assert width <= 1280 and overflow <= 0, f"store-task table {width:.0f}px, page scrolls sideways {overflow}px"
    heights = page.locator(".store-task-time").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight || 16))"
    )
    assert heights and max(heights) < 1.6, f"a date wraps: {max(heights):.1f} lines"
    text = page.locator("fieldset", has_text="Deadlines").inner_text()
    assert "Due at" not in text and "first deadline" in text.lower()
    assert "not covered:" in page.locator(".store-tasks").inner_text()
