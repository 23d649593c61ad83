"""Default API throttles: every DRF view is limited unless it names its own throttles.

- ``HostAppThrottle``: calls with an API key, counted per key (rate ``host_app``).
- ``AnonymousApiThrottle``: calls without a key, counted per client address
  (rate ``api_anonymous``): a generous net for endpoints such as signed store
  callbacks; public endpoints that people use directly set stricter ones.

Every throttle here counts through ``AtomicThrottleMixin``: a sliding window checked and
recorded in one atomic step (``portal.ratelimit_store``), so parallel calls cannot overrun the
rate as DRF's read-then-write history did (4 clients got 21-25 calls through a 20/hour limit).

Over the limit DRF answers 429 with ``Retry-After`` and our JSON error
(``portal.api_errors``: ``{"error": {"code": "throttled", "retry_after": n}}``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal import ratelimit_store
from portal.api_keys import api_key_of
from portal.ratelimit import client_ip

# Used when the settings (or a test overriding them) name no rate for the scope.
FALLBACK_RATES = {"host_app": "6000/minute", "api_anonymous": "600/minute"}


class AtomicThrottleMixin:
    """For ``SimpleRateThrottle`` subclasses: the same rates and cache keys, counted atomically."""

    rate: str | None
    num_requests: int
    duration: int
    _retry_after: int = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)  # type: ignore[attr-defined]  # of the throttle class
        if key is None:
            return True
        taken = ratelimit_store.hit(f"drf:{key}", self.num_requests, self.duration)
        self._retry_after = taken.retry_after
        return taken.allowed

    def wait(self) -> float | None:
        return float(self._retry_after) if self._retry_after else None


class _DefaultThrottle(AtomicThrottleMixin, SimpleRateThrottle):  # type: ignore[misc]  # DRF ships no type hints
    def get_rate(self) -> str | None:
        for rates in (self.THROTTLE_RATES, api_settings.DEFAULT_THROTTLE_RATES, FALLBACK_RATES):
            if self.scope in rates:
                return rates[self.scope]
        return None


class HostAppThrottle(_DefaultThrottle):
    scope = "host_app"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        key = api_key_of(request)
        return f"throttle_host_app_{key.pk}" if key else None


class AnonymousApiThrottle(_DefaultThrottle):
    scope = "api_anonymous"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if api_key_of(request) is not None:
            return None
        return str(self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"})
