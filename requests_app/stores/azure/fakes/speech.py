"""Fake Azure AI Speech batch transcription (``2024-11-15``; ``v3.2`` paths too).

Contract: ``GET /speechtotext/transcriptions?api-version=2024-11-15&skip&top`` →
``{"values": [...], "@nextLink": url}`` (no ``@nextLink`` on the last page);
items carry ``self`` URLs and ``customProperties``; ``DELETE`` answers 204 also
when the item is already gone. Datasets (Custom Speech) the same.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from requests_app.stores.azure.fakes.base import FakeAzureServer, FakeRequest, Reply, RouteSpec

API_VERSION = "2024-11-15"
ID = r"[A-Za-z0-9\-]+"


class FakeSpeech(FakeAzureServer):
    service = "speech"

    def __init__(self, key: str = "speech-key", **knobs: Any):
        super().__init__(**knobs)
        self.key = key
        self.items: dict[str, dict[str, dict[str, Any]]] = {"transcriptions": {}, "datasets": {}}

    def add(self, collection: str, custom_properties: dict[str, str] | None = None, name: str = "item") -> str:
        item_id = str(uuid.uuid4())
        with self.lock:
            self.items[collection][item_id] = {
                "self": f"{self.url}/speechtotext/{collection}/{item_id}?api-version={API_VERSION}",
                "displayName": name,
                "locale": "en-US",
                "status": "Succeeded",
                "createdDateTime": "2026-01-01T00:00:00Z",
                "customProperties": custom_properties or {},
                "properties": {"duration": "PT42S"} if collection == "transcriptions" else {},
            }
        return item_id

    def add_transcription(self, custom_properties: dict[str, str] | None = None) -> str:
        return self.add("transcriptions", custom_properties)

    def add_dataset(self, custom_properties: dict[str, str] | None = None) -> str:
        return self.add("datasets", custom_properties)

    def authorised(self, request: FakeRequest) -> Reply | None:
        if request.headers.get("ocp-apim-subscription-key") != self.key:
            return self.error(401, "Unauthorized", "Access denied due to invalid subscription key.")
        if "/v3." not in request.path and request.query.get("api-version") != API_VERSION:
            return self.error(400, "InvalidApiVersion", "The api-version query parameter is missing or unsupported.")
        return None

    def routes(self) -> list[RouteSpec]:
        prefix = r"/speechtotext(?:/v3\.[12])?/(?P<collection>transcriptions|datasets)"
        return [
            ("GET", prefix, self.list_items),
            ("GET", prefix + f"/(?P<item>{ID})", self.get_item),
            ("DELETE", prefix + f"/(?P<item>{ID})", self.delete_item),
        ]

    def list_items(self, request: FakeRequest, collection: str) -> Reply:
        skip = int(request.query.get("skip") or 0)
        top = min(int(request.query.get("top") or 100), 100)
        ordered = sorted(self.items[collection].items())
        chunk = [item for _, item in ordered[skip : skip + top]]
        body: dict[str, Any] = {"values": chunk}
        if skip + top < len(ordered):
            query: dict[str, Any] = {"skip": skip + top, "top": top}
            if "/v3." not in request.path:
                query["api-version"] = API_VERSION
            body["@nextLink"] = f"{self.url}{request.path}?{urlencode(query)}"
        return Reply(200, body)

    def get_item(self, request: FakeRequest, collection: str, item: str) -> Reply:
        record = self.items[collection].get(item)
        if record is None:
            return self.error(404, "NotFound", "The entity was not found.")
        return Reply(200, record)

    def delete_item(self, request: FakeRequest, collection: str, item: str) -> Reply:
        self.items[collection].pop(item, None)
        return Reply(204)
