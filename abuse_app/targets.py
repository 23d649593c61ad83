"""What a notice is about: a URL or a content id, normalised so duplicates group.

Two reports of ``HTTPS://Example.com:443/p/1/?utm_source=x#top`` and
``https://example.com/p/1`` are about the same thing. Normalising: scheme and
host lower-cased, default ports dropped, the fragment and tracking parameters
removed, remaining query parameters sorted, a trailing slash removed (except
the root), ``.``/``..`` segments resolved. Content ids (from the host app or a
reporter who copied one) are kept as they are, trimmed.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_ga",
    "ref_src",
    "si",
}
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}
CONTENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,199}$")
MAX_LOCATIONS = 20


@dataclass(frozen=True)
class Target:
    key: str  # "url:<normalised>" or "content:<id>"
    display: str


def normalise_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("not an http(s) URL")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise ValueError("no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("bad port")
    netloc = host if ":" not in host else f"[{host}]"
    if port and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = posixpath.normpath(unquote(parts.path)) if parts.path else "/"
    if path in (".", "//"):
        path = "/"
    path = quote(path, safe="/:@!$&'()*+,;=-._~")
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def parse_location(raw: str) -> Target:
    value = raw.strip()
    if "://" in value or value.lower().startswith(("http:", "https:", "www.")):
        if value.lower().startswith("www."):
            value = "https://" + value
        try:
            url = normalise_url(value)
        except ValueError:
            raise ValidationError(
                _(
                    "“%(value)s” is not a web address we can use. Copy the full address from your browser, "
                    "starting with https://."
                )
                % {"value": raw.strip()[:80]}
            )
        return Target(key=f"url:{url}"[:600], display=url[:600])
    if not CONTENT_ID.match(value):
        raise ValidationError(
            _("“%(value)s” is neither a web address (https://…) nor a content id (letters, digits and . _ : / -).")
            % {"value": value[:80]}
        )
    return Target(key=f"content:{value}", display=value)


def parse_locations(raw: str | list[str]) -> list[Target]:
    """One location per line (or a list); duplicates after normalisation are merged."""
    items = raw if isinstance(raw, list) else str(raw).splitlines()
    values = [str(item).strip() for item in items if str(item).strip()]
    if not values:
        raise ValidationError(_("Tell us where the content is: at least one web address or content id."))
    if len(values) > MAX_LOCATIONS:
        raise ValidationError(_("Please list at most %(max)d places in one report.") % {"max": MAX_LOCATIONS})
    targets: dict[str, Target] = {}
    errors = []
    for value in values:
        try:
            target = parse_location(value)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        targets.setdefault(target.key, target)
    if errors:
        raise ValidationError(errors)
    return list(targets.values())
