"""Rate limits for public forms and token-checking endpoints, on the shared cache.

With CACHE_URL pointing at Redis, limits hold across every web process and
host; in the embedded default the file cache is shared by the processes of
one machine.

Two tools:
- ``ratelimit(name, rate, key="ip"|"email"|callable)`` decorator for views:
  over the limit the person gets a friendly 429 page with ``Retry-After``.
- ``token_guard(name)`` for views that look up a secret from a URL: every
  miss counts as a failure for the client IP; too many misses lock the IP
  out for a cool-off period, whatever token it tries next.

Counting is a sliding window, atomic across threads and processes
(``portal.ratelimit_store``): "20/hour" admits 20 hits in any hour, never more.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from portal import ratelimit_store
from portal.tokens import pseudonymise

View = Callable[..., HttpResponseBase]  # a page, or a file streamed (FileResponse)

_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


_RATE_RE = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]*)\s*([A-Za-z]+)\s*", re.ASCII)


def parse_rate(rate: str) -> tuple[int, int]:
    """ "20/hour" → (20, 3600). Also "5/10m"."""
    match = _RATE_RE.fullmatch(rate)
    seconds = _UNITS.get(match.group(3).lower()) if match else None
    multiplier = int(match.group(2) or 1) if match else 0
    if match is None or seconds is None or multiplier == 0:
        raise ValueError(f"rate {rate!r}: expected e.g. '20/hour' or '5/10m'")
    return int(match.group(1)), seconds * multiplier


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address our own proxies saw (NUM_PROXIES hops).

    Only the right-most NUM_PROXIES entries of X-Forwarded-For were written by
    proxies we run; anything left of them is whatever the client sent, so
    trusting the first entry would let anyone dodge a limit by inventing one.
    """
    hops = getattr(settings, "PORTAL_NUM_PROXIES", 0)
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if hops and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(hops, len(addresses))]
    return str(request.META.get("REMOTE_ADDR", ""))


@dataclass
class Decision:
    allowed: bool
    retry_after: int
    taken: ratelimit_store.Hit | None = None


def _key(name: str, identity: str) -> str:
    return f"rl2:{name}:{pseudonymise(identity)}"


def hit(name: str, identity: str, rate: str, *, cost: int = 1) -> Decision:
    """Count hits in a sliding window, atomically (``portal.ratelimit_store``); identities are pseudonymised."""
    limit, period = parse_rate(rate)
    taken = ratelimit_store.hit(_key(name, identity), limit, period, cost=cost)
    return Decision(taken.allowed, taken.retry_after or 1, taken)


def hit_all(limits: list[tuple[str, str, str]]) -> tuple[int, Decision]:
    """One hit on each ``(name, identity, rate)`` in order, in one atomic step; the first refusal wins.

    → (index of the refusing limit or -1, its decision or an admitting one)."""
    parsed: list[tuple[str, int, float]] = []
    for name, identity, rate in limits:
        limit, period = parse_rate(rate)
        parsed.append((_key(name, identity), limit, period))
    index, taken = ratelimit_store.hit_all(parsed)
    return index, Decision(taken.allowed, taken.retry_after or 1)


def release(name: str, identity: str, rate: str, decision: Decision) -> None:
    """Take back a hit that turned out not to count (``token_guard``: the token was good)."""
    if decision.taken is not None:
        ratelimit_store.release(_key(name, identity), decision.taken, parse_rate(rate)[1])


def peek(name: str, identity: str, rate: str) -> Decision:
    limit, period = parse_rate(rate)
    used, retry_after = ratelimit_store.count(_key(name, identity), period)
    return Decision(used < limit, retry_after)


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    context = {"retry_after_minutes": max(1, round(retry_after / 60))}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


Rate = str | Callable[[], str]
Key = str | Callable[[HttpRequest], str]


def ratelimit(
    name: str, rate: Rate, *, key: Key = "ip", methods: tuple[str, ...] = ("POST",)
) -> Callable[[View], View]:
    return ratelimits((name, rate, key), methods=methods)


def ratelimits(*limits: tuple[str, Rate, Key], methods: tuple[str, ...] = ("POST",)) -> Callable[[View], View]:
    """Several limits on one view, counted in one atomic step (``ratelimit_store.hit_all``).

    The same as one ``ratelimit`` decorator per limit, outermost first: the first limit that
    refuses answers 429, the limits before it keep their hit and those after it are not counted.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method in methods:
                _index, decision = hit_all([_limit_of(request, limit) for limit in limits])
                if not decision.allowed:
                    return too_many(request, decision.retry_after)
            return view(request, *args, **kwargs)

        # Marker checked by tests/portal/test_ratelimit.py (every public page is limited).
        wrapped.portal_rate_limited = True  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _limit_of(request: HttpRequest, limit: tuple[str, Rate, Key]) -> tuple[str, str, str]:
    name, rate, key = limit
    identity = key(request) if callable(key) else client_ip(request)
    return name, identity or "-", rate() if callable(rate) else rate


TOKEN_FAILURE_RATE = "20/15m"


def token_guard(name: str) -> Callable[[View], View]:
    """Decorate a view taking ``token``; the view returns 404 for an unknown token.

    A client IP that produced too many 404s is refused (429) for the rest of the window.
    """

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            ip = client_ip(request) or "-"
            # Reserve a failure before the lookup and give it back when the token was good:
            # parallel guesses cannot all pass a check made before any of them was counted.
            reserved = hit(f"tokenfail:{name}", ip, TOKEN_FAILURE_RATE)
            if not reserved.allowed:
                return too_many(request, reserved.retry_after)
            response = view(request, *args, **kwargs)
            if response.status_code != 404:
                release(f"tokenfail:{name}", ip, TOKEN_FAILURE_RATE, reserved)
            return response

        wrapped.portal_rate_limited = True  # type: ignore[attr-defined]
        return wrapped

    return decorator
