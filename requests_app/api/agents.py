"""The authorized-agent part of ``POST /api/v1/privacy-requests/`` (requests_app/agents.py).

An ``agent`` object on the public request names the agent and carries the consumer's signed
permission as base64; ``email`` is then the consumer's.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from rest_framework import serializers, status
from rest_framework.response import Response

from requests_app import agents
from requests_app.services.validation import RequestError


class AgentSerializer(serializers.Serializer):  # type: ignore[misc]  # DRF ships no type hints
    """An authorized agent filing for the consumer named by ``email`` (requests_app/agents.py)."""

    name = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=320, help_text="The agent's address: it gets a status link only.")
    organisation = serializers.CharField(max_length=200, required=False, allow_blank=True)
    permission = serializers.CharField(help_text="The consumer's signed permission, base64 (PDF, PNG or JPEG, ≤ 3 MB).")
    permission_filename = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate_permission(self, value: str) -> bytes:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Send the signed permission as base64.") from None
        try:
            agents.clean_permission(data, "")
        except RequestError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return data


def file_by_agent(data: dict[str, Any], *, ip: str) -> Response:
    """File the validated public request for the consumer; raises ``RequestError`` like intake."""
    agent = data["agent"]
    privacy_request = agents.request_submit_by_agent(
        kind=data["kind"],
        consumer_email=data["email"],
        jurisdiction=data.get("jurisdiction") or settings.PORTAL_DEFAULT_JURISDICTION,
        identifiers=data.get("identifiers") or {},
        language=data.get("language") or get_language() or settings.LANGUAGE_CODE,
        agent_name=agent["name"],
        agent_email=agent["email"],
        agent_organisation=agent.get("organisation", ""),
        permission=agent["permission"],
        permission_name=agent.get("permission_filename", ""),
        ip=ip,
    )
    return Response(
        {
            "reference": privacy_request.reference,
            "detail": "We e-mailed the consumer a confirmation link and the agent a status link. Nothing "
            "happens until the consumer confirms and staff have checked the permission.",
        },
        status=status.HTTP_202_ACCEPTED,
    )
