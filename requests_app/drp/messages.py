"""Signed DRP messages: decode, verify the Ed25519 signature, check the claims (§3.07).

A message is ``base64(signature || json)`` — libsodium's "combined" mode. The
order of checks is the spec's: base64, signature with the agent's key, the
``agent-id`` claim is the agent's, the ``business-id`` claim is ours,
``issued-at`` is past, ``expires-at`` is future. Where the spec is silent we are
strict: the window may be at most ``MAX_WINDOW`` long, the version must be one
we speak, and the body must be a JSON object within ``MAX_MESSAGE_BYTES``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

MAX_MESSAGE_BYTES = 64 * 1024
MAX_WINDOW = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=60)  # an agent's clock slightly ahead of ours is not fraud
VERSIONS = ("1.0", "0.9.4")


class MessageRefused(Exception):
    """A message the protocol says to refuse; ``status`` and the message go into the error body (§3.06)."""

    def __init__(self, message: str, status: int = 400, fatal: bool = True):
        super().__init__(message)
        self.status, self.fatal = status, fatal


@dataclass(frozen=True)
class SignedMessage:
    claims: dict[str, Any]
    digest: str  # SHA-256 of the signed bytes: the replay key

    @property
    def expires_at(self) -> datetime:
        return parse_time(self.claims, "expires-at")


def decode(body: bytes) -> bytes:
    """The signed bytes inside a text/plain body (base64 with or without padding and line breaks)."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise MessageRefused(f"The message is larger than {MAX_MESSAGE_BYTES} bytes.", 413)
    text = b"".join(body.split())
    try:
        raw = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MessageRefused("The body must be the base64 of a libsodium-signed message (text/plain).") from None
    if len(raw) <= 64:
        raise MessageRefused("The message is unsigned: it is shorter than an Ed25519 signature.", 401)
    return raw


def verify(raw: bytes, verify_key: bytes) -> SignedMessage:
    """Check the signature (combined mode) and parse the JSON object it covers."""
    try:
        payload = VerifyKey(verify_key).verify(raw)
    except BadSignatureError:
        raise MessageRefused("The signature does not verify with the agent's registered key.", 401) from None
    try:
        claims = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MessageRefused("The signed message must be a UTF-8 JSON object.") from None
    if not isinstance(claims, dict):
        raise MessageRefused("The signed message must be a JSON object.")
    return SignedMessage(claims=claims, digest=hashlib.sha256(raw).hexdigest())


def parse_time(claims: dict[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, str) or len(value) > 40:
        raise MessageRefused(f'"{name}" is required: an ISO 8601 timestamp with a time zone.')
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise MessageRefused(f'"{name}" is not an ISO 8601 timestamp: {value!r}.') from None
    if when.tzinfo is None:
        raise MessageRefused(f'"{name}" must carry a time zone (e.g. "Z" or "+00:00").')
    return when


def check_claims(message: SignedMessage, *, agent_id: str) -> None:
    """The claim checks of §3.07 after the signature, plus our strict extras (version, window length)."""
    claims = message.claims
    if claims.get("agent-id") != agent_id:
        raise MessageRefused('"agent-id" in the message is not the agent this token or URL belongs to.', 403)
    business_id = settings.PORTAL_DRP_BUSINESS_ID
    if claims.get("business-id") != business_id:
        raise MessageRefused(f'"business-id" must be "{business_id}": this message is addressed elsewhere.', 403)
    issued_at, expires_at = parse_time(claims, "issued-at"), parse_time(claims, "expires-at")
    now = timezone.now()
    if issued_at > now + CLOCK_SKEW:
        raise MessageRefused('"issued-at" is in the future: check the agent\'s clock.')
    if expires_at <= now:
        raise MessageRefused('The message expired ("expires-at" has passed); sign a new one.')
    if expires_at - issued_at > MAX_WINDOW:
        raise MessageRefused('"expires-at" may be at most 10 minutes after "issued-at".')
    if expires_at <= issued_at:
        raise MessageRefused('"expires-at" must be after "issued-at".')
    version = claims.get("drp.version")
    if version not in VERSIONS:
        raise MessageRefused(f'"drp.version" must be one of {", ".join(VERSIONS)}; got {version!r}.')
