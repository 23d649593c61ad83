"""Secrets handed to people (links in e-mails, API keys): random, stored hashed.

A token is ``<prefix>_<43 url-safe chars>`` (256 bits). Only its SHA-256 is
stored; lookups go by hash, so a database leak reveals no usable link, and the
comparison that matters (hash equality in an indexed lookup) leaks no timing
about the secret itself. ``matches`` is for the rare case of comparing in Python.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matches(token: str, token_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), token_hash)


def hmac_sign(payload: bytes, key: str | None = None) -> str:
    """HMAC-SHA256 hex of payload with the current signing key (first of PORTAL_SIGNING_KEYS)."""
    key = key or settings.PORTAL_SIGNING_KEYS[0]
    return hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()


def hmac_verify(payload: bytes, signature: str) -> bool:
    """True if any configured signing key (current or retired) produced ``signature``."""
    return any(hmac.compare_digest(hmac_sign(payload, key), signature) for key in settings.PORTAL_SIGNING_KEYS)


def pseudonymise(value: str) -> str:
    """Stable keyed hash of a personal value (IP, e-mail) for evidence and audit."""
    return hmac_sign(value.strip().lower().encode())[:32]
