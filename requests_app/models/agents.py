"""Requests an authorized agent filed for a consumer (requests_app/agents.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from requests_app.models.privacy_request import PrivacyRequest


class AgentFiling(models.Model):
    """Who filed a request for a consumer as their authorized agent (CCPA, 11 CCR §7063), and the proof.

    The consumer's signed permission is kept in private storage for staff to check; the consumer
    still confirms the request from their own mailbox before anything runs. See requests_app/agents.py.
    """

    request = models.OneToOneField(PrivacyRequest, on_delete=models.CASCADE, related_name="agent_filing")
    agent_name = models.CharField(max_length=200)
    agent_email = models.EmailField(max_length=254)
    agent_organisation = models.CharField(max_length=200, blank=True)
    permission = models.FileField(
        upload_to="agent-permissions/%Y/%m/",
        max_length=300,
        help_text="The consumer's signed permission (PDF or image), private.",
    )
    permission_name = models.CharField(max_length=200, blank=True, help_text="The file name as uploaded.")
    permission_sha256 = models.CharField(max_length=64)
    filed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "requests_app"

    def __str__(self) -> str:
        return f"filed by {self.agent_name} for request #{self.request_id}"
