"""Which Azure REST calls create or change a resource holding personal data, and how to name it in the ledger.

One row per REST operation, written from the service's published contract:

- Face v1.2 (``Azure/azure-rest-api-specs`` ``specification/ai/Face``): PersonGroup / LargePersonGroup
  persons and their faces, FaceList / LargeFaceList faces, PersonDirectory persons and their faces.
- Speech to text ``2024-11-15`` (``specification/cognitiveservices/data-plane/Speech/SpeechToText``):
  ``transcriptions:submit`` and datasets; the older ``v3.x`` paths too. The id is the last segment of
  the ``self`` URL in the answer (``201``).
- Video Indexer (``api.videoindexer.ai``): Upload Video (``POST /{location}/Accounts/{accountId}/Videos``,
  the answer's ``id``) and Update Video Index.
- Blob Storage REST: Put Blob (also from URL), Put Block List, Copy Blob, Append Block, Put Page,
  Incremental Copy, Set Blob Metadata. Every Blob request carries ``x-ms-version``; that header tells a
  Blob call from the others (which never send it).

Not recorded, on purpose: Face Detect (``faceId`` is a 24-hour cache entry that cannot be deleted, only
waited out), Put Block (uncommitted blocks are discarded by the service after a week unless a Put Block
List commits them, which *is* recorded), creating empty containers, groups and lists (they hold no one's
data until a person or face is added), reads and deletes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
VIDEO_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
FACE_PREFIX = r"/face/v1\.[0-9](?:-preview\.[0-9]+)?"
SPEECH_PREFIX = r"/speechtotext(?:/v3\.[0-9])?"
NAME = r"[A-Za-z0-9_\-]{1,64}"  # Face group/list ids: letters, digits, '-' and '_', up to 64
ID = r"[0-9a-fA-F\-]{36}"

# Blob operations told apart by ?comp= (None: no comp parameter).
BLOB_COMPS = {None, "blocklist", "appendblock", "page", "incrementalcopy", "metadata"}


@dataclass(frozen=True)
class Route:
    """One REST operation that leaves a person's data in Azure.

    ``resource_id`` says where the id comes from: ``path:<group>`` (the URL), ``json:<field>`` (the
    answer's body) or ``self`` (the last path segment of the answer's ``self`` URL). ``parents`` maps a
    ledger ``parent_ids`` name to a URL group.
    """

    operation: str
    service: str
    method: str
    pattern: str
    resource_kind: str
    resource_id: str
    payload_kind: str
    id_format: re.Pattern[str] = GUID
    parents: Mapping[str, str] = field(default_factory=dict)
    account_group: str = ""  # a URL group naming the account (Video Indexer); else the endpoint
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile("^" + self.pattern + "$"))

    @property
    def id_from_response(self) -> bool:
        return not self.resource_id.startswith("path:")


def _face(operation: str, method: str, path: str, kind: str, rid: str, **parents: str) -> Route:
    return Route(operation, "face", method, FACE_PREFIX + path, kind, rid, "image", parents=parents)


def _speech(operation: str, method: str, path: str, kind: str, rid: str = "self") -> Route:
    return Route(operation, "speech", method, SPEECH_PREFIX + path, kind, rid, "audio")


ROUTES: tuple[Route, ...] = (
    # --- Face v1.2: PersonGroup -------------------------------------------------------------------
    _face(
        "PersonGroup Person - Create",
        "POST",
        rf"/persongroups/(?P<group>{NAME})/persons",
        "person",
        "json:personId",
        person_group="group",
    ),
    _face(
        "PersonGroup Person - Update",
        "PATCH",
        rf"/persongroups/(?P<group>{NAME})/persons/(?P<person>{ID})",
        "person",
        "path:person",
        person_group="group",
    ),
    _face(
        "PersonGroup Person - Add Face",
        "POST",
        rf"/persongroups/(?P<group>{NAME})/persons/(?P<person>{ID})/persistedfaces",
        "persisted_face",
        "json:persistedFaceId",
        person_group="group",
        person="person",
    ),
    # --- Face v1.2: LargePersonGroup --------------------------------------------------------------
    _face(
        "LargePersonGroup Person - Create",
        "POST",
        rf"/largepersongroups/(?P<group>{NAME})/persons",
        "large_person",
        "json:personId",
        large_person_group="group",
    ),
    _face(
        "LargePersonGroup Person - Update",
        "PATCH",
        rf"/largepersongroups/(?P<group>{NAME})/persons/(?P<person>{ID})",
        "large_person",
        "path:person",
        large_person_group="group",
    ),
    _face(
        "LargePersonGroup Person - Add Face",
        "POST",
        rf"/largepersongroups/(?P<group>{NAME})/persons/(?P<person>{ID})/persistedfaces",
        "large_persisted_face",
        "json:persistedFaceId",
        large_person_group="group",
        person="person",
    ),
    # --- Face v1.2: FaceList / LargeFaceList ------------------------------------------------------
    _face(
        "FaceList - Add Face",
        "POST",
        rf"/facelists/(?P<list>{NAME})/persistedfaces",
        "face_list_face",
        "json:persistedFaceId",
        face_list="list",
    ),
    _face(
        "LargeFaceList - Add Face",
        "POST",
        rf"/largefacelists/(?P<list>{NAME})/persistedfaces",
        "large_face_list_face",
        "json:persistedFaceId",
        large_face_list="list",
    ),
    # --- Face v1.2: PersonDirectory (a face is deleted with its person: the person is the record) ---
    _face("PersonDirectory Person - Create", "POST", r"/persons", "directory_person", "json:personId"),
    _face("PersonDirectory Person - Update", "PATCH", rf"/persons/(?P<person>{ID})", "directory_person", "path:person"),
    _face(
        "PersonDirectory Person - Add Face",
        "POST",
        rf"/persons/(?P<person>{ID})/recognitionModel/(?P<model>recognition_0[1-4])/persistedfaces",
        "directory_person",
        "path:person",
    ),
    # --- Speech to text 2024-11-15 (and v3.x) -----------------------------------------------------
    _speech("Transcriptions - Submit", "POST", r"/transcriptions:submit", "transcription"),
    _speech("Transcriptions - Create (v3.x)", "POST", r"/transcriptions", "transcription"),
    _speech("Transcriptions - Update", "PATCH", rf"/transcriptions/(?P<item>{ID})", "transcription", "path:item"),
    _speech("Datasets - Create", "POST", r"/datasets", "dataset"),
    _speech("Datasets - Upload", "POST", r"/datasets(?::upload|/upload)", "dataset"),
    _speech("Datasets - Update", "PATCH", rf"/datasets/(?P<item>{ID})", "dataset", "path:item"),
    # --- Video Indexer ----------------------------------------------------------------------------
    Route(
        "Videos - Upload Video",
        "video_indexer",
        "POST",
        r"/(?P<location>[A-Za-z0-9\-]{1,64})/Accounts/(?P<account>[A-Za-z0-9\-]{1,64})/Videos",
        "video",
        "json:id",
        "video",
        id_format=VIDEO_ID,
        account_group="account",
    ),
    Route(
        "Videos - Update Video Index",
        "video_indexer",
        "PATCH",
        r"/(?P<location>[A-Za-z0-9\-]{1,64})/Accounts/(?P<account>[A-Za-z0-9\-]{1,64})/Videos/"
        r"(?P<video>[A-Za-z0-9]{1,64})/Index",
        "video",
        "path:video",
        "video",
        id_format=VIDEO_ID,
        account_group="account",
    ),
)

BLOB_OPERATIONS = {
    None: "Put Blob / Put Blob From URL / Copy Blob",
    "blocklist": "Put Block List",
    "appendblock": "Append Block",
    "page": "Put Page",
    "incrementalcopy": "Incremental Copy Blob",
    "metadata": "Set Blob Metadata",
}


@dataclass(frozen=True)
class Match:
    """A request that will leave personal data in Azure: what to record once the answer is in."""

    operation: str
    service: str
    account: str
    resource_kind: str
    payload_kind: str
    resource_id: str = ""  # known from the URL; else read from the answer (``route``)
    parent_ids: dict[str, str] = field(default_factory=dict)
    route: Route | None = None

    @property
    def needs_response(self) -> bool:
        return not self.resource_id


class UnreadableResponse(ValueError):
    """Azure answered success but the answer does not name the resource in the documented way."""


def match(method: str, url: str, headers: Mapping[str, Any]) -> Match | None:
    """The row of the table this request is, or None (nothing to record: reads, deletes, other calls)."""
    method = method.upper()
    if method not in ("PUT", "POST", "PATCH"):
        return None
    parts = urlsplit(url)
    if _has_header(headers, "x-ms-version"):
        return _blob(method, parts, headers)
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.regex.match(parts.path.rstrip("/") or "/")
        if not found:
            continue
        groups = found.groupdict()
        endpoint = f"{parts.scheme}://{parts.netloc}"
        account = groups[route.account_group] if route.account_group else endpoint
        parents = {name: groups[group] for name, group in route.parents.items()}
        rid = groups[route.resource_id[5:]] if not route.id_from_response else ""
        return Match(
            route.operation, route.service, account, route.resource_kind, route.payload_kind, rid, parents, route
        )
    return None


def _has_header(headers: Mapping[str, Any], name: str) -> bool:
    if name in headers:
        return True
    return any(key.lower() == name for key in headers)


def _header(headers: Mapping[str, Any], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def _blob(method: str, parts: Any, headers: Mapping[str, Any]) -> Match | None:
    if method != "PUT":
        return None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "restype" in query:  # containers, service properties
        return None
    comp = query.get("comp")
    if comp not in BLOB_COMPS:
        return None
    if comp is None and not (_has_header(headers, "x-ms-blob-type") or _has_header(headers, "x-ms-copy-source")):
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s != ""]
    host = (parts.hostname or "").lower()
    if ".blob." in host:  # https://<account>.blob.core.windows.net/<container>/<blob>
        account = f"{parts.scheme}://{parts.netloc}"
    else:  # path-style (Azurite, IP endpoints): /<account>/<container>/<blob>
        if len(segments) < 3:
            return None
        account = f"{parts.scheme}://{parts.netloc}/{segments[0]}"
        segments = segments[1:]
    if len(segments) < 2:
        return None
    container, name = segments[0], "/".join(segments[1:])
    content_type = _header(headers, "x-ms-blob-content-type") or _header(headers, "content-type")
    return Match(
        BLOB_OPERATIONS[comp], "blob", account, "blob", payload_kind_of(content_type), name, {"container": container}
    )


def payload_kind_of(content_type: str) -> str:
    major = content_type.split("/", 1)[0].strip().lower()
    return major if major in ("image", "audio", "video", "text") else "other"


def resource_id_from(found: Match, body: Any) -> str:
    """The new resource's id from Azure's answer (already parsed JSON), checked against its documented form."""
    route = found.route
    if route is None or not found.needs_response:
        return found.resource_id
    source = route.resource_id
    value: Any = None
    if isinstance(body, dict):
        if source == "self":
            self_url = body.get("self")
            if isinstance(self_url, str):
                value = urlsplit(self_url).path.rstrip("/").rsplit("/", 1)[-1]
        else:
            value = body.get(source[5:])
    if not isinstance(value, str) or not route.id_format.match(value):
        where = "the last segment of 'self'" if source == "self" else f"'{source[5:]}'"
        raise UnreadableResponse(
            f"{route.operation}: the answer has no well-formed id in {where} (got {str(value)[:80]!r}); "
            "the resource exists in Azure but cannot be recorded"
        )
    return value
