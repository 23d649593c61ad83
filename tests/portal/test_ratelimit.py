"""Rate limits: the client address, the friendly 429 with Retry-After, the token guard, DRF throttles."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotFound
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portal import ratelimit


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_client_ip_ignores_forwarded_for_without_proxies(rf, settings):
    settings.PORTAL_NUM_PROXIES = 0
    request = rf.get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert ratelimit.client_ip(request) == "203.0.113.5"


def test_client_ip_takes_the_address_our_proxy_saw_not_the_client_supplied_one(rf, settings):
    settings.PORTAL_NUM_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert ratelimit.client_ip(request) == "203.0.113.5"


def test_client_ip_with_more_hops_than_entries_takes_the_first(rf, settings):
    settings.PORTAL_NUM_PROXIES = 3
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert ratelimit.client_ip(request) == "203.0.113.5"


@pytest.mark.usefixtures("one_rate_window")
def test_ratelimit_returns_friendly_page_with_retry_after(rf, db):
    @ratelimit.ratelimit("test-form", "3/hour")
    def view(request):
        return HttpResponse("ok")

    for _ in range(3):
        assert view(rf.post("/", REMOTE_ADDR="203.0.113.9")).status_code == 200
    response = view(rf.post("/", REMOTE_ADDR="203.0.113.9"))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "Please try again in" in response.content.decode()
    assert view(rf.post("/", REMOTE_ADDR="203.0.113.10")).status_code == 200  # another address is unaffected
    assert view(rf.get("/", REMOTE_ADDR="203.0.113.9")).status_code == 200  # reading the form is not limited


@pytest.mark.usefixtures("one_rate_window")
def test_token_guard_locks_out_an_address_that_guesses(rf, db):
    @ratelimit.token_guard("test-status")
    def view(request, token):
        return HttpResponse("found") if token == "st_right" else HttpResponseNotFound("no")

    limit, _ = ratelimit.parse_rate(ratelimit.TOKEN_FAILURE_RATE)
    for n in range(limit):
        assert view(rf.get("/", REMOTE_ADDR="203.0.113.9"), token=f"st_guess{n}").status_code == 404
    response = view(rf.get("/", REMOTE_ADDR="203.0.113.9"), token="st_right")
    assert response.status_code == 429  # even the right token, once the address is locked out
    assert int(response["Retry-After"]) > 0
    assert view(rf.get("/", REMOTE_ADDR="198.51.100.1"), token="st_right").status_code == 200


def test_token_guard_does_not_count_successes(rf, db):
    @ratelimit.token_guard("test-status-ok")
    def view(request, token):
        return HttpResponse("found")

    limit, _ = ratelimit.parse_rate(ratelimit.TOKEN_FAILURE_RATE)
    for _ in range(limit + 5):
        assert view(rf.get("/", REMOTE_ADDR="203.0.113.9"), token="st_right").status_code == 200


class _Throttled(APIView):
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle]

    def get(self, request):
        return Response({"ok": True})


@pytest.mark.usefixtures("one_rate_window")
def test_drf_throttle_answers_with_the_json_error_and_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/minute"},
    }
    AnonRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        view = _Throttled.as_view()
        factory = APIRequestFactory()
        for _ in range(2):
            assert view(factory.get("/", REMOTE_ADDR="203.0.113.9")).status_code == 200
        response = view(factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.1.1.1"))
        response.render()
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        body = response.data["error"]
        assert body["code"] == "throttled" and body["retry_after"] > 0 and body["message"]
    finally:
        from rest_framework.settings import api_settings

        AnonRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


@given(
    count=st.integers(min_value=0, max_value=10**6),
    n=st.integers(min_value=1, max_value=999),
    unit=st.sampled_from(sorted(ratelimit._UNITS)),
)
def test_parse_rate_reads_every_documented_form(count, n, unit):
    assert ratelimit.parse_rate(f"{count}/{unit}") == (count, ratelimit._UNITS[unit])
    assert ratelimit.parse_rate(f"{count}/{n}{unit}") == (count, ratelimit._UNITS[unit] * n)


@given(st.text(max_size=30))
@example("1/0m")
@example("/¹")
@example("5/h1our")
@example("5/")
@example("/hour")
@example("-1/hour")
def test_parse_rate_either_parses_or_raises_value_error_naming_the_rate(text):
    try:
        count, seconds = ratelimit.parse_rate(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
    else:
        assert count >= 0 and seconds > 0


# --- Every endpoint has a limit -------------------------------------------------------------------

# Public pages that take no input worth limiting (or limit inside their service, named here).
UNLIMITED_BY_DESIGN = {
    "portal.views.home",
    "portal.views.privacy_policy",
    "portal.views.privacy_policy_version",
    "portal.views.favicon",
    "portal.health.healthz",
    "django.views.i18n.set_language",
    "django.contrib.auth.views.view",  # the 2FA page's logout button
    "requests_app.views.public.request_submitted",
    "requests_app.views.consent.overview",
    "abuse_app.views.received",
    "requests_app.views.receipts.public_keys",  # a small public file, cacheable, no lookup
    "requests_app.views.consent.gpc_well_known",  # /.well-known/gpc.json: a constant, cacheable, no lookup
    "abuse_app.views.report",  # limited per address and e-mail inside abuse_app.services
}


def _routes():
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern).startswith("admin/"):
                    continue  # the admin login: axes + PortalAdminSite.LOGIN_RATE (test_lockout.py)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    return list(walk(get_resolver().url_patterns))


def test_every_public_page_is_rate_limited_or_listed_as_safe():
    missing = []
    for route, callback in _routes():
        if hasattr(callback, "cls") or route.startswith("account/2fa/") and route != "account/2fa/logout/":
            continue  # API views: next test; 2FA pages: per user (below)
        name = f"{callback.__module__}.{callback.__name__}"
        if name not in UNLIMITED_BY_DESIGN and not getattr(callback, "portal_rate_limited", False):
            missing.append(f"/{route} ({name})")
    assert not missing, "no rate limit on: " + ", ".join(missing)


def test_two_factor_pages_are_rate_limited():
    from portal import two_factor_views

    for view in (two_factor_views.setup, two_factor_views.verify, two_factor_views.backup_codes):
        assert getattr(view, "portal_rate_limited", False), view.__name__


def test_every_api_endpoint_has_a_throttle():
    missing = []
    for route, callback in _routes():
        cls = getattr(callback, "cls", None)
        if cls is None or route.startswith("api/schema") or route.startswith("api/docs"):
            continue
        if not cls().get_throttles():
            missing.append(f"/{route}")
    assert not missing, "no throttle on: " + ", ".join(missing)


def test_host_app_calls_are_throttled_per_key(db, settings):
    from portal.models import ApiKey
    from portal.throttles import HostAppThrottle

    key_a, _ = ApiKey.issue(name="a", scopes=[])
    key_b, _ = ApiKey.issue(name="b", scopes=[])
    throttle = HostAppThrottle()

    class _Request:
        def __init__(self, key):
            self.auth = key

    assert throttle.get_cache_key(_Request(key_a), None) != throttle.get_cache_key(_Request(key_b), None)
    assert throttle.get_cache_key(_Request(None), None) is None
