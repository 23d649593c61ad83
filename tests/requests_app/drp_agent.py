"""A Data Rights Protocol agent, written from the spec (data-rights-protocol.md v1.0) with OSIRAA as the model.

It signs with PyNaCl's ``SigningKey.sign`` (libsodium combined mode: signature
then message), base64-encodes the result and sends it as text/plain, exactly as
OSIRAA's ``sign_request`` does; it talks to the portal through Django's test
client (any object with ``generic(method, path, data, content_type, **headers)``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from nacl.signing import SigningKey


@dataclass
class DrpAgentClient:
    http: Any
    agent_id: str
    business_id: str
    api_base: str = "/drp"
    version: str = "1.0"
    key: SigningKey = field(default_factory=SigningKey.generate)
    token: str = ""

    @property
    def verify_key_b64(self) -> str:
        return base64.b64encode(bytes(self.key.verify_key)).decode()

    def directory_entry(self) -> dict[str, str]:
        """This agent's entry in the DRP service directory (§3.05.1)."""
        return {
            "id": self.agent_id,
            "name": "Test Agent",
            "verify_key": self.verify_key_b64,
            "web_url": "https://agent.example/",
            "technical_contact": "tech@agent.example",
        }

    def envelope(
        self, *, issued_at: datetime | None = None, ttl: timedelta = timedelta(minutes=5), **claims: Any
    ) -> dict[str, Any]:
        issued = issued_at or timezone.now()
        return {
            "agent-id": self.agent_id,
            "business-id": self.business_id,
            "issued-at": issued.isoformat(),
            "expires-at": (issued + ttl).isoformat(),
            "drp.version": self.version,
            **claims,
        }

    def sign(self, claims: dict[str, Any]) -> bytes:
        return base64.b64encode(self.key.sign(json.dumps(claims).encode()))

    def _send(self, method: str, path: str, body: bytes = b"") -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        return self.http.generic(method, self.api_base + path, body, content_type="text/plain", **headers)

    def pair(self, claims: dict[str, Any] | None = None) -> Any:
        response = self._send("POST", f"/v1/agent/{self.agent_id}", self.sign(claims or self.envelope()))
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def exercise(self, exercise: str, *, email: str, callback: str = "", **extra: Any) -> Any:
        claims = self.envelope(exercise=exercise, regime="ccpa", email=email, email_verified=True, **extra)
        if callback:
            claims["status_callback"] = callback
        return self.send_signed(self.sign(claims))

    def send_signed(self, body: bytes) -> Any:
        return self._send("POST", "/v1/data-rights-request", body)

    def status(self, request_id: str) -> Any:
        return self._send("GET", f"/v1/data-rights-request/{request_id}")

    def revoke(self, request_id: str, reason: str = "changed my mind") -> Any:
        return self._send("DELETE", f"/v1/data-rights-request/{request_id}", self.sign({"reason": reason}))
