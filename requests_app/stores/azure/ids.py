"""Azure resource ids: what each kind's ids look like, and how one goes into a URL path.

Two guards, because an id that climbs out of its item reaches someone else's
data (a ledger ``resource_id`` of ``..`` once turned "delete this face" into
"delete the whole face list"):

1. **At the border** (the ledger API, the stores file): every id is checked
   against the format Azure documents for its kind, and refused with a message
   naming the field. The store kinds own these facts (``ledger_id_errors`` on
   each store class uses the checks below).
2. **Where a request is built**: ``item_path`` puts each id into the path as
   exactly one quoted segment (``urllib.parse.quote(id, safe="")``) and refuses
   ``.``, ``..``, empty, over-long ids and ids holding ``/ \\ ? # %`` or
   control characters — even ids that passed the border, since rows recorded
   before it existed never did. The client refuses any path with a dot
   segment or an encoded separator (``check_path``). A refusal is an
   ``UnsafeIdError`` (permanent): the item is reported as left, never as
   deleted.

Formats (Azure REST references): Face person ids, persisted face ids and
detection face ids are GUIDs; Face group and list ids match
``^[a-z0-9-_]{1,64}$``; Speech transcriptions and datasets are GUIDs; Video
Indexer video ids are 10 letters or digits; Blob container names are 3-63
lower-case letters, digits and single hyphens; blob names 1-1024 characters.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote, urlsplit

from django.utils.translation import gettext as _

from requests_app.stores.base import PermanentStoreError

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
FACE_CONTAINER_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9]{10}$")
CONTAINER_RE = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$")
SPECIAL_CONTAINERS = frozenset({"$root", "$web"})
MAX_BLOB_NAME = 1024
MAX_SEGMENT = 256  # longer than any id Azure issues for the AI services
# Never inside one path segment, quoted or not: separators, query, fragment, escapes.
SEGMENT_FORBIDDEN = frozenset("/\\?#%")
# In a built path: encoded separators or dots would be decoded into another path by some server.
ENCODED_FORBIDDEN = re.compile(r"%(?:2f|5c|2e|3f|23|00)", re.I)


class UnsafeIdError(PermanentStoreError):
    """An id that would not stay inside its item's path: the item is left for a person, never "deleted"."""


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


# --- the formats (None = fine; otherwise what is allowed, for a 400 or the stores check) ----------
def guid_problem(value: str) -> str | None:
    if GUID_RE.fullmatch(value or ""):
        return None
    return _("Must be a GUID as Azure issues it, e.g. 3fa85f64-5717-4562-b3fc-2c963f66afa6.")


def face_container_problem(value: str) -> str | None:
    if FACE_CONTAINER_RE.fullmatch(value or ""):
        return None
    return _("Must be a Face group or list id: 1-64 lower-case letters, digits, '-' or '_'.")


def video_id_problem(value: str) -> str | None:
    if VIDEO_ID_RE.fullmatch(value or ""):
        return None
    return _("Must be a Video Indexer video id: 10 letters or digits, e.g. 3a2e55f3d8.")


def container_problem(value: str) -> str | None:
    if CONTAINER_RE.fullmatch(value or "") or value in SPECIAL_CONTAINERS:
        return None
    return _(
        "Must be a Blob container name: 3-63 lower-case letters, digits and single hyphens, "
        "starting and ending with a letter or digit."
    )


def blob_name_problem(value: str) -> str | None:
    """Azure's blob naming rules, plus what would let a name climb out of its container."""
    if not value or len(value) > MAX_BLOB_NAME:
        return _("Must be a blob name of 1-%(n)d characters.") % {"n": MAX_BLOB_NAME}
    if _has_control(value):
        return _("A blob name must not contain control characters.")
    if "\\" in value:
        return _("A blob name must not contain a backslash (Azure reads it as '/').")
    if value.startswith("/") or value.endswith((".", "/")):
        return _("A blob name must not start with '/' nor end with '.' or '/'.")
    if any(part in (".", "..") for part in value.split("/")):
        return _("A blob name must not contain '.' or '..' path segments.")
    if ENCODED_FORBIDDEN.search(value):
        return _("A blob name must not contain an encoded '/', '\\', '.', '?', '#' or NUL.")
    return None


def problems(checks: dict[str, object], values: dict[str, str]) -> dict[str, list[str]]:
    """Run ``{field: check}`` over ``values``: ``{field: [message]}`` for each id that fails."""
    errors: dict[str, list[str]] = {}
    for name, check in checks.items():
        value = values.get(name)
        problem = _("This field is required.") if not isinstance(value, str) or not value else check(value)  # type: ignore[operator]
        if problem:
            errors[name] = [problem]
    return errors


# --- building paths --------------------------------------------------------------------------------
def segment(value: object, what: str = "id") -> str:
    """One id as exactly one quoted path segment; ``UnsafeIdError`` if it cannot be one."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise UnsafeIdError(f"{what} {value!r} is empty or a dot segment; refused")
    if len(value) > MAX_SEGMENT:
        raise UnsafeIdError(f"{what} is {len(value)} characters long (at most {MAX_SEGMENT}); refused")
    if SEGMENT_FORBIDDEN & set(value) or _has_control(value):
        raise UnsafeIdError(f"{what} {value[:80]!r} holds '/', '\\', '?', '#', '%' or a control character; refused")
    return quote(value, safe="")


def item_path(template: str, *ids: str, what: str = "id") -> str:
    """``item_path("persongroups/{}/persons/{}", group, person)``: each ``{}`` one quoted id.

    The result has exactly as many segments as the template, so a deletion
    built from it can only ever name the item, never the group, list, model or
    account above it.
    """
    pieces = template.split("/")
    if pieces.count("{}") != len(ids):
        raise ValueError(f"{template!r} takes {pieces.count('{}')} ids, got {len(ids)}")
    values = iter(ids)
    built = [segment(next(values), what) if piece == "{}" else piece for piece in pieces]
    path = "/".join(built)
    if len(path.split("/")) != len(pieces):
        raise UnsafeIdError(f"{what}: the path would leave its item; refused")
    check_path(path)
    return path


def check_path(path: str) -> None:
    """Refuse a path (relative, or a link Azure sent) that could resolve outside where it points.

    Relative paths are built by ``item_path`` or are fixed collection names: no
    empty, ``.`` or ``..`` segment, no ``? # \\``, no encoded separator. A
    link's query is Azure's own and is left alone; its path is checked the same way.
    """
    absolute = "://" in path
    where = urlsplit(path).path if absolute else path
    if not absolute and any(ch in path for ch in "?#\\"):
        raise UnsafeIdError(f"path {path[:120]!r} holds '?', '#' or '\\'; refused")
    parts = [part for part in where.split("/") if part] if absolute else where.split("/")
    for part in parts:
        if part in ("", ".", "..") or unquote(part) in (".", ".."):
            raise UnsafeIdError(f"path {path[:120]!r} has an empty or dot segment; refused")
    if ENCODED_FORBIDDEN.search(where) or _has_control(path):
        raise UnsafeIdError(f"path {path[:120]!r} holds an encoded separator or a control character; refused")
