"""Video Indexer access tokens: generated through ARM, cached, renewed before they expire.

An ARM-based Video Indexer account is called with an access token from ARM:
``POST {arm}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.VideoIndexer/accounts/{name}``
``/generateAccessToken``
(``{"permissionType": "Contributor", "scope": "Account"}``), which needs a
Microsoft Entra ID token for ARM. The access token lives one hour; we renew it
five minutes early, and at once when Video Indexer answers 401.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.rest import HttpRequest, HttpResponse

from requests_app.stores.azure import ids
from requests_app.stores.azure.auth import ARM_SCOPE, entra_credential
from requests_app.stores.azure.client import AzureRestClient
from requests_app.stores.base import PermanentStoreError

ARM_API_VERSION = "2024-01-01"
TOKEN_LIFETIME = 3600
RENEW_BEFORE = 300


class AccessTokenProvider:
    def __init__(self, config: dict[str, Any], store: str):
        self.config = config
        self.store = store
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        self._arm: AzureRestClient | None = None
        self.generated = 0

    def _arm_client(self) -> AzureRestClient:
        if self._arm is None:
            self._arm = AzureRestClient(
                base_url=self.config.get("arm_endpoint", "https://management.azure.com"),
                store=self.store,
                service="Azure Resource Manager",
                credential=entra_credential(self.config),
                scopes=(ARM_SCOPE,),
            )
        return self._arm

    def token(self, force: bool = False) -> str:
        if self.config.get("access_token"):
            return str(self.config["access_token"])
        with self._lock:
            if force or not self._token or time.monotonic() > self._expires - RENEW_BEFORE:
                self._token = self._generate()
                self._expires = time.monotonic() + TOKEN_LIFETIME
            return self._token

    def _generate(self) -> str:
        c = self.config
        path = ids.item_path(
            "subscriptions/{}/resourceGroups/{}/providers/Microsoft.VideoIndexer/accounts/{}/generateAccessToken",
            str(c["subscription_id"]),
            str(c["resource_group"]),
            str(c["account_name"]),
            what="Video Indexer account",
        )
        response = self._arm_client().send(
            "POST",
            path,
            params={"api-version": ARM_API_VERSION},
            json_body={"permissionType": "Contributor", "scope": "Account"},
            what="generateAccessToken",
        )
        if response.status_code == 404:
            raise PermanentStoreError(
                f'store "{self.store}" (azure_video_indexer): ARM does not know the Video Indexer account '
                f'"{c["account_name"]}" in resource group "{c["resource_group"]}"; check subscription_id, '
                "resource_group and account_name"
            )
        self.generated += 1
        token = self._arm_client().json(response).get("accessToken")
        if not isinstance(token, str) or not token:
            raise PermanentStoreError(f'store "{self.store}" (azure_video_indexer): ARM returned no access token')
        return token


class AccessTokenPolicy(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Put the current Video Indexer access token on each attempt (a renewed one after a 401)."""

    def __init__(self, provider: AccessTokenProvider):
        self.provider = provider

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        force = bool(request.context.get("renew_token"))
        request.http_request.headers["Authorization"] = f"Bearer {self.provider.token(force=force)}"
