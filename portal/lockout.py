"""What a person sees when django-axes has locked out their admin login: a friendly 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 3600
    context = {"retry_after_minutes": max(1, round(seconds / 60))}
    response = render(request, "lockout.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
