"""Fake Azure AI Video Indexer (ARM-based account) plus its ARM ``generateAccessToken``.

Contract: ``{loc}/Accounts/{account}/Videos?pageSize&skip`` → ``results`` +
``nextPage {pageSize, skip, done}``; ``Videos/GetIdByExternalId?externalId=`` →
the id as a JSON string (404 ``VIDEO_NOT_FOUND``); ``DELETE Videos/{id}`` → 204,
then 404; ``DELETE Videos/{id}/SourceFile`` → 204. Calls carry the access token
as ``Authorization: Bearer`` or ``accessToken=``; an expired token answers 401
``USER_NOT_ALLOWED``. Video Indexer's own error body is ``{"ErrorType", "Message"}``;
ARM's is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from requests_app.stores.azure.fakes.base import FakeAzureServer, FakeRequest, Reply, RouteSpec

ARM = (
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.VideoIndexer/"
    r"accounts/(?P<name>[^/]+)/generateAccessToken"
)


class FakeVideoIndexer(FakeAzureServer):
    service = "video_indexer"

    def __init__(self, location: str = "trial", account_id: str = "acct-1", arm_token: str = "arm-token", **knobs: Any):
        super().__init__(**knobs)
        self.location = location
        self.account_id = account_id
        self.arm_token = arm_token
        self.videos: dict[str, dict[str, Any]] = {}
        self.source_deleted: set[str] = set()
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self._counter = itertools.count(1)

    def add_video(self, external_id: str = "", name: str = "clip", metadata: str = "") -> str:
        video_id = uuid.uuid4().hex[:10]
        with self.lock:
            self.videos[video_id] = {
                "accountId": self.account_id,
                "id": video_id,
                "name": name,
                "externalId": external_id or None,
                "metadata": metadata or None,
                "state": "Processed",
                "created": "2026-01-01T00:00:00Z",
            }
        return video_id

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    def error(self, status: int, code: str, message: str) -> Reply:
        if status == 429:
            return Reply(429, {"statusCode": 429, "message": message})
        return Reply(status, {"ErrorType": code, "Message": message})

    def routes(self) -> list[RouteSpec]:
        base = rf"/{self.location}/Accounts/{self.account_id}/Videos"
        return [
            ("POST", ARM, self.generate_token),
            ("GET", base, self.list_videos),
            ("GET", base + "/GetIdByExternalId", self.id_by_external_id),
            ("GET", base + r"/(?P<video>[A-Za-z0-9]+)/Index", self.get_index),
            ("DELETE", base + r"/(?P<video>[A-Za-z0-9]+)", self.delete_video),
            ("DELETE", base + r"/(?P<video>[A-Za-z0-9]+)/SourceFile", self.delete_source),
        ]

    def authorised(self, request: FakeRequest) -> Reply | None:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else request.query.get("accessToken", "")
        if "/generateAccessToken" in request.path:
            if token != self.arm_token:
                return Reply(
                    401,
                    {
                        "error": {
                            "code": "InvalidAuthenticationToken",
                            "message": "The access token is invalid.",
                        }
                    },
                )
            return None
        if token not in self.valid_tokens:
            return self.error(401, "USER_NOT_ALLOWED", "The access token is missing, invalid or expired.")
        return None

    def generate_token(self, request: FakeRequest, sub: str, rg: str, name: str) -> Reply:
        body = request.body or {}
        if body.get("permissionType") not in ("Reader", "Contributor") or body.get("scope") not in (
            "Account",
            "Project",
            "Video",
        ):
            return Reply(
                400,
                {"error": {"code": "InvalidRequest", "message": "permissionType and scope are required."}},
            )
        token = f"vi-token-{next(self._counter)}"
        self.valid_tokens.add(token)
        self.tokens_issued += 1
        return Reply(200, {"accessToken": token})

    def list_videos(self, request: FakeRequest) -> Reply:
        size = min(int(request.query.get("pageSize") or 25), 1000)
        skip = int(request.query.get("skip") or 0)
        ordered = sorted(self.videos.values(), key=lambda v: v["id"])
        chunk = ordered[skip : skip + size]
        return Reply(
            200,
            {
                "results": chunk,
                "nextPage": {
                    "pageSize": size,
                    "skip": skip + len(chunk),
                    "done": skip + len(chunk) >= len(ordered),
                },
            },
        )

    def id_by_external_id(self, request: FakeRequest) -> Reply:
        external = request.query.get("externalId", "")
        for video in self.videos.values():
            if external and video["externalId"] == external:
                return Reply(200, video["id"])
        return self.error(404, "VIDEO_NOT_FOUND", "No video with this external id.")

    def get_index(self, request: FakeRequest, video: str) -> Reply:
        record = self.videos.get(video)
        if record is None:
            return self.error(404, "VIDEO_NOT_FOUND", "Video is not found.")
        return Reply(200, {**record, "videos": [{"id": video, "insights": {"transcript": [], "faces": []}}]})

    def delete_video(self, request: FakeRequest, video: str) -> Reply:
        """Delete Video: the insights go only with ``deleteInsights=true``; otherwise they stay readable."""
        if video not in self.videos:
            return self.error(404, "VIDEO_NOT_FOUND", "Video is not found.")
        if request.query.get("deleteInsights", "").lower() == "true":
            del self.videos[video]
        else:
            self.source_deleted.add(video)
        return Reply(204)

    def delete_source(self, request: FakeRequest, video: str) -> Reply:
        if video not in self.videos:
            return self.error(404, "VIDEO_NOT_FOUND", "Video is not found.")
        self.source_deleted.add(video)
        return Reply(204)
