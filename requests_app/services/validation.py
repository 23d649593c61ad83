"""Validation shared by the web form, the public API and host-app filing.

Each function takes what a person (or a host app) sent, as it arrived, and
returns the clean value or raises :class:`RequestError` with a message that
names the field and says what to type instead.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.email_address import validate_email_address

IDENTIFIER_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
IDENTIFIER_MAX_LENGTH = 200
HOST_IDENTIFIER_MAX_LENGTH = 512


class RequestError(Exception):
    """A step that cannot be done, with a message for the person who asked for it."""


def normalise_email(raw: Any) -> str:
    """Strip and lower-case; raise RequestError with a message naming the field on bad input.

    Stored lower-cased so duplicate detection and staff search use one indexed
    equality instead of a case-insensitive scan.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise RequestError(_("Enter the e-mail address the data is linked to."))
    email = raw.strip().lower()
    if len(email) > 254:
        raise RequestError(_("This e-mail address is too long (at most 254 characters)."))
    try:
        validate_email_address(email)
    except ValidationError as exc:
        raise RequestError(str(exc.messages[0]))
    return email


def clean_identifiers(raw: Any, *, allowed: list[str] | None) -> dict[str, str]:
    """Validate extra identifiers. ``allowed=None`` accepts any well-formed name (host apps)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise RequestError(_('Identifiers must be an object of name → value, e.g. {"username": "sam"}.'))
    limit = IDENTIFIER_MAX_LENGTH if allowed is not None else HOST_IDENTIFIER_MAX_LENGTH
    cleaned: dict[str, str] = {}
    for key, value in raw.items():
        _check_identifier_name(key, allowed)
        if value is None:
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise RequestError(_("The value of “%(name)s” must be text.") % {"name": key})
        text = str(value).strip()
        if len(text) > limit:
            raise RequestError(
                _("The value of “%(name)s” is too long (at most %(limit)s characters).") % {"name": key, "limit": limit}
            )
        if text:
            cleaned[key] = text
    return cleaned


def _check_identifier_name(key: Any, allowed: list[str] | None) -> None:
    if not isinstance(key, str) or not IDENTIFIER_KEY_RE.match(key):
        raise RequestError(
            _("“%(name)s” is not a valid identifier name (lower-case letters, digits, underscores).")
            % {"name": str(key)[:40]}
        )
    if allowed is not None and key not in allowed:
        raise RequestError(
            _("“%(name)s” is not an identifier this service asks for; use one of: %(names)s.")
            % {"name": key, "names": ", ".join(allowed) or "—"}
        )


def clean_choice(value: Any, choices: Any, what: str) -> str:
    if not isinstance(value, str) or value not in choices.values:
        raise RequestError(
            _("Unknown %(what)s “%(value)s”; use one of: %(choices)s.")
            % {"what": what, "value": str(value)[:40], "choices": ", ".join(choices.values)}
        )
    return value


def clean_language(value: Any) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    if isinstance(value, str):
        base = value.split("-")[0].lower()
        if base in codes:
            return base
    return settings.LANGUAGE_CODE
