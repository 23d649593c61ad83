"""An azure-core pipeline policy: add it to any azure-core client.

    FaceAdministrationClient(endpoint, credential, per_call_policies=[client.azure_policy()])
    BlobServiceClient(url, credential, _additional_pipeline_policies=[client.azure_policy()])

azure-storage-blob builds its own pipeline and ignores ``per_call_policies``; it appends
``_additional_pipeline_policies`` after its retry policy, so there the policy sees every attempt. Either
way an operation is checked once and recorded once: a retry of the same request reuses the first
attempt's record (kept in the request's pipeline context).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import SansIOHTTPPolicy

if TYPE_CHECKING:
    from privacy_portal_client.client import PortalClient

KEY = "privacy_portal_pending"


class RecordingPolicy(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Refuses (raises before sending) a call without consent; records a successful one in the outbox."""

    def __init__(self, client: PortalClient):
        self.client = client

    def on_request(self, request: PipelineRequest[Any]) -> None:
        if request.context.get(KEY) is not None:
            return  # a retry of an operation already checked
        http = request.http_request
        pending = self.client.before_send(http.method, http.url, http.headers, _size(http))
        if pending is not None:
            request.context[KEY] = pending

    def on_response(self, request: PipelineRequest[Any], response: PipelineResponse[Any, Any]) -> None:
        pending = request.context.get(KEY)
        if pending is None:
            return
        answer = response.http_response
        if 200 <= answer.status_code < 300:
            request.context[KEY] = None
            self.client.after_response(pending, answer.status_code, answer.body)

    def on_exception(self, request: PipelineRequest[Any]) -> None:
        pending = request.context.get(KEY)
        if pending is not None:
            self.client.after_error(pending)  # records once, however many attempts fail


def _size(http: Any) -> int | None:
    length = http.headers.get("Content-Length")
    try:
        return int(length) if length is not None else None
    except ValueError:
        return None
