"""E-mail addresses: exactly what a browser's ``<input type=email>`` accepts, everywhere.

The HTML standard's "valid e-mail address" (a willful violation of RFC 5322): a local part of
letters, digits and ``.!#$%&'*+/=?^_`{|}~-``, an ``@``, and a domain of LDH labels. Django's
validator also accepts quoted local parts (``"<script>…"@example.com``, ``"=HYPERLINK(1)"@…``)
and IP literals: addresses no form of ours could send, which then end up in e-mails, CSV exports
and spreadsheets. The web forms, the public API, the privacy-request API and the management
commands all validate with ``validate_email_address``.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

# https://html.spec.whatwg.org/multipage/input.html#valid-e-mail-address
WHATWG_EMAIL = re.compile(
    r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*",
    re.ASCII,
)
MAX_LENGTH = 254

INVALID_MESSAGE = _("Enter a valid e-mail address, like name@example.com.")


def is_valid_email_address(value: str) -> bool:
    return len(value) <= MAX_LENGTH and WHATWG_EMAIL.fullmatch(value) is not None


NOT_ACCEPTED_MESSAGE = _(
    "This address has characters e-mail forms do not accept (quotes, spaces, brackets or accents "
    "before the @). Enter a plain address like name@example.com."
)
_NOT_PLAIN = re.compile(r"""["\s()<>\[\]\\,;:]|[^\x00-\x7f]""")


def validate_email_address(value: Any) -> None:
    """Raise ``ValidationError`` unless a browser's type=email would accept ``value``.

    Code ``not_accepted`` (quotes, spaces, brackets, accents: someone tried an RFC 5322 oddity)
    has its own message; anything else is code ``invalid``, which forms may word their own way.
    """
    if isinstance(value, str) and is_valid_email_address(value):
        return
    local = value.rpartition("@")[0] if isinstance(value, str) else ""
    if local and _NOT_PLAIN.search(local):
        raise ValidationError(NOT_ACCEPTED_MESSAGE, code="not_accepted")
    raise ValidationError(INVALID_MESSAGE, code="invalid")


class EmailFormField(forms.EmailField):
    """A form field with the browser's rule instead of Django's."""

    default_validators = [validate_email_address]
    default_error_messages = {"invalid": INVALID_MESSAGE}


class EmailSerializerField(serializers.EmailField):  # type: ignore[misc]  # DRF ships no type hints
    """A serializer field with the browser's rule instead of Django's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        kept: list[Any] = [v for v in self.validators if not isinstance(v, EmailValidator)]  # type: ignore[has-type]
        self.validators = [*kept, validate_email_address]
