"""Deletion receipts: what each store found, erased or anonymised, when, and that it is verified gone.

A receipt holds no personal data (the request reference, counts, times), so it
is kept on the request after the requester's data is purged. It is signed with
HMAC-SHA256 over its canonical JSON (keys sorted, no spaces, UTF-8) using the
first key of ``PORTAL_SIGNING_KEYS``; every key in that list is accepted when
verifying, so keys can be rotated without invalidating receipts already issued.

The signed file (``receipt.json``) is ``{"receipt": {...}, "signature": "<hex>",
"algorithm": "HMAC-SHA256"}``. Verify it with ``manage.py verify_receipt FILE``
(see docs/receipts.md for doing it by hand).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from portal import tokens

ALGORITHM = "HMAC-SHA256"
VERSION = 1


def canonical(receipt: dict[str, Any]) -> bytes:
    return json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(key: str | None = None) -> str:
    return hashlib.sha256((key or settings.PORTAL_SIGNING_KEYS[0]).encode()).hexdigest()[:12]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def build(request, tasks, manual_reason: str | None = None) -> dict[str, Any]:
    by_store: dict[str, dict[str, Any]] = {}
    for task in tasks:
        entry = by_store.setdefault(
            task.store,
            {
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
            },
        )
        detail = task.detail or {}
        if task.phase == "discover":
            entry["found"] = task.found_count
            entry["found_by_table"] = detail.get("tables", {})
            # Tables the stores file does not declare: named, never silently left out.
            entry["not_covered"] = [
                {"table": gap["table"], "why": gap["why"], "rows": gap.get("rows")}
                for gap in detail.get("not_covered", [])
            ]
        elif task.phase == "erase":
            entry["erased"], entry["anonymised"] = task.erased_count, task.anonymised_count
            entry["erased_at"] = _iso(task.finished_at) if task.status == "succeeded" else None
            entry["manual_steps"] = detail.get("manual_steps", [])
        elif task.phase == "verify":
            entry["verified_gone"] = task.verified_gone if task.status == "succeeded" else None
            entry["verified_at"] = _iso(task.finished_at) if task.status == "succeeded" else None
        if task.status not in ("succeeded", "skipped"):
            entry["status"] = "resolved manually" if manual_reason else task.status
        if task.status == "failed":
            entry["last_error"] = task.last_error[:500]
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
        "resolved_manually": manual_reason or None,
        "stores": list(by_store.values()),
        "key_id": key_id(),
    }


def sign(receipt: dict[str, Any]) -> str:
    return tokens.hmac_sign(canonical(receipt))


def verify(receipt: dict[str, Any], signature: str) -> bool:
    return bool(signature) and tokens.hmac_verify(canonical(receipt), signature)


def signed_document(receipt: dict[str, Any], signature: str) -> dict[str, Any]:
    return {"receipt": receipt, "signature": signature, "algorithm": ALGORITHM}


def as_json(receipt: dict[str, Any], signature: str) -> bytes:
    return json.dumps(
        signed_document(receipt, signature), indent=2, sort_keys=True, ensure_ascii=False
    ).encode()


def as_html(receipt: dict[str, Any], signature: str, language: str | None = None) -> str:
    with translation.override(language or settings.LANGUAGE_CODE):
        return render_to_string(
            "requests_app/receipt.html", {"receipt": receipt, "signature": signature, "algorithm": ALGORITHM}
        )
