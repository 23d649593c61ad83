"""Limits on what a request may carry, enforced in two central places.

- ``LimitedJSONParser`` (DRF's default JSON parser, see settings) and ``load_json`` for the
  few places that read JSON outside DRF: a size limit, a nesting-depth limit, numbers that
  fit a 64-bit integer or a finite float, strings without control characters or lone
  surrogates, strict UTF-8.
- ``RejectHostileInputMiddleware``: the path and the query string must be valid UTF-8 without
  control characters; ``RejectHostileFormMiddleware`` (after the CSRF check: a body is read only
  once the CSRF cookie is known good, and only up to ``portal.body_limits``) says the same of form
  bodies, urlencoded and multipart. Multipart text fields are decoded with ``MULTIPART_ENCODING``:
  invalid UTF-8 is kept as lone surrogates instead of Django's U+FFFD, so it is refused (400)
  instead of being stored as replacement characters.

PostgreSQL refuses NUL in text (a ``DataError``, i.e. a 500) and Python's JSON decoder
recurses once per nesting level (a ``RecursionError``): both must be refused at the door
with a 400 that says what is wrong, never reach a view. Tab, newline and carriage return
stay allowed in bodies (free text has paragraphs); nothing in a path or query needs them.

Settings: ``PORTAL_MAX_JSON_BYTES`` (default ``DATA_UPLOAD_MAX_MEMORY_SIZE``) and
``PORTAL_MAX_JSON_DEPTH`` (default 32). See docs/security.md ("Input limits").
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

# C0 controls except tab, newline, carriage return; DEL; lone UTF-16 surrogates (not encodable).
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# In a path or query string no control character has any business.
_BAD_IN_URL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
INT64 = 2**63
DEFAULT_MAX_DEPTH = 32
# Django decodes multipart fields with errors="replace" whatever we ask: this codec ignores the
# error mode and keeps invalid bytes as lone surrogates (PEP 383), which ``bad_text`` catches.
MULTIPART_ENCODING = "portal-utf-8-surrogateescape"


def _utf8_surrogateescape(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") != MULTIPART_ENCODING.replace("-", "_"):
        return None
    return codecs.CodecInfo(
        name=MULTIPART_ENCODING,
        encode=lambda text, errors="strict": codecs.utf_8_encode(text, "surrogateescape"),
        decode=lambda data, errors="strict": codecs.utf_8_decode(data, "surrogateescape", True),
    )


codecs.register(_utf8_surrogateescape)
_INVALID_UTF8 = re.compile("[\udc80-\udcff]")


class InputRefused(ValueError):
    """The input breaks a limit; ``str(exc)`` says which, for the person who sent it."""

    def __init__(self, message: str, code: str = "invalid", fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.fields = fields or {}


def max_json_bytes() -> int:
    return int(getattr(settings, "PORTAL_MAX_JSON_BYTES", 0) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def max_json_depth() -> int:
    return int(getattr(settings, "PORTAL_MAX_JSON_DEPTH", 0) or DEFAULT_MAX_DEPTH)


def bad_text(value: str, *, url: bool = False) -> bool:
    """True when ``value`` holds a character no text field may hold."""
    return bool((_BAD_IN_URL if url else _BAD_IN_TEXT).search(value))


def _parse_int(text: str) -> int:
    # Checked on the digits first: int() of a 100,000-digit number is itself slow.
    if len(text.lstrip("-")) > 19 or not -INT64 <= (value := int(text)) < INT64:
        raise InputRefused(
            _("A number in the body is too large: integers must fit in 64 bits (at most %(max)d).")
            % {"max": INT64 - 1},
            code="out_of_range",
        )
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputRefused(
            _("A number in the body is too large to be represented (%(n)s).") % {"n": text[:40]}, code="out_of_range"
        )
    return value


def _parse_constant(name: str) -> float:
    raise InputRefused(_("%(name)s is not a JSON number; send a finite number.") % {"name": name}, code="invalid_json")


_CONTROL_MESSAGE = gettext_noop(
    "Contains a control character (such as NUL) or an unpaired surrogate; "
    "only tab, line feed and carriage return are allowed."
)


def _walk(value: Any, limit: int) -> tuple[str | None, dict[str, list[str]]]:
    """(depth problem, {top-level field: [problem]}) of a parsed JSON value, found iteratively."""
    fields: dict[str, list[str]] = {}
    # (value, depth, the top-level field it belongs to: errors are reported per field)
    stack: list[tuple[Any, int, str]] = [(value, 1, "non_field_errors")]
    while stack:
        item, depth, field = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return _("The JSON body is nested more than %(n)d levels deep.") % {"n": limit}, {}
            if isinstance(item, dict):
                for key, child in item.items():
                    owner = key if depth == 1 else field
                    if bad_text(key):
                        owner = "non_field_errors" if depth == 1 else field
                        fields.setdefault(owner, [_("A field name: %(problem)s") % {"problem": _(_CONTROL_MESSAGE)}])
                        continue
                    stack.append((child, depth + 1, owner))
            else:
                stack.extend((child, depth + 1, field) for child in item)
        elif isinstance(item, str) and bad_text(item):
            fields.setdefault(field, [_(_CONTROL_MESSAGE)])
    return None, fields


def load_json(raw: bytes | str, *, max_bytes: int | None = None, max_depth: int | None = None) -> Any:
    """Parse JSON within the limits, or raise ``InputRefused`` saying which limit was broken."""
    max_bytes = max_json_bytes() if max_bytes is None else max_bytes
    max_depth = max_json_depth() if max_depth is None else max_depth
    if len(raw) > max_bytes:
        raise InputRefused(_("The body is larger than %(n)d bytes; send less.") % {"n": max_bytes}, code="too_large")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputRefused(
                _("The body is not valid UTF-8 (byte %(pos)d).") % {"pos": exc.start}, code="invalid_encoding"
            )
    else:
        text = raw
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except InputRefused:
        raise
    except RecursionError:
        # The C decoder stops itself at the interpreter's recursion limit (~1000 levels).
        raise InputRefused(
            _("The JSON body is nested more than %(n)d levels deep.") % {"n": max_depth}, code="too_deep"
        )
    except ValueError as exc:
        raise InputRefused(_("The body is not valid JSON: %(error)s.") % {"error": exc}, code="invalid_json")
    too_deep, fields = _walk(value, max_depth)
    if too_deep:
        raise InputRefused(too_deep, code="too_deep")
    if fields:
        raise InputRefused(_("Some fields are not valid."), fields=fields)
    return value


class LimitedJSONParser(JSONParser):  # type: ignore[misc]  # DRF ships no type hints
    """DRF's JSON parser with the limits of ``load_json``; errors are 400 with a clear message."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        if stream is None:
            return None
        limit = max_json_bytes()
        raw = stream.read(limit + 1)
        try:
            return load_json(raw, max_bytes=limit)
        except InputRefused as exc:
            if exc.fields:
                raise ValidationError(exc.fields)
            error = ParseError(str(exc))
            error.default_code = exc.code  # shown as "code" by portal.api_errors
            raise error


def _url_problem(request: HttpRequest) -> tuple[int, str] | None:
    if bad_text(request.path, url=True):
        # Every path parameter here looks something up: no such thing exists.
        return 404, _("No page has a control character in its address.")
    query = request.META.get("QUERY_STRING", "")
    if query:
        try:
            decoded = unquote_to_bytes(query.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            return 400, _("The query string is not valid UTF-8.")
        if bad_text(decoded, url=True):
            return 400, _("A query parameter contains a control character (such as NUL), which is not allowed.")
    return None


def _form_problem(request: HttpRequest) -> str | None:
    content_type = request.META.get("CONTENT_TYPE", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    try:
        return _form_fields_problem(request, content_type)
    except RequestDataTooBig:
        return _("The form data is larger than %(n)d bytes.") % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    except (TooManyFieldsSent, TooManyFilesSent):
        return _("The form has too many fields or files.")
    except MultiPartParserError as exc:
        return _("The form data could not be read: %(error)s") % {"error": exc}


def _form_fields_problem(request: HttpRequest, content_type: str) -> str | None:
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = request.body  # bounded by portal.body_limits and DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            unquote_to_bytes(body.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return _("The form data is not valid UTF-8.")
    texts = [(key, values) for key, values in request.POST.lists()]
    texts += [(key, [upload.name or "" for upload in uploads]) for key, uploads in request.FILES.lists()]
    for key, values in texts:
        if any(_INVALID_UTF8.search(text) for text in (key, *values)):
            return _("The form field %(field)s is not valid UTF-8.") % {
                "field": key.encode("utf-8", "replace").decode("utf-8")[:80]
            }
        if bad_text(key) or any(bad_text(value) for value in values):
            return _(
                "A form field contains a control character (such as NUL); only tab, line feed and "
                "carriage return are allowed."
            )
    return None


def refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        code = "not_found" if status == 404 else "invalid"
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    return render(request, "404.html" if status == 404 else "400.html", {"message": message}, status=status)


class RejectHostileInputMiddleware:
    """Refuses control characters and invalid UTF-8 in the path and the query string.

    Reads no body: for multipart bodies it only chooses the decoding (``MULTIPART_ENCODING``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = _url_problem(request)
        if problem is not None:
            return refuse(request, *problem)
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type.startswith("multipart/form-data") and "charset=" not in content_type.lower():
            request.encoding = MULTIPART_ENCODING
        return self.get_response(request)

    refuse = staticmethod(refuse)


class RejectHostileFormMiddleware:
    """Refuses control characters and invalid UTF-8 in form bodies (urlencoded and multipart).

    Runs as ``process_view`` after ``CsrfViewMiddleware``: a POST that fails the CSRF cookie check
    is refused before anything reads its body. JSON bodies are the parser's job
    (``LimitedJSONParser``): this middleware never reads them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method not in ("POST", "PUT", "PATCH"):
            return None
        message = _form_problem(request)
        return refuse(request, 400, message) if message else None
