"""Secrets and personal data that must cross the broker: sealed (encrypted and authenticated).

A Celery message sits in Redis or RabbitMQ until a worker takes it, and may be
redelivered or inspected there. A task that needs a raw status token or an
e-mail address (rather than a row id) carries it sealed with a key derived from
``SECRET_KEY``, which every web and worker process already shares.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SealBroken(ValueError):
    """The sealed text was not made with this SECRET_KEY (rotated?) or was changed on the way."""


def _fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"portal.sealed:{purpose}:".encode() + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(purpose: str, text: str) -> str:
    return _fernet(purpose).encrypt(text.encode()).decode()


def unseal(purpose: str, sealed: str) -> str:
    try:
        return _fernet(purpose).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealBroken(f"a sealed {purpose} does not open with this SECRET_KEY") from None
