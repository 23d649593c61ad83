"""The Ed25519 keys that sign deletion receipts, kept in one file the operator owns.

Anyone can check a receipt with the public half (published at
``/.well-known/privacy-receipt-keys.json``), so trust in a receipt no longer
depends on trusting whoever holds the signing secret.

The key file (``PORTAL_RECEIPT_KEY_FILE``, mode 0600) is JSON::

    {"keys": [{"kid": "...", "alg": "Ed25519", "public_key": "<base64, 32 bytes>",
               "private_key": "<base64, 32 bytes> | null", "created": "<ISO>", "retired": null}]}

The one key with ``retired: null`` signs. ``rotate()`` retires it (and forgets
its private half: a retired key can no longer sign anything) and adds a new
one; the public halves of retired keys stay in the file and on the public
list, so receipts they signed keep verifying.

In the embedded default (``DJANGO_DEBUG=true``) the file is created under
``var/`` the first time a receipt is signed. In production the operator creates
it once with ``manage.py rotate_receipt_key`` and gives every web and worker
machine the same file: a machine that generated its own key would sign receipts
that the public list does not know.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.conf import settings
from django.utils import timezone

ALG = "Ed25519"


class KeyFileError(Exception):
    """The key file is missing (in production), unreadable or malformed; the message says which and what to do."""


@dataclass(frozen=True)
class PublicKey:
    kid: str
    public_key: str  # base64 of the 32 raw bytes
    created: str
    retired: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": ALG,
            "public_key": self.public_key,
            "created": self.created,
            "retired": self.retired,
        }

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key, validate=True))


def path() -> Path:
    return Path(settings.PORTAL_RECEIPT_KEY_FILE)


def _kid(public_raw: bytes) -> str:
    """A key id anyone can recompute from the public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _new_entry() -> dict[str, Any]:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    private_raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {
        "kid": _kid(public_raw),
        "alg": ALG,
        "public_key": base64.b64encode(public_raw).decode(),
        "private_key": base64.b64encode(private_raw).decode(),
        "created": timezone.now().isoformat(timespec="seconds"),
        "retired": None,
    }


def _write_new(target: Path, data: dict[str, Any], *, replace: bool) -> bool:
    """Write the key file atomically with mode 0600. Without ``replace``, lose the race quietly
    (another process created the file first): returns False and the caller reads theirs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".receipt-keys-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        if replace:
            os.replace(tmp, target)
            return True
        try:
            os.link(tmp, target)  # fails if the file appeared meanwhile: first writer wins
        except FileExistsError:
            return False
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read(*, create: bool) -> dict[str, Any]:
    target = path()
    if not target.exists():
        if not create:
            raise KeyFileError(
                f"{target}: no receipt signing key file. Create it once with `manage.py rotate_receipt_key` "
                "and give every web and worker machine the same file (PORTAL_RECEIPT_KEY_FILE)."
            )
        _write_new(target, {"keys": [_new_entry()]}, replace=False)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyFileError(f"{target}: cannot read the receipt signing key file ({exc.strerror})") from None
    except ValueError:
        raise KeyFileError(f"{target}: the receipt signing key file is not valid JSON") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if (
        not isinstance(keys, list)
        or not keys
        or not all(isinstance(k, dict) and {"kid", "public_key", "created"} <= k.keys() for k in keys)
    ):
        raise KeyFileError(
            f'{target}: expected {{"keys": [{{"kid", "public_key", "private_key", "created", "retired"}}, ...]}}'
        )
    checked: dict[str, Any] = data
    return checked


def _may_create() -> bool:
    return bool(settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE)


def public_keys() -> list[PublicKey]:
    """Every key that ever signed, current and retired (what the public list shows)."""
    try:
        data = _read(create=_may_create())
    except KeyFileError:
        return []
    return [PublicKey(k["kid"], k["public_key"], k["created"], k.get("retired")) for k in data["keys"]]


def public_document() -> dict[str, Any]:
    """The JSON served at /.well-known/privacy-receipt-keys.json and read by ``verify_receipt --keys``."""
    return {
        "issuer": {"operator": settings.PORTAL_OPERATOR_NAME, "app": settings.PORTAL_APP_NAME},
        "keys": [key.as_json() for key in public_keys()],
    }


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """(kid, private key) of the current key; creates the file in the embedded default."""
    data = _read(create=_may_create())
    current = [k for k in data["keys"] if not k.get("retired") and k.get("private_key")]
    if len(current) != 1:
        raise KeyFileError(
            f"{path()}: expected exactly one key with a private key and no 'retired' date, "
            f"found {len(current)}; run `manage.py rotate_receipt_key` to add a fresh one"
        )
    entry = current[0]
    return entry["kid"], Ed25519PrivateKey.from_private_bytes(base64.b64decode(entry["private_key"]))


def rotate() -> tuple[str | None, str]:
    """Retire the current key (forgetting its private half) and add a new one: (old kid, new kid).

    Creates the file when there is none (the first key of a production set-up).
    """
    target = path()
    data = _read(create=False) if target.exists() else {"keys": []}
    now = timezone.now().isoformat(timespec="seconds")
    old_kid = None
    for entry in data["keys"]:
        if not entry.get("retired"):
            entry["retired"] = now
            old_kid = entry["kid"]
        entry["private_key"] = None
    fresh = _new_entry()
    data["keys"].append(fresh)
    _write_new(target, data, replace=True)
    return old_kid, fresh["kid"]
