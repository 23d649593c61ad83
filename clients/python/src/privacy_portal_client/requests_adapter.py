"""For plain ``requests`` calls to the Azure REST APIs: a transport adapter.

session = requests.Session()
session.mount("https://", client.requests_adapter())
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from privacy_portal_client.client import PortalClient


class RecordingAdapter(HTTPAdapter):
    """``requests``' own adapter plus the portal's consent gate and recorder."""

    def __init__(self, client: PortalClient, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        body = request.body
        size = len(body) if isinstance(body, bytes | str) else None
        pending = self.client.before_send(request.method or "GET", request.url or "", request.headers, size)
        if pending is None:
            return super().send(request, *args, **kwargs)
        try:
            response = super().send(request, *args, **kwargs)
        except requests.RequestException:
            self.client.after_error(pending)
            raise
        self.client.after_response(pending, response.status_code, lambda: response.content)
        return response
