"""Public receipt checking: the public signing keys, and a page where anyone checks a receipt.

Neither needs an account or a secret: a deletion receipt proves something to
whoever holds it (the requester, a regulator, a court) only if they can check it
without trusting the operator's word.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from portal.ratelimit import ratelimit
from requests_app.engine import receipt, receipt_keys
from requests_app.forms import ReceiptVerifyForm

RECEIPT_VERIFY_RATE = "60/hour"


@require_GET
@cache_control(max_age=300, public=True)
def public_keys(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(receipt_keys.public_document(), json_dumps_params={"indent": 2})
    response["Access-Control-Allow-Origin"] = "*"  # public by design: other sites and tools may fetch it
    return response


@require_http_methods(["GET", "POST"])
@ratelimit("receipt-verify", RECEIPT_VERIFY_RATE)
def verify(request: HttpRequest) -> HttpResponse:
    form = ReceiptVerifyForm(request.POST or None, request.FILES or None)
    verdict = None
    if request.method == "POST" and form.is_valid():
        verdict = receipt.check_here(form.cleaned_data["document"])
    return render(
        request,
        "requests_app/receipt_verify.html",
        {
            "form": form,
            "verdict": verdict,
            "keys": receipt_keys.public_keys(),
        },
    )
