"""Fake Azure AI Face v1.2: (Large)PersonGroup persons and faces, (Large)FaceList faces, PersonDirectory.

Contract (Face v1.2 REST): key in ``Ocp-Apim-Subscription-Key``; lists page with
``start`` (exclusive id) and ``top`` (≤ 1000); deletes answer 200, then 404
``PersonNotFound``/``PersistedFaceNotFound``; a group being trained answers 409
``PersonGroupTrainingNotFinished`` to changes; PersonDirectory deletes answer
202 with ``Operation-Location`` (``/operations/{id}``), polled until
``succeeded``.
"""

from __future__ import annotations

import uuid
from typing import Any

from requests_app.stores.azure.fakes.base import FakeAzureServer, FakeRequest, Reply, RouteSpec, page

API = "/face/v1.2"
ID = r"[A-Za-z0-9_\-]+"


class FakeFace(FakeAzureServer):
    service = "face"

    def __init__(self, key: str = "face-key", **knobs: Any):
        super().__init__(**knobs)
        self.key = key
        # group kind ("persongroups"/"largepersongroups") → group id → {"training": bool, "persons": {...}}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {"persongroups": {}, "largepersongroups": {}}
        # list kind ("facelists"/"largefacelists") → list id → {persistedFaceId: userData}
        self.lists: dict[str, dict[str, dict[str, str]]] = {"facelists": {}, "largefacelists": {}}
        self.directory: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.operation_polls_before_done = 1

    # --- seeding (what the host app would have created) --------------------------------
    def add_group(self, group_id: str, large: bool = False) -> None:
        self.groups["largepersongroups" if large else "persongroups"].setdefault(
            group_id, {"training": False, "persons": {}}
        )

    def add_person(
        self, group_id: str, user_data: str = "", faces: int = 1, large: bool = False, name: str = "person"
    ) -> tuple[str, list[str]]:
        self.add_group(group_id, large)
        person_id = str(uuid.uuid4())
        face_ids = [str(uuid.uuid4()) for _ in range(faces)]
        with self.lock:
            self.groups["largepersongroups" if large else "persongroups"][group_id]["persons"][person_id] = {
                "personId": person_id,
                "name": name,
                "userData": user_data,
                "persistedFaceIds": list(face_ids),
            }
        return person_id, face_ids

    def add_list_face(self, list_id: str, user_data: str = "", large: bool = False) -> str:
        face_id = str(uuid.uuid4())
        with self.lock:
            self.lists["largefacelists" if large else "facelists"].setdefault(list_id, {})[face_id] = user_data
        return face_id

    def add_directory_person(self, user_data: str = "", name: str = "person") -> str:
        person_id = str(uuid.uuid4())
        with self.lock:
            self.directory[person_id] = {"personId": person_id, "name": name, "userData": user_data}
        return person_id

    def set_training(self, group_id: str, training: bool, large: bool = False) -> None:
        self.groups["largepersongroups" if large else "persongroups"][group_id]["training"] = training

    def person_count(self) -> int:
        return sum(len(g["persons"]) for kind in self.groups.values() for g in kind.values()) + len(self.directory)

    def face_count(self) -> int:
        return sum(len(faces) for kind in self.lists.values() for faces in kind.values())

    # --- contract ------------------------------------------------------------------------
    def authorised(self, request: FakeRequest) -> Reply | None:
        if request.headers.get("ocp-apim-subscription-key") != self.key:
            return self.error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint.")
        return None

    def routes(self) -> list[RouteSpec]:
        groups = r"(?P<kind>persongroups|largepersongroups)/(?P<group>" + ID + ")"
        lists = r"(?P<kind>facelists|largefacelists)/(?P<list_id>" + ID + ")"
        return [
            ("DELETE", f"{API}/{groups}", self.delete_group),
            ("GET", f"{API}/{groups}/persons", self.list_persons),
            ("GET", f"{API}/{groups}/persons/(?P<person>{ID})", self.get_person),
            ("DELETE", f"{API}/{groups}/persons/(?P<person>{ID})", self.delete_person),
            (
                "GET",
                f"{API}/{groups}/persons/(?P<person>{ID})/persistedfaces/(?P<face>{ID})",
                self.get_person_face,
            ),
            (
                "DELETE",
                f"{API}/{groups}/persons/(?P<person>{ID})/persistedfaces/(?P<face>{ID})",
                self.delete_person_face,
            ),
            ("GET", f"{API}/{lists}", self.get_list),
            ("DELETE", f"{API}/{lists}", self.delete_list),
            ("GET", f"{API}/{lists}/persistedfaces", self.list_large_faces),
            ("GET", f"{API}/{lists}/persistedfaces/(?P<face>{ID})", self.get_list_face),
            ("DELETE", f"{API}/{lists}/persistedfaces/(?P<face>{ID})", self.delete_list_face),
            ("GET", f"{API}/persons", self.list_directory),
            ("GET", f"{API}/persons/(?P<person>{ID})", self.get_directory_person),
            ("DELETE", f"{API}/persons/(?P<person>{ID})", self.delete_directory_person),
            ("GET", f"{API}/operations/(?P<operation>{ID})", self.get_operation),
        ]

    def _group(self, kind: str, group: str) -> dict[str, Any] | None:
        return self.groups[kind].get(group)

    def _group_missing(self, kind: str) -> Reply:
        code = "LargePersonGroupNotFound" if kind.startswith("large") else "PersonGroupNotFound"
        return self.error(404, code, "Person group is not found.")

    def delete_group(self, request: FakeRequest, kind: str, group: str) -> Reply:
        """Delete a whole (Large)PersonGroup with every person in it (200; 404 if unknown)."""
        if self.groups[kind].pop(group, None) is None:
            return self._group_missing(kind)
        return Reply(200)

    def list_persons(self, request: FakeRequest, kind: str, group: str) -> Reply:
        found = self._group(kind, group)
        if found is None:
            return self._group_missing(kind)
        return Reply(
            200,
            page(
                list(found["persons"].values()),
                request.query.get("start"),
                request.query.get("top"),
                "personId",
            ),
        )

    def get_person(self, request: FakeRequest, kind: str, group: str, person: str) -> Reply:
        found = self._group(kind, group)
        if found is None:
            return self._group_missing(kind)
        if person not in found["persons"]:
            return self.error(404, "PersonNotFound", "Person is not found.")
        return Reply(200, found["persons"][person])

    def _training_conflict(self, kind: str) -> Reply:
        code = "LargePersonGroupTrainingNotFinished" if kind.startswith("large") else "PersonGroupTrainingNotFinished"
        return self.error(409, code, "Person group is under training.")

    def delete_person(self, request: FakeRequest, kind: str, group: str, person: str) -> Reply:
        found = self._group(kind, group)
        if found is None:
            return self._group_missing(kind)
        if person not in found["persons"]:
            return self.error(404, "PersonNotFound", "Person is not found.")
        if found["training"]:
            return self._training_conflict(kind)
        del found["persons"][person]
        return Reply(200)

    def get_person_face(self, request: FakeRequest, kind: str, group: str, person: str, face: str) -> Reply:
        found = self._group(kind, group)
        record = found["persons"].get(person) if found else None
        if record is None:
            return self.error(404, "PersonNotFound", "Person is not found.")
        if face not in record["persistedFaceIds"]:
            return self.error(404, "PersistedFaceNotFound", "Persisted face is not found.")
        return Reply(200, {"persistedFaceId": face, "userData": ""})

    def delete_person_face(self, request: FakeRequest, kind: str, group: str, person: str, face: str) -> Reply:
        found = self._group(kind, group)
        record = found["persons"].get(person) if found else None
        if record is None:
            return self.error(404, "PersonNotFound", "Person is not found.")
        if face not in record["persistedFaceIds"]:
            return self.error(404, "PersistedFaceNotFound", "Persisted face is not found.")
        if found and found["training"]:
            return self._training_conflict(kind)
        record["persistedFaceIds"].remove(face)
        return Reply(200)

    def _list_missing(self, kind: str) -> Reply:
        code = "LargeFaceListNotFound" if kind.startswith("large") else "FaceListNotFound"
        return self.error(404, code, "Face list is not found.")

    def get_list(self, request: FakeRequest, kind: str, list_id: str) -> Reply:
        faces = self.lists[kind].get(list_id)
        if faces is None:
            return self._list_missing(kind)
        body: dict[str, Any] = {
            "faceListId" if kind == "facelists" else "largeFaceListId": list_id,
            "name": list_id,
            "userData": "",
        }
        if kind == "facelists":
            body["persistedFaces"] = [{"persistedFaceId": f, "userData": u} for f, u in faces.items()]
        return Reply(200, body)

    def delete_list(self, request: FakeRequest, kind: str, list_id: str) -> Reply:
        """Delete a whole (Large)FaceList with every face in it (200; 404 if unknown)."""
        if self.lists[kind].pop(list_id, None) is None:
            return self._list_missing(kind)
        return Reply(200)

    def list_large_faces(self, request: FakeRequest, kind: str, list_id: str) -> Reply:
        faces = self.lists[kind].get(list_id)
        if faces is None or kind != "largefacelists":
            return self._list_missing(kind)
        items = [{"persistedFaceId": f, "userData": u} for f, u in faces.items()]
        return Reply(200, page(items, request.query.get("start"), request.query.get("top"), "persistedFaceId"))

    def get_list_face(self, request: FakeRequest, kind: str, list_id: str, face: str) -> Reply:
        faces = self.lists[kind].get(list_id)
        if faces is None:
            return self._list_missing(kind)
        if face not in faces:
            return self.error(404, "PersistedFaceNotFound", "Persisted face is not found.")
        return Reply(200, {"persistedFaceId": face, "userData": faces[face]})

    def delete_list_face(self, request: FakeRequest, kind: str, list_id: str, face: str) -> Reply:
        faces = self.lists[kind].get(list_id)
        if faces is None:
            return self._list_missing(kind)
        if face not in faces:
            return self.error(404, "PersistedFaceNotFound", "Persisted face is not found.")
        del faces[face]
        return Reply(200)

    def list_directory(self, request: FakeRequest) -> Reply:
        return Reply(
            200,
            page(
                list(self.directory.values()),
                request.query.get("start"),
                request.query.get("top"),
                "personId",
            ),
        )

    def get_directory_person(self, request: FakeRequest, person: str) -> Reply:
        if person not in self.directory:
            return self.error(404, "PersonNotFound", "Person is not found.")
        return Reply(200, self.directory[person])

    def delete_directory_person(self, request: FakeRequest, person: str) -> Reply:
        if person not in self.directory:
            return self.error(404, "PersonNotFound", "Person is not found.")
        operation = str(uuid.uuid4())
        self.operations[operation] = {"person": person, "polls": 0}
        return Reply(202, headers={"Operation-Location": f"/operations/{operation}"})

    def get_operation(self, request: FakeRequest, operation: str) -> Reply:
        record = self.operations.get(operation)
        if record is None:
            return self.error(404, "OperationNotFound", "Operation is not found.")
        record["polls"] += 1
        done = record["polls"] > self.operation_polls_before_done
        if done:
            self.directory.pop(record["person"], None)
        return Reply(
            200,
            {
                "operationId": operation,
                "status": "succeeded" if done else "running",
                "createdTime": "2026-01-01T00:00:00Z",
                "lastActionTime": "2026-01-01T00:00:01Z",
                "finishedTime": "2026-01-01T00:00:02Z" if done else None,
                "message": None,
            },
        )
