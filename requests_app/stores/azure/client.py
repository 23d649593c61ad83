"""One REST client for the Azure AI services, on azure-core's pipeline.

Every call goes through the same policies: request id and user agent, key or
Entra ID auth, azure-core's ``RetryPolicy`` (exponential backoff with jitter,
``Retry-After`` honoured), our per-service token bucket *inside* the retry loop
(so retries are paced too), and azure-core's ``HttpLoggingPolicy`` which
redacts every header and query parameter not on its allow-list (keys and
tokens never reach the logs).

Errors become store errors with a message for staff that names the store:
429/5xx/timeouts are transient (``retry_after`` carried to the engine), a bad
key is permanent ("check the key"), other 4xx are permanent with Azure's own
error code. 404 is returned to the caller: for deletion it means "already
gone", which is success.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    BearerTokenCredentialPolicy,
    ContentDecodePolicy,
    HeadersPolicy,
    HttpLoggingPolicy,
    NetworkTraceLoggingPolicy,
    RequestIdPolicy,
    RetryPolicy,
    SansIOHTTPPolicy,
    UserAgentPolicy,
)
from azure.core.rest import HttpRequest, HttpResponse

from portal import metrics
from requests_app.stores.azure import ids, ratelimit
from requests_app.stores.base import PermanentStoreError, TransientStoreError

logger = logging.getLogger(__name__)

# Retry inside the call only for short waits; a longer Retry-After goes back to
# the engine, which re-queues the task with a countdown instead of parking a worker.
MAX_IN_CALL_WAIT = 10.0


class PortalRetryPolicy(RetryPolicy[HttpRequest, HttpResponse]):
    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > MAX_IN_CALL_WAIT:
            return False
        return super().is_retry(settings, response)


class RateLimitPolicy(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Take a token from the service's shared bucket before every attempt."""

    def __init__(self, bucket: ratelimit.Bucket | None):
        self.bucket = bucket

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        if self.bucket is None:
            return
        try:
            ratelimit.acquire(self.bucket)
        except ratelimit.RateLimited as exc:
            raise TransientStoreError(
                f"{self.bucket.key}: the shared rate limit is busy; retrying in {exc.retry_after:.0f}s",
                retry_after=exc.retry_after,
            )


class MetricsPolicy(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Count every attempt and every 429 per service (Prometheus /metrics, summed across processes)."""

    def __init__(self, service: str):
        self.service = service

    def on_response(
        self, request: PipelineRequest[HttpRequest], response: PipelineResponse[HttpRequest, HttpResponse]
    ) -> None:
        metrics.azure_call(self.service, response.http_response.status_code)


class KeyPolicy(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    def __init__(self, header: str, key: str):
        self.header, self.key = header, key

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        request.http_request.headers[self.header] = self.key


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


class AzureRestClient:
    """A PipelineClient for one service endpoint, used by one store."""

    def __init__(
        self,
        *,
        base_url: str,
        store: str,
        service: str,
        key: str | None = None,
        key_header: str = "Ocp-Apim-Subscription-Key",
        credential: Any = None,
        scopes: tuple[str, ...] = (),
        auth_policy: SansIOHTTPPolicy[HttpRequest, HttpResponse] | None = None,
        bucket: ratelimit.Bucket | None = None,
        retry_total: int = 4,
        backoff: float = 0.5,
        timeout: float = 30.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.store = store
        self.service = service
        auth: Any = auth_policy
        if auth is None and key:
            auth = KeyPolicy(key_header, key)
        elif auth is None and credential is not None:
            auth = BearerTokenCredentialPolicy(credential, *scopes)
        logging_policy = HttpLoggingPolicy()
        policies: list[Any] = [
            RequestIdPolicy(),
            HeadersPolicy({"Accept": "application/json"}),
            UserAgentPolicy(sdk_moniker="privacy-abuse-portal"),
            PortalRetryPolicy(retry_total=retry_total, retry_backoff_factor=backoff, retry_backoff_max=8, timeout=600),
            RateLimitPolicy(bucket),
            MetricsPolicy(service),
        ]
        if auth is not None:
            policies.append(auth)
        policies += [ContentDecodePolicy(), logging_policy, NetworkTraceLoggingPolicy(logging_enable=False)]
        self._client: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(self.base_url, policies=policies)
        self._timeout = timeout
        # azure-core refuses bearer tokens over plain http; allowed only for local fakes.
        self._options = (
            {"enforce_https": False}
            if isinstance(auth, BearerTokenCredentialPolicy) and is_loopback(self.base_url)
            else {}
        )
        self.calls = 0

    def url(self, path: str) -> str:
        """The URL for a path under the endpoint (built by ``ids.item_path``) or a link Azure sent.

        Every path is checked once more here (``ids.check_path``): whatever a
        store did, no request leaves the endpoint or climbs out of its item. A
        link (``@nextLink``, ``Operation-Location``) must point under the same endpoint.
        """
        if path.startswith(("http://", "https://")):
            if not self._under_endpoint(path):
                raise ids.UnsafeIdError(
                    f'store "{self.store}": {self.service} sent a link outside its endpoint; refused'
                )
            ids.check_path(path)
            return path
        ids.check_path(path)
        return f"{self.base_url}/{path}"

    def _under_endpoint(self, link: str) -> bool:
        """Whether a link Azure sent points below this client's base URL (host compared case-blind)."""
        base, target = urlsplit(self.base_url), urlsplit(link)
        return (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower()) and target.path.startswith(
            base.path.rstrip("/") + "/"
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        what: str = "",
    ) -> HttpResponse:
        """Send one request; return the response for 2xx and 404; raise a store error otherwise."""
        request = HttpRequest(method, self.url(path), params=params, json=json_body)
        self.calls += 1
        try:
            response = self._client.send_request(
                request, stream=False, connection_timeout=10, read_timeout=self._timeout, **self._options
            )
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise TransientStoreError(
                f'store "{self.store}": {self.service} did not answer ({type(exc).__name__}); retrying later'
            )
        except AzureError as exc:
            raise TransientStoreError(f'store "{self.store}": {self.service} call failed: {type(exc).__name__}')
        if response.status_code < 300 or response.status_code == 404:
            return response
        raise self.error_for(response, what)

    def error_for(self, response: HttpResponse, what: str) -> Exception:
        error = self._error_for(response, what)
        error.status = response.status_code  # type: ignore[attr-defined]
        return error

    def _error_for(self, response: HttpResponse, what: str) -> Exception:
        status = response.status_code
        code, message = error_code(response)
        where = f'store "{self.store}" ({self.service}{": " + what if what else ""})'
        retry_after = _retry_after(response)
        if status == 429:
            return TransientStoreError(
                f"{where}: throttled by Azure (429 {code}); retrying later", retry_after=retry_after or 1.0
            )
        if status >= 500 or status in (408, 409):
            return TransientStoreError(
                f"{where}: Azure answered {status} {code}; retrying later", retry_after=retry_after
            )
        if status in (401, 403):
            return PermanentStoreError(
                f"{where}: Azure refused the credentials ({status} {code}). Check the store's key or "
                "Entra ID role assignment in the stores file, then retry the request."
            )
        return PermanentStoreError(f"{where}: Azure answered {status} {code}: {message[:200]}")

    def json(self, response: HttpResponse) -> Any:
        try:
            return response.json()
        except (ValueError, json.JSONDecodeError):
            raise TransientStoreError(f'store "{self.store}": {self.service} sent a reply that is not JSON')

    def close(self) -> None:
        self._client.close()


def error_code(response: HttpResponse) -> tuple[str, str]:
    """Azure's error code and message from ``{"error": {"code","message"}}`` (or Video Indexer's shape)."""
    try:
        body = response.json()
    except Exception:
        return "", ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code", "")), str(error.get("message", ""))
        if "ErrorType" in body:
            return str(body.get("ErrorType", "")), str(body.get("Message", ""))
        if "code" in body:
            return str(body.get("code", "")), str(body.get("message", ""))
    return "", ""


def _retry_after(response: HttpResponse) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
