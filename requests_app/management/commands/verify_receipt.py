"""manage.py verify_receipt FILE | --reference PR-XXXX-XXXX: is a deletion receipt genuine and unchanged?

FILE is the ``receipt-<reference>.json`` sent to the requester. The signature is
checked against every key in PORTAL_SIGNING_KEYS (current and retired), so
receipts stay verifiable after a key rotation. Exits 1 if the check fails.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from requests_app.engine import receipt
from requests_app.management.commands._files import file_errors
from requests_app.models import PrivacyRequest


class Command(BaseCommand):
    help = "Verify the HMAC signature of a deletion receipt (a JSON file, or one stored on a request)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="receipt-<reference>.json")
        parser.add_argument("--reference", help="Check the receipt stored on this request instead.")

    def handle(self, *args, file=None, reference=None, **options):
        if bool(file) == bool(reference):
            raise CommandError("Give either a receipt FILE or --reference PR-XXXX-XXXX.")
        if reference:
            request = PrivacyRequest.objects.filter(reference=reference.strip().upper()).first()
            if request is None or not request.receipt:
                raise CommandError(f"{reference}: no request with a receipt has this reference")
            document, signature = request.receipt, request.receipt_signature
        else:
            with file_errors(file, "give the receipt file, e.g. receipt-PR-XXXX-XXXX.json"):
                try:
                    data = json.loads(Path(file).read_text(encoding="utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise CommandError(f"{file}: not a JSON file")
            if not isinstance(data, dict) or not isinstance(data.get("receipt"), dict):
                raise CommandError(f'{file}: expected {{"receipt": {{...}}, "signature": "..."}}')
            document, signature = data["receipt"], str(data.get("signature", ""))
        if not receipt.verify(document, signature):
            raise CommandError(
                f"INVALID: the signature does not match receipt {document.get('reference', '?')}. "
                "The receipt was changed, or signed with a key that is not in PORTAL_SIGNING_KEYS."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"VALID: receipt {document.get('reference')} (completed {document.get('completed_at')}) "
                f"is genuine and unchanged (signing key id {document.get('key_id')})."
            )
        )
