"""manage.py verify_receipt FILE [--keys KEYS.json] | --reference PR-XXXX-XXXX: is a receipt genuine?

FILE is the ``receipt-<reference>.json`` sent to the requester.

- With ``--keys`` the check is offline and uses nothing but that public key
  list (a saved copy of ``/.well-known/privacy-receipt-keys.json``): no
  database, no secrets. Anyone can run it.
- Without it, the check uses this server's key file and, for receipts issued
  before Ed25519 (HMAC-SHA256), every key in PORTAL_SIGNING_KEYS.

Prints which key signed the receipt. Exits 1 if the receipt is not genuine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from requests_app.engine import receipt
from requests_app.engine.receipt_keys import PublicKey
from requests_app.management.commands._files import file_errors
from requests_app.models import PrivacyRequest


def load_public_keys(path: str) -> list[PublicKey]:
    with file_errors(path, "give the saved key list, e.g. privacy-receipt-keys.json"):
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CommandError(f"{path}: not a JSON file")
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) and "kid" in k and "public_key" in k for k in keys):
        raise CommandError(
            f'{path}: expected the public key list {{"keys": [{{"kid", "public_key", ...}}]}} '
            "from /.well-known/privacy-receipt-keys.json"
        )
    return [
        PublicKey(str(k["kid"]), str(k["public_key"]), str(k.get("created", "")), k.get("retired"))
        for k in keys
        if k.get("alg", receipt.ALG) == receipt.ALG
    ]


class Command(BaseCommand):
    help = "Verify the signature of a deletion receipt (a JSON file, or the one stored on a request)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="receipt-<reference>.json")
        parser.add_argument(
            "--keys",
            help="Verify offline against this saved public key list only (/.well-known/privacy-receipt-keys.json).",
        )
        parser.add_argument("--reference", help="Check the receipt stored on this request instead.")

    def handle(
        self,
        *args: Any,
        file: str | None = None,
        keys: str | None = None,
        reference: str | None = None,
        **options: Any,
    ) -> None:
        if bool(file) == bool(reference):
            raise CommandError("Give either a receipt FILE or --reference PR-XXXX-XXXX.")
        if reference:
            request = PrivacyRequest.objects.filter(reference=reference.strip().upper()).first()
            if request is None or not request.receipt:
                raise CommandError(f"{reference}: no request with a receipt has this reference")
            document = receipt.signed_document(request.receipt, request.receipt_signature)
        else:
            with file_errors(str(file), "give the receipt file, e.g. receipt-PR-XXXX-XXXX.json"):
                try:
                    document = receipt.parse(Path(str(file)).read_bytes())
                except receipt.ReceiptFormatError as exc:
                    raise CommandError(f"{file}: {exc}")
        if keys:
            verdict = receipt.check(document, public_keys=load_public_keys(keys), hmac_keys=None)
        else:
            verdict = receipt.check_here(document)
        label = f"receipt {verdict.reference or '?'} (completed {verdict.completed_at or '?'})"
        if not verdict.genuine:
            raise CommandError(f"INVALID: {label}: {verdict.message}")
        key = verdict.key
        when = f", key created {key.created}" + (f", retired {key.retired}" if key.retired else "") if key else ""
        self.stdout.write(self.style.SUCCESS(f"VALID: {label}: {verdict.message} ({verdict.alg}{when})"))
