"""HTTP endpoints of the DRP (§2). Plain Django views: the bodies are signed text/plain, not DRF JSON.

Errors follow §3.06: ``{"code": "<http status>", "message": ..., "fatal": ...}``.
A failed pairing is the exception: 403 with an empty body (§2.05.1).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from portal.ratelimit import ratelimit
from requests_app.drp import services
from requests_app.drp.messages import MessageRefused

# Per client address. Pairing is the only endpoint without a token: a few a day is normal.
PAIRING_RATE = "60/hour"
REQUESTS_RATE = "6000/hour"


def _error(exc: MessageRefused) -> JsonResponse:
    body = {"code": str(exc.status), "message": str(exc), "fatal": exc.fatal}
    if isinstance(exc, services.ReplayRefused) and exc.original is not None:
        body["request_id"] = str(exc.original.request_id)
    return JsonResponse(body, status=exc.status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@ratelimit("drp-pair", PAIRING_RATE)
@ratelimit("drp", REQUESTS_RATE, methods=("GET",))
def agent(request: HttpRequest, agent_id: str) -> HttpResponse:
    if request.method == "POST":
        try:
            return JsonResponse(services.pair(agent_id, request.body))
        except services.PairingRefused:
            return HttpResponse(status=403)
        except MessageRefused as exc:  # the endpoint is off (no business id)
            return _error(exc)
    try:
        token_agent = services.agent_for_token(request.headers.get("Authorization", ""))
    except MessageRefused as exc:
        return _error(exc)
    if token_agent.agent_id != agent_id:
        return _error(MessageRefused("This token belongs to another agent.", 403))
    return JsonResponse({})


@csrf_exempt
@require_http_methods(["POST"])
@ratelimit("drp", REQUESTS_RATE)
def exercise(request: HttpRequest) -> HttpResponse:
    try:
        token_agent = services.agent_for_token(request.headers.get("Authorization", ""))
        drp = services.exercise(token_agent, request.body)
    except MessageRefused as exc:
        return _error(exc)
    return JsonResponse(services.status_object(drp))


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@ratelimit("drp", REQUESTS_RATE, methods=("GET", "DELETE"))
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    try:
        token_agent = services.agent_for_token(request.headers.get("Authorization", ""))
        if request.method == "DELETE":
            drp = services.revoke(token_agent, request_id, request.body)
        else:
            drp = services.find(token_agent, request_id)
    except MessageRefused as exc:
        return _error(exc)
    return JsonResponse(services.status_object(drp))
