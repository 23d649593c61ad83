"""Azure AI Face (v1.2): persons and face templates the host app stored.

What Face keeps: persons (with their persisted face templates) in PersonGroups
and LargePersonGroups, faces in FaceLists and LargeFaceLists, and persons in
the PersonDirectory. Detection ``faceId``s are not stored: they expire by
themselves within 24 hours.

Found two ways, both always honoured:

- the ledger: every row the host app recorded for the subject
  (``resource_kind`` person, large_person, persisted_face, large_persisted_face,
  face_list_face, large_face_list_face, directory_person, detection);
- the configuration: persons whose ``userData`` is the subject's identity
  (``match``, default ``user_id``; plain value or a JSON object holding it) in
  ``person_groups`` / ``large_person_groups`` / the ``person_directory``, faces
  whose ``userData`` matches in ``face_lists`` / ``large_face_lists``, and
  persons named by a ``face_person_id`` identity another store provides.

Deleting: 200 (or 404: already gone) per item; PersonDirectory answers 202
and an ``Operation-Location`` polled until it succeeds; 409 while a group is
training is transient (the engine retries later). Every call passes the shared
token bucket (``max_tps``, default 10 = the S0 tier).

```toml
[[store]]
name = "face"
kind = "azure_face"
endpoint = "${AZURE_FACE_ENDPOINT}"
key = "${AZURE_FACE_KEY}"          # or auth = "entra"
person_groups = ["app-users"]
large_person_groups = []
face_lists = []
large_face_lists = []
person_directory = false
match = "user_id"
max_tps = 10
```
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

from requests_app.stores.azure import face_items, ids
from requests_app.stores.azure.auth import COGNITIVE_SCOPE, entra_credential
from requests_app.stores.azure.client import AzureRestClient
from requests_app.stores.azure.common import (
    AzureStore,
    placeholders,
    report_unsafe,
    split_unsafe,
    template_identity,
    template_matches,
    without_unsafe,
)
from requests_app.stores.azure.face_items import (
    PAGE,
    ROW_PATHS,
    FaceItem,
    _path,
    _safe,
    id_errors,
    wait_operation,
)
from requests_app.stores.base import (
    Discovery,
    ExportSink,
    LedgerRow,
    Outcome,
    Retention,
    ScanHit,
    Subject,
)


class AzureFaceStore(AzureStore):
    kind = "azure_face"
    services: ClassVar[frozenset[str]] = frozenset({"face"})
    # A detection is recorded too: Azure keeps its faceId 24 hours, nothing to delete.
    resource_kinds: ClassVar[dict[str, frozenset[str]]] = {"face": frozenset({*ROW_PATHS, "detection"})}
    service_label = "Azure AI Face"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return face_items.config_errors(config)

    def __init__(self, name: str, config: dict[str, Any]):
        super().__init__(name, config)
        self._client: AzureRestClient | None = None

    @property
    def needs(self) -> set[str]:
        return self._match_kinds() if self._has_config_discovery() else set()

    def _match_kinds(self) -> set[str]:
        if self.config.get("user_data"):
            return placeholders([self.config["user_data"]])
        return {self.config.get("match", "user_id")}

    @property
    def uses(self) -> set[str]:
        # A person id another store keeps (the host DB's face_person_id column) is looked up
        # directly in the configured groups: workers and dry runs alike.
        groups = self.config.get("person_groups") or self.config.get("large_person_groups")
        return self.needs | ({"face_person_id"} if groups else set())

    @property
    def provides(self) -> set[str]:
        return {"face_person_id"} if self._has_config_discovery() else set()

    def _has_config_discovery(self) -> bool:
        c = self.config
        return bool(
            c.get("person_groups")
            or c.get("large_person_groups")
            or c.get("face_lists")
            or c.get("large_face_lists")
            or c.get("person_directory")
        )

    def account_values(self) -> list[str]:
        return [self.config.get("endpoint", "")]

    @property
    def client(self) -> AzureRestClient:
        if self._client is None:
            auth_entra = self.config.get("auth") == "entra" or not self.config.get("key")
            self._client = AzureRestClient(
                base_url=self.config["endpoint"].rstrip("/") + "/face/" + self.config.get("api_version", "v1.2"),
                store=self.name,
                service=self.service_label,
                key=None if auth_entra else self.config["key"],
                credential=entra_credential(self.config) if auth_entra else None,
                scopes=(COGNITIVE_SCOPE,),
                bucket=self.bucket(10),
                backoff=float(self.config.get("retry_backoff", 0.5)),
            )
        return self._client

    @classmethod
    def ledger_id_errors(cls, resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
        return id_errors(resource_kind, resource_id, parent_ids)

    def check_connection(self) -> None:
        for group in self.config.get("person_groups", []):
            path = ids.item_path("persongroups/{}/persons", group, what="person group")
            self.client.send("GET", path, params={"top": 1}, what="check")

    # --- finding -----------------------------------------------------------------------------
    def _matches(self, user_data: str | None, subject: Subject) -> bool:
        """Whether a person's or face's ``userData`` names the subject.

        With ``user_data = "user:{user_id}"`` (a template of the host app's own
        format, ``*`` for any text) the template decides; otherwise ``match``:
        the identity itself, or a JSON object holding it under that key.
        """
        if self.config.get("user_data"):
            return template_matches(self.config["user_data"], user_data, subject)
        kind = self.config.get("match", "user_id")
        values = subject.values(kind)
        if not user_data or not values:
            return False
        if user_data in values:
            return True
        try:
            data = json.loads(user_data)
        except ValueError:
            return False
        return isinstance(data, dict) and str(data.get(kind, "")) in values

    def _paged(self, path: str, id_field: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start = ""
        while True:
            params: dict[str, Any] = {"top": PAGE}
            if start:
                params["start"] = start
            response = self.client.send("GET", path, params=params, what=path)
            if response.status_code == 404:
                return items  # the group/list no longer exists: nothing in it
            chunk = self.client.json(response)
            items.extend(chunk)
            if len(chunk) < PAGE:
                return items
            start = chunk[-1][id_field]

    def _configured_items(self, subject: Subject) -> list[FaceItem]:
        """Items found through the configuration (not for purpose-scoped erasure: the ledger says which)."""
        if subject.purpose:
            return []
        values = set().union(*(subject.values(kind) for kind in self._match_kinds()))
        found = list(self._group_persons(subject, bool(values), subject.values("face_person_id")))
        if values:
            found += [item for item, user_data in self._listed_faces() if self._matches(user_data, subject)]
            if self.config.get("person_directory"):
                for person in self._paged("persons", "personId"):
                    if self._matches(person.get("userData"), subject):
                        found.append(FaceItem("directory_person", _path("persons/{}", person["personId"])))
        return list(dict.fromkeys(found))

    def _group_persons(self, subject: Subject, by_user_data: bool, person_ids: set[str]) -> Iterator[FaceItem]:
        """Persons of the configured groups: those whose userData names the subject, and its person ids."""
        for item_kind, path_kind, field in (
            ("person", "persongroups", "person_groups"),
            ("large_person", "largepersongroups", "large_person_groups"),
        ):
            for group in self.config.get(field, []):
                for person in self._paged(_path(path_kind + "/{}/persons", group), "personId") if by_user_data else ():
                    if self._matches(person.get("userData"), subject):
                        yield FaceItem(item_kind, _path(path_kind + "/{}/persons/{}", group, person["personId"]))
                for person_id in person_ids:
                    if ids.GUID_RE.fullmatch(person_id) is None:
                        continue  # another store's value that cannot be a Face person id
                    path = _path(path_kind + "/{}/persons/{}", group, person_id)
                    if self.client.send("GET", path, what="person").status_code == 200:
                        yield FaceItem(item_kind, path)

    def _listed_faces(self) -> Iterator[tuple[FaceItem, str | None]]:
        """(item, userData) of every face in the configured FaceLists and LargeFaceLists.

        A FaceList answers its faces in one ``GET facelists/{id}`` (at most 1,000,
        no paging); a LargeFaceList pages ``persistedfaces`` with start/top.
        """
        for list_id in self.config.get("face_lists", []):
            response = self.client.send("GET", _path("facelists/{}", list_id), what="face list")
            if response.status_code == 200:
                for face in self.client.json(response).get("persistedFaces", []):
                    path = _path("facelists/{}/persistedfaces/{}", list_id, face["persistedFaceId"])
                    yield FaceItem("face_list_face", path), face.get("userData")
        for list_id in self.config.get("large_face_lists", []):
            for face in self._paged(_path("largefacelists/{}/persistedfaces", list_id), "persistedFaceId"):
                path = _path("largefacelists/{}/persistedfaces/{}", list_id, face["persistedFaceId"])
                yield FaceItem("large_face_list_face", path), face.get("userData")

    def _identity(self, user_data: str | None) -> tuple[str, str] | None:
        """Whose a person or face is by its ``userData`` (the inverse of ``_matches``)."""
        if not user_data:
            return None
        if self.config.get("user_data"):
            return template_identity(self.config["user_data"], user_data)
        kind = self.config.get("match", "user_id")
        try:
            data = json.loads(user_data)
        except ValueError:
            return kind, user_data
        if isinstance(data, dict) and data.get(kind) not in (None, ""):
            return kind, str(data[kind])
        return (kind, user_data) if not isinstance(data, dict) else None

    def scan(self) -> Iterator[ScanHit]:
        """Persons (groups and PersonDirectory) and list faces whose userData names a subject (GET only, paged)."""
        for item_kind, path_kind, field in (
            ("person", "persongroups", "person_groups"),
            ("large_person", "largepersongroups", "large_person_groups"),
        ):
            for group in self.config.get(field, []):
                for person in self._paged(_path(path_kind + "/{}/persons", group), "personId"):
                    identity = self._identity(person.get("userData"))
                    if identity:
                        where = _path(path_kind + "/{}/persons/{}", group, person["personId"])
                        yield ScanHit(item_kind, where, *identity)
        for item, user_data in self._listed_faces():
            identity = self._identity(user_data)
            if identity:
                yield ScanHit(item.kind, item.path, *identity)
        if self.config.get("person_directory"):
            for person in self._paged("persons", "personId"):
                identity = self._identity(person.get("userData"))
                if identity:
                    yield ScanHit("directory_person", _path("persons/{}", person["personId"]), *identity)

    def _read(self, item: FaceItem) -> dict[str, Any] | None:
        response = self.client.send("GET", item.path, what=item.kind.replace("_", " "))
        return self.client.json(response) if response.status_code == 200 else None

    def _inventory(
        self, subject: Subject
    ) -> tuple[list[tuple[LedgerRow, FaceItem | None]], list[FaceItem], list[tuple[LedgerRow, str]]]:
        """(ledger rows with their items, items found through the config, rows with unsafe ids)."""
        rows, unsafe = split_unsafe(subject.ledger, FaceItem.from_row)
        ledger_paths = {item.path for _, item in rows if item}
        extra = [item for item in self._configured_items(subject) if item.path not in ledger_paths]
        return rows, extra, unsafe

    # --- the contract -----------------------------------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        rows, extra, unsafe = self._inventory(subject)
        detail: dict[str, int] = {}
        found = len(unsafe)  # cannot be looked up, so cannot be called gone
        if unsafe:
            detail["ledger_unsafe_ids"] = len(unsafe)
        person_ids: set[str] = set()
        for row, item in rows:
            present = item is None or self._read(item) is not None
            if present:
                found += 1
                detail[f"ledger_{row.resource_kind}"] = detail.get(f"ledger_{row.resource_kind}", 0) + 1
        for item in extra:
            found += 1
            detail[item.kind] = detail.get(item.kind, 0) + 1
            if item.kind in ("person", "large_person", "directory_person"):
                person_ids.add(item.path.rsplit("/", 1)[-1])
        return Discovery(found=found, provides={"face_person_id": person_ids} if person_ids else {}, counts=detail)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        rows, extra, unsafe = self._inventory(subject)
        count = 0
        with sink.records("face") as writer:
            for row, item in [*rows, *((row, None) for row, _ in unsafe)]:
                data = self._read(item) if item else None
                writer.write(
                    {
                        "kind": row.resource_kind,
                        "id": row.resource_id,
                        "parents": row.parent_ids,
                        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                        "stored_by_microsoft": _safe(data),
                        "note": ""
                        if item or row.resource_kind in ROW_PATHS
                        else "detection faceIds expire within 24 hours",
                    }
                )
                count += 1
            for item in extra:
                writer.write({"kind": item.kind, "path": item.path, "stored_by_microsoft": _safe(self._read(item))})
                count += 1
        return Outcome(exported=count, detail={"items": count})

    def erase(self, subject: Subject) -> Outcome:
        rows, extra, unsafe = self._inventory(subject)
        outcome = Outcome()
        detail = outcome.detail
        report_unsafe(outcome, unsafe)
        deleted: set[str] = set()
        for item in extra:  # configured finds first: a person delete also removes its faces
            if self._delete(item):
                outcome.erased += 1
                detail[item.kind] = detail.get(item.kind, 0) + 1
            deleted.add(item.path)
        for row, row_item in rows:
            if row_item is None:
                outcome.ledger.gone.append(row.id)
                outcome.ledger.notes[row.id] = "detection faceIds expire within 24 hours by themselves"
                detail["detection_expired"] = detail.get("detection_expired", 0) + 1
                continue
            if self._delete(row_item):
                outcome.ledger.erased.append(row.id)
                outcome.erased += 1
                detail[f"ledger_{row.resource_kind}"] = detail.get(f"ledger_{row.resource_kind}", 0) + 1
            else:  # 404: already gone (e.g. a face of a person deleted above)
                outcome.ledger.gone.append(row.id)
                detail["ledger_already_gone"] = detail.get("ledger_already_gone", 0) + 1
        if outcome.erased:
            outcome.retention.append(Retention("face_deleted", count=outcome.erased))
        if detail.get("detection_expired"):
            outcome.retention.append(Retention("detection_expired", count=detail["detection_expired"]))
        return outcome

    def verify_gone(self, subject: Subject) -> Discovery:
        subject = without_unsafe(subject, FaceItem.from_row)
        found = self.discover(subject)
        still = 0
        for row in subject.erased_ledger:
            item = FaceItem.from_row(row)
            if item and self._read(item) is not None:
                still += 1
        if still:
            found.found += still
            found.counts["deleted_but_still_readable"] = still
        return found

    def _delete(self, item: FaceItem) -> bool:
        """Delete one item: True if deleted now, False if it was already gone (404)."""
        response = self.client.send("DELETE", item.path, what=f"delete {item.kind.replace('_', ' ')}")
        if response.status_code == 202:
            wait_operation(self.client, self.name, response.headers.get("Operation-Location", ""))
        return response.status_code != 404
