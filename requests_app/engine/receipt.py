"""Deletion receipts: what each store found, erased or anonymised, when, and that it is verified gone.

A receipt holds no personal data (the request reference, counts, times), so it
is kept on the request after the requester's data is purged.

It is signed with **Ed25519** (``requests_app.engine.receipt_keys``) over its
canonical JSON (keys sorted, no spaces, UTF-8). The key id (``kid``) and the
algorithm (``alg``) are *inside* the signed receipt, so neither can be changed
without breaking the signature. Anyone can verify with the public keys at
``/.well-known/privacy-receipt-keys.json``: on ``/receipts/verify/``, with
``manage.py verify_receipt FILE --keys privacy-receipt-keys.json`` (offline),
or with the dozen lines of Python in docs/engine.md.

The signed file (``receipt-<reference>.json``) is
``{"receipt": {..., "kid": "...", "alg": "Ed25519"}, "signature": "<128 hex digits>"}``.

Receipts issued before Ed25519 (``receipt_version`` 1) were signed with
HMAC-SHA256 and carry ``"algorithm": "HMAC-SHA256"`` beside the receipt; they
still verify, but only where the HMAC keys are (``PORTAL_SIGNING_KEYS``: this
server's page and command), and only with that exact algorithm name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import mail
from portal.input_limits import InputRefused, load_json
from requests_app.engine import legal_hold, receipt_keys
from requests_app.engine.receipt_keys import PublicKey

if TYPE_CHECKING:
    from requests_app.models import PrivacyRequest, StoreTask

ALG = receipt_keys.ALG
LEGACY_ALGORITHM = "HMAC-SHA256"
VERSION = 2
_ED25519_SIGNATURE = re.compile(r"[0-9a-f]{128}")
_HMAC_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def canonical(receipt: dict[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def legacy_key_id(key: str) -> str:
    """How version-1 (HMAC) receipts named their key: 12 hex digits of SHA-256 of the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build(
    request: PrivacyRequest,
    tasks: Iterable[StoreTask],
    manual_reason: str | None = None,
    *,
    left: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    by_store: dict[str, dict[str, Any]] = {}
    for task in tasks:
        entry = by_store.setdefault(task.store, _empty_entry(task))
        _add_task(entry, task, manual_reason)
    return {
        "receipt_version": VERSION,
        "reference": request.reference,
        "kind": request.kind,
        "jurisdiction": request.jurisdiction,
        "scope_purpose": request.scope_purpose or None,
        "received_at": _iso(request.received_at),
        "verified_at": _iso(request.verified_at),
        "started_at": _iso(request.started_at),
        "completed_at": _iso(timezone.now()),
        "issued_by": {
            "operator": settings.PORTAL_OPERATOR_NAME,
            "app": settings.PORTAL_APP_NAME,
            "contact": settings.PORTAL_OPERATOR_CONTACT,
        },
        "resolved_manually": manual_reason if manual_reason and left is None else None,
        # Closed by staff although something was left: the reason and the list, in the signed receipt.
        "completed_with_exceptions": {"reason": manual_reason, "left": left} if left is not None else None,
        "stores": list(by_store.values()),
    }


def _empty_entry(task: StoreTask) -> dict[str, Any]:
    return {
        "store": task.store,
        "kind": task.store_kind,
        "found": 0,
        "found_by_table": {},
        "erased": 0,
        "anonymised": 0,
        "erased_at": None,
        "verified_gone": None,
        "verified_at": None,
        "manual_steps": [],
        "not_covered": [],
        "status": "done",
    }


def _add_task(entry: dict[str, Any], task: StoreTask, manual_reason: str | None) -> None:
    """What one task of the store adds to its receipt entry."""
    detail = task.detail or {}
    if task.phase == "discover":
        entry["found"] = task.found_count
        entry["found_by_table"] = detail.get("tables", {})
        # Tables the stores file does not declare: named, never silently left out.
        entry["not_covered"] = [
            {"table": gap["table"], "why": gap["why"], "rows": gap.get("rows")} for gap in detail.get("not_covered", [])
        ]
    elif task.phase == "erase":
        entry["erased"], entry["anonymised"] = task.erased_count, task.anonymised_count
        entry["erased_at"] = _iso(task.finished_at) if task.status == "succeeded" else None
        entry["manual_steps"] = detail.get("manual_steps", [])
        entry["left"] = detail.get("left", [])
        entry["already_gone"] = detail.get("ledger_already_gone", 0)
        # What Microsoft still holds after the deletion, and until when (Azure kinds).
        entry["retention"] = detail.get("retention", [])
    elif task.phase == "verify":
        entry["verified_gone"] = task.verified_gone if task.status == "succeeded" else None
        entry["verified_at"] = _iso(task.finished_at) if task.status == "succeeded" else None
    entry.update(legal_hold.receipt_fields(detail))  # withheld under a legal obligation
    if task.status not in ("succeeded", "skipped"):
        entry["status"] = "resolved manually" if manual_reason else task.status
    if task.status == "failed":
        entry["last_error"] = task.last_error[:500]


def sign(receipt: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Sign whatever receipt dict the engine built: (the receipt with ``kid`` and ``alg`` added, hex signature)."""
    kid, private_key = receipt_keys.signing_key()
    signed = {**receipt, "kid": kid, "alg": ALG}
    return signed, private_key.sign(canonical(signed)).hex()


class ReceiptFormatError(ValueError):
    """Not a receipt file at all; the message says what is wrong, for the person who pasted it."""


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    message: str
    reference: str | None = None
    completed_at: str | None = None
    alg: str | None = None
    kid: str | None = None
    key: PublicKey | None = None


def parse(raw: bytes | str) -> dict[str, Any]:
    """The JSON receipt file as a dict, or ReceiptFormatError saying why it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ReceiptFormatError("This is not a receipt: the file is not UTF-8 text.") from None
    if not raw.strip():
        raise ReceiptFormatError("Paste the contents of receipt-PR-….json, or choose the file.")
    try:
        data = load_json(raw)  # bounded depth and numbers: a pasted "[[[[…" must not recurse into a 500
    except InputRefused as exc:
        if exc.code != "invalid_json":
            raise ReceiptFormatError(f"This is not a receipt: {exc}") from None
        raise ReceiptFormatError(
            f"This is not a receipt: it is not valid JSON ({str(exc).removeprefix('The body is not valid JSON: ')}) "
            "Paste the whole receipt-PR-….json file, not the HTML copy."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("receipt"), dict) or "signature" not in data:
        raise ReceiptFormatError('This is not a receipt: expected {"receipt": {...}, "signature": "..."}.')
    return data


def _shape_problem(document: dict[str, Any], alg: Any) -> str:
    """Why the file cannot be a receipt we signed, before any key is looked at (empty when it can)."""
    extra = sorted(set(document) - {"receipt", "signature"})
    if extra:
        return _("Changed: the file has fields a receipt never has (%(fields)s).") % {"fields": ", ".join(extra)}
    if alg != ALG:
        return _("Changed: the receipt names the algorithm %(alg)s; receipts are signed with %(ours)s.") % {
            "alg": repr(alg),
            "ours": ALG,
        }
    return ""


def check(document: dict[str, Any], *, public_keys: list[PublicKey], hmac_keys: list[str] | None = None) -> Verdict:
    """Is this parsed receipt file genuine and unchanged?

    ``public_keys`` are the published Ed25519 keys; ``hmac_keys`` the operator's
    HMAC keys for version-1 receipts (None where they are not available: a
    verdict then says the receipt can only be checked by the operator).
    """
    receipt, signature = document.get("receipt"), document.get("signature")
    if not isinstance(receipt, dict):
        return Verdict(False, _("Changed: the file holds no receipt."))
    facts: dict[str, Any] = {
        "reference": _text(receipt.get("reference")),
        "completed_at": _text(receipt.get("completed_at")),
    }
    if "alg" not in receipt:
        return _check_legacy(document, receipt, signature, hmac_keys, facts)
    alg, kid = receipt.get("alg"), _text(receipt.get("kid"))
    shape = _shape_problem(document, alg)
    if shape:
        return Verdict(False, shape, alg=_text(alg), kid=kid, **facts)
    if not isinstance(signature, str) or not _ED25519_SIGNATURE.fullmatch(signature):
        return Verdict(
            False, _("Changed: the signature is not 128 lowercase hexadecimal digits."), alg=ALG, kid=kid, **facts
        )
    key = next((k for k in public_keys if k.kid == kid), None)
    if key is None:
        return Verdict(
            False,
            _(
                "Not verified: key %(kid)s is not among the published receipt keys (%(keys)s). "
                "The receipt was changed, or comes from another operator."
            )
            % {"kid": repr(kid), "keys": ", ".join(k.kid for k in public_keys) or _("none")},
            alg=ALG,
            kid=kid,
            **facts,
        )
    try:
        key.verifier().verify(bytes.fromhex(signature), canonical(receipt))
    except (InvalidSignature, ValueError):
        return Verdict(
            False,
            _("Changed: the signature does not match this receipt; something in it was altered after it was signed."),
            alg=ALG,
            kid=kid,
            key=key,
            **facts,
        )
    return Verdict(
        True,
        _("Genuine: signed with %(alg)s key %(kid)s and not changed since.") % {"alg": ALG, "kid": kid},
        alg=ALG,
        kid=kid,
        key=key,
        **facts,
    )


def _check_legacy(
    document: dict[str, Any],
    receipt: dict[str, Any],
    signature: Any,
    hmac_keys: list[str] | None,
    facts: dict[str, Any],
) -> Verdict:
    # Version 1 did not sign the algorithm name, so only the exact name it used is accepted.
    algorithm = document.get("algorithm")
    extra = sorted(set(document) - {"receipt", "signature", "algorithm"})
    kid = _text(receipt.get("key_id"))
    if extra or algorithm != LEGACY_ALGORITHM:
        return Verdict(
            False,
            _("Changed: the receipt names no algorithm, or an unknown one (%(alg)s).") % {"alg": repr(algorithm)},
            alg=_text(algorithm),
            kid=kid,
            **facts,
        )
    if not isinstance(signature, str) or not _HMAC_SIGNATURE.fullmatch(signature):
        return Verdict(
            False,
            _("Changed: the signature is not 64 lowercase hexadecimal digits."),
            alg=LEGACY_ALGORITHM,
            kid=kid,
            **facts,
        )
    if hmac_keys is None:
        return Verdict(
            False,
            _(
                "Not verified here: this is an older receipt signed with HMAC-SHA256, which only the "
                "operator can check (on its /receipts/verify/ page or with manage.py "
                "verify_receipt on its server)."
            ),
            alg=LEGACY_ALGORITHM,
            kid=kid,
            **facts,
        )
    key = _hmac_key_that_signed(canonical(receipt), signature, hmac_keys)
    if key is not None:
        return Verdict(
            True,
            _("Genuine: an older receipt signed with HMAC-SHA256 (key id %(kid)s) and not changed since.")
            % {"kid": legacy_key_id(key)},
            alg=LEGACY_ALGORITHM,
            kid=legacy_key_id(key),
            **facts,
        )
    return Verdict(
        False,
        _(
            "Changed: the signature does not match this receipt (or it was signed with a key "
            "this operator no longer has)."
        ),
        alg=LEGACY_ALGORITHM,
        kid=kid,
        **facts,
    )


def _hmac_key_that_signed(payload: bytes, signature: str, hmac_keys: list[str]) -> str | None:
    for key in hmac_keys:
        expected = hmac.new(key.encode(), payload, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, signature):
            return key
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def check_here(document: dict[str, Any]) -> Verdict:
    """Check with everything this server has: the published keys and the HMAC keys of version 1."""
    return check(document, public_keys=receipt_keys.public_keys(), hmac_keys=list(settings.PORTAL_SIGNING_KEYS))


def verify(receipt: dict[str, Any], signature: str) -> bool:
    """True if a receipt stored on a request (receipt, signature) is genuine."""
    return check_here(signed_document(receipt, signature)).genuine


def signed_document(receipt: dict[str, Any], signature: str) -> dict[str, Any]:
    if "alg" in receipt:
        return {"receipt": receipt, "signature": signature}
    return {"receipt": receipt, "signature": signature, "algorithm": LEGACY_ALGORITHM}


def as_json(receipt: dict[str, Any], signature: str) -> bytes:
    return json.dumps(signed_document(receipt, signature), indent=2, sort_keys=True, ensure_ascii=False).encode()


def as_html(receipt: dict[str, Any], signature: str, language: str | None = None) -> str:
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(
            "requests_app/receipt.html",
            {
                "receipt": receipt,
                "signature": signature,
                "algorithm": receipt.get("alg", LEGACY_ALGORITHM),
                "key_id": receipt.get("kid") or receipt.get("key_id"),
                "verify_url": mail.absolute("/receipts/verify/"),
            },
        )
