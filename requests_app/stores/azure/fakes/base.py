"""A small HTTP server base for the Azure fakes (stdlib ``http.server`` in a thread).

Each fake follows its service's documented REST contract: status codes, the
service's error body, paging, 404 on a repeat delete, 429 with and without
``Retry-After``. Knobs for tests and benchmarks:

- ``latency`` (seconds added to every reply),
- ``fault_rate`` (share of requests answered 500/503),
- ``throttle_rate`` (share answered 429; ``retry_after`` None → no header),
- ``tps_limit`` (arrivals within the last second above this → 429 with Retry-After: 1),
- ``fail_next(status, count, retry_after=...)`` for deterministic faults,
- counters: ``requests``, ``by_status``, ``throttled`` (429s sent).
"""

from __future__ import annotations

import collections
import json
import random
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# (method, path pattern, handler) as a fake declares it; Route is the same with the pattern compiled.
RouteSpec = tuple[str, str, Callable[..., "Reply"]]
Route = tuple[str, re.Pattern[str], Callable[..., "Reply"]]


class Reply:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class FakeRequest:
    def __init__(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body


class FakeAzureServer:
    """Override ``routes()`` and ``authorised()``; ``start()``/``stop()`` it or use it in a ``with``."""

    service = "fake"

    def __init__(
        self,
        *,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        throttle_rate: float = 0.0,
        retry_after: float | None = 1,
        tps_limit: float | None = None,
        seed: int = 7,
    ):
        self.latency = latency
        self.fault_rate = fault_rate
        self.throttle_rate = throttle_rate
        self.retry_after = retry_after
        self.tps_limit = tps_limit
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.requests = 0
        self.by_status: collections.Counter[int] = collections.Counter()
        self.by_route: collections.Counter[str] = collections.Counter()
        # Every call as "METHOD /path" (query left out): lets a test compare who asked for what.
        self.calls: list[str] = []
        self.throttled = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._arrivals: collections.deque[float] = collections.deque()
        self._scripted: list[tuple[int, float | None, str | None]] = []
        self._routes: list[Route] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------
    def start(self, port: int = 0) -> FakeAzureServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._routes = [(m, re.compile("^" + p + "$"), h) for m, p, h in self.routes()]
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"fake-{self.service}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAzureServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        return f"http://{host}:{port}"

    # --- knobs -------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: float | None = None,
        path_contains: str | None = None,
    ) -> None:
        with self.lock:
            self._scripted.extend([(status, retry_after, path_contains)] * count)

    def reset_counters(self) -> None:
        with self.lock:
            self.requests = self.throttled = 0
            self.by_status.clear()
            self.by_route.clear()
            self.calls.clear()
            self.first_at = self.last_at = None
            self._arrivals.clear()

    def achieved_tps(self) -> float:
        if not self.first_at or not self.last_at or self.last_at == self.first_at:
            return 0.0
        return (self.requests - 1) / (self.last_at - self.first_at)

    # --- to override -------------------------------------------------------------
    def routes(self) -> list[RouteSpec]:
        return []

    def authorised(self, request: FakeRequest) -> Reply | None:
        """Return an error Reply when the credentials are wrong, else None."""
        return None

    def error(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"error": {"code": code, "message": message}})

    # --- plumbing ----------------------------------------------------------------
    def _gate(self, request: FakeRequest) -> Reply | None:
        now = time.monotonic()
        with self.lock:
            self.requests += 1
            self.first_at = self.first_at or now
            self.last_at = now
            for index, (status, retry_after, needle) in enumerate(self._scripted):
                if needle is None or needle in request.path:
                    del self._scripted[index]
                    return self._fault(status, retry_after)
            if self.tps_limit:
                while self._arrivals and self._arrivals[0] <= now - 1.0:
                    self._arrivals.popleft()
                self._arrivals.append(now)
                if len(self._arrivals) > self.tps_limit:
                    self._arrivals.pop()  # a throttled call does not use quota
                    return self._fault(429, 1)
            roll = self.random.random()
            if roll < self.throttle_rate:
                return self._fault(429, self.retry_after)
            if roll < self.throttle_rate + self.fault_rate:
                return self._fault(self.random.choice((500, 503)), None)
        return None

    def _fault(self, status: int, retry_after: float | None) -> Reply:
        headers = (
            {"Retry-After": str(int(retry_after) if float(retry_after).is_integer() else retry_after)}
            if retry_after is not None
            else {}
        )
        if status == 429:
            self.throttled += 1
            wait = f" Try again in {int(retry_after)} seconds." if retry_after is not None else ""
            reply = self.error(429, "429", f"Rate limit is exceeded.{wait}")
        else:
            reply = self.error(
                status,
                "InternalServerError" if status == 500 else "ServiceUnavailable",
                "The service is temporarily unavailable (injected by the fake).",
            )
        reply.headers.update(headers)
        return reply

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = FakeRequest(
            handler.command, split.path, query, {k.lower(): v for k, v in handler.headers.items()}, body
        )
        # Throttling is decided on arrival (as a gateway does); the latency is the service's processing time.
        gate = self._gate(request)
        if self.latency:
            time.sleep(self.latency)
        reply = gate or self.authorised(request) or self._route(request)
        with self.lock:
            self.by_status[reply.status] += 1
            self.calls.append(f"{handler.command} {split.path}")
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        if payload:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload and handler.command != "HEAD":
            handler.wfile.write(payload)

    def _route(self, request: FakeRequest) -> Reply:
        path_matched = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if method != request.method:
                continue
            with self.lock:
                self.by_route[f"{method} {pattern.pattern}"] += 1
                return handler(request, **match.groupdict())
        if path_matched:
            return self.error(405, "MethodNotAllowed", f"{request.method} is not supported here.")
        return self.error(404, "ResourceNotFound", "The requested resource was not found.")


def page(items: list[Any], start: str | None, top: str | None, key: str, max_top: int = 1000) -> list[Any]:
    """Face-style paging: items sorted by ``key``, ``start`` exclusive, ``top`` at most ``max_top``."""
    ordered = sorted(items, key=lambda item: item[key])
    if start:
        ordered = [item for item in ordered if item[key] > start]
    limit = min(int(top or max_top), max_top)
    return ordered[:limit]
