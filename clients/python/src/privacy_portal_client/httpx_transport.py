"""For ``httpx`` calls to the Azure REST APIs: a transport wrapping httpx's own.

httpx.Client(transport=client.httpx_transport())
httpx.AsyncClient(transport=client.httpx_async_transport())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from privacy_portal_client.client import PortalClient


def _size(request: httpx.Request) -> int | None:
    length = request.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


class RecordingTransport(httpx.BaseTransport):
    def __init__(self, client: PortalClient, inner: httpx.BaseTransport | None = None, **kwargs: Any):
        self.client = client
        self.inner = inner or httpx.HTTPTransport(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pending = self.client.before_send(request.method, str(request.url), request.headers, _size(request))
        if pending is None:
            return self.inner.handle_request(request)
        try:
            response = self.inner.handle_request(request)
            if pending.found.needs_response and 200 <= response.status_code < 300:
                response.read()
        except httpx.TransportError:
            self.client.after_error(pending)
            raise
        self.client.after_response(pending, response.status_code, lambda: response.content)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    """The same for ``httpx.AsyncClient``. The consent check and the outbox write block the event loop
    briefly (a cached answer and one SQLite commit; the first check of a subject asks the portal)."""

    def __init__(self, client: PortalClient, inner: httpx.AsyncBaseTransport | None = None, **kwargs: Any):
        self.client = client
        self.inner = inner or httpx.AsyncHTTPTransport(**kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pending = self.client.before_send(request.method, str(request.url), request.headers, _size(request))
        if pending is None:
            return await self.inner.handle_async_request(request)
        try:
            response = await self.inner.handle_async_request(request)
            if pending.found.needs_response and 200 <= response.status_code < 300:
                await response.aread()
        except httpx.TransportError:
            self.client.after_error(pending)
            raise
        self.client.after_response(pending, response.status_code, lambda: response.content)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
