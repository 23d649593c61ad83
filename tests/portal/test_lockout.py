"""Brute force on staff logins: django-axes lockout (username + address) and the per-address login limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    cache.clear()
    yield
    cache.clear()


def login(client, username, password, ip="203.0.113.7", **extra):
    data = {"username": username, "password": password, "next": "/admin/"}
    return client.post("/admin/login/?next=/admin/", data, REMOTE_ADDR=ip, **extra)


def test_right_password_logs_in_with_axes_enabled(client, officer):
    response = login(client, "olivia", PASSWORD)
    assert response.status_code == 302  # on to the second factor


@pytest.mark.usefixtures("one_rate_window")
def test_five_wrong_passwords_lock_the_account_from_that_address(client, officer):
    for _ in range(4):
        assert login(client, "olivia", "wrong password").status_code == 200
    response = login(client, "olivia", "wrong password")
    assert response.status_code == 429
    response = login(client, "olivia", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Login paused" in page and "15 minutes" in page
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_block_the_same_user_from_another_address(client, officer):
    for _ in range(5):
        login(client, "olivia", "wrong password")
    assert login(client, "olivia", PASSWORD, ip="198.51.100.20").status_code == 302


@pytest.mark.usefixtures("one_rate_window")
def test_spoofed_forwarded_for_does_not_dodge_the_lockout(client, officer):
    for n in range(5):
        login(client, "olivia", "wrong password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert login(client, "olivia", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


@pytest.mark.usefixtures("one_rate_window")
def test_lockout_ends_after_the_cool_off(client, officer):
    for _ in range(5):
        login(client, "olivia", "wrong password")
    assert login(client, "olivia", PASSWORD).status_code == 429
    first = AccessAttempt.objects.first().attempt_time
    AccessAttempt.objects.update(attempt_time=first - timedelta(minutes=16))
    assert login(client, "olivia", PASSWORD).status_code == 302


def test_successful_login_resets_the_failure_count(client, officer):
    for _ in range(4):
        login(client, "olivia", "wrong password")
    assert login(client, "olivia", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert login(client, "olivia", "wrong password").status_code == 200


@pytest.mark.usefixtures("one_rate_window")
def test_password_spraying_from_one_address_hits_the_login_limit(client, settings, db):
    settings.AXES_ENABLED = False
    for n in range(30):
        assert login(client, f"user{n}", "Winter2026!").status_code == 200
    response = login(client, "user-31", "Winter2026!")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
