"""The project's Azure fakes plus the calls that *create* data, for the client package's tests.

The fakes in requests_app/stores/azure/fakes/ serve what the portal's stores need (list, read,
delete); a host app creates. These subclasses add the creating operations with the answers of the
published contracts (Face v1.2, Speech to text 2024-11-15, Video Indexer Upload Video), storing into the
same state the stores read, so what the client records is what the portal then finds and deletes.
"""

from __future__ import annotations

import uuid
from typing import Any

from requests_app.stores.azure.fakes.base import FakeRequest, Reply
from requests_app.stores.azure.fakes.face import API, ID, FakeFace
from requests_app.stores.azure.fakes.speech import API_VERSION, FakeSpeech
from requests_app.stores.azure.fakes.video_indexer import FakeVideoIndexer

GROUPS = r"(?P<kind>persongroups|largepersongroups)/(?P<group>" + ID + ")"
LISTS = r"(?P<kind>facelists|largefacelists)/(?P<list_id>" + ID + ")"


class CreatingFace(FakeFace):
    def routes(self):
        return [
            ("POST", f"{API}/{GROUPS}/persons", self.create_person),
            ("POST", f"{API}/{GROUPS}/persons/(?P<person>{ID})/persistedfaces", self.add_person_face),
            ("POST", f"{API}/{LISTS}/persistedfaces", self.add_face_to_list),
            ("POST", f"{API}/persons", self.create_directory_person),
            (
                "POST",
                f"{API}/persons/(?P<person>{ID})/recognitionModel/(?P<model>{ID})/persistedfaces",
                self.add_directory_face,
            ),
            ("POST", f"{API}/detect", self.detect),
            ("PATCH", f"{API}/{GROUPS}/persons/(?P<person>{ID})", self.update_person),
            ("PATCH", f"{API}/persons/(?P<person>{ID})", self.update_directory_person),
            *super().routes(),
        ]

    def create_person(self, request: FakeRequest, kind: str, group: str) -> Reply:
        found = self.groups[kind].get(group)
        if found is None:
            return self._group_missing(kind)
        body = request.body or {}
        person_id = str(uuid.uuid4())
        found["persons"][person_id] = {
            "personId": person_id,
            "name": body.get("name", ""),
            "userData": body.get("userData", ""),
            "persistedFaceIds": [],
        }
        return Reply(200, {"personId": person_id})

    def add_person_face(self, request: FakeRequest, kind: str, group: str, person: str) -> Reply:
        found = self.groups[kind].get(group)
        record = found["persons"].get(person) if found else None
        if record is None:
            return self.error(404, "PersonNotFound", "Person is not found.")
        face_id = str(uuid.uuid4())
        record["persistedFaceIds"].append(face_id)
        return Reply(200, {"persistedFaceId": face_id})

    def add_face_to_list(self, request: FakeRequest, kind: str, list_id: str) -> Reply:
        faces = self.lists[kind].get(list_id)
        if faces is None:
            return self._list_missing(kind)
        face_id = str(uuid.uuid4())
        faces[face_id] = request.query.get("userData", "")
        return Reply(200, {"persistedFaceId": face_id})

    def create_directory_person(self, request: FakeRequest) -> Reply:
        body = request.body or {}
        person_id = self.add_directory_person(user_data=body.get("userData", ""), name=body.get("name", ""))
        operation = str(uuid.uuid4())
        return Reply(202, {"personId": person_id}, {"Operation-Location": f"{API}/operations/{operation}"})

    def add_directory_face(self, request: FakeRequest, person: str, model: str) -> Reply:
        if person not in self.directory:
            return self.error(404, "PersonNotFound", "Person is not found.")
        return Reply(202, {"persistedFaceId": str(uuid.uuid4())})

    def update_person(self, request: FakeRequest, kind: str, group: str, person: str) -> Reply:
        found = self.groups[kind].get(group)
        record = found["persons"].get(person) if found else None
        if record is None:
            return self.error(404, "PersonNotFound", "Person is not found.")
        record.update({k: v for k, v in (request.body or {}).items() if k in ("name", "userData")})
        return Reply(200)

    def update_directory_person(self, request: FakeRequest, person: str) -> Reply:
        if person not in self.directory:
            return self.error(404, "PersonNotFound", "Person is not found.")
        self.directory[person].update({k: v for k, v in (request.body or {}).items() if k in ("name", "userData")})
        return Reply(202, headers={"Operation-Location": f"{API}/operations/{uuid.uuid4()}"})

    def detect(self, request: FakeRequest) -> Reply:
        return Reply(
            200, [{"faceId": str(uuid.uuid4()), "faceRectangle": {"top": 1, "left": 1, "width": 9, "height": 9}}]
        )


class CreatingSpeech(FakeSpeech):
    def routes(self):
        return [
            ("POST", r"/speechtotext/transcriptions:submit", self.submit),
            ("POST", r"/speechtotext/v3\.[12]/transcriptions", self.submit),
            ("POST", r"/speechtotext/datasets", self.create_dataset),
            ("POST", r"/speechtotext/datasets:upload", self.create_dataset),
            (
                "PATCH",
                r"/speechtotext(?:/v3\.[12])?/(?P<collection>transcriptions|datasets)/(?P<item>[A-Za-z0-9\-]+)",
                self.update,
            ),
            *super().routes(),
        ]

    def _create(self, collection: str, request: FakeRequest) -> Reply:
        body: dict[str, Any] = request.body or {}
        item_id = self.add(collection, body.get("customProperties") or {}, body.get("displayName", "item"))
        return Reply(
            201,
            self.items[collection][item_id],
            {"Location": f"{self.url}/speechtotext/{collection}/{item_id}?api-version={API_VERSION}"},
        )

    def submit(self, request: FakeRequest) -> Reply:
        return self._create("transcriptions", request)

    def create_dataset(self, request: FakeRequest) -> Reply:
        return self._create("datasets", request)

    def update(self, request: FakeRequest, collection: str, item: str) -> Reply:
        record = self.items[collection].get(item)
        if record is None:
            return self.error(404, "NotFound", "The entity was not found.")
        body = request.body or {}
        record.update({k: v for k, v in body.items() if k in ("displayName", "customProperties")})
        return Reply(200, record)


class CreatingVideoIndexer(FakeVideoIndexer):
    def routes(self):
        base = rf"/{self.location}/Accounts/{self.account_id}/Videos"
        return [
            ("POST", base, self.upload),
            ("PATCH", base + r"/(?P<video>[A-Za-z0-9]+)/Index", self.update_index),
            *super().routes(),
        ]

    def upload(self, request: FakeRequest) -> Reply:
        video_id = self.add_video(external_id=request.query.get("externalId", ""), name=request.query.get("name", ""))
        return Reply(200, self.videos[video_id])

    def update_index(self, request: FakeRequest, video: str) -> Reply:
        if video not in self.videos:
            return self.error(404, "VIDEO_NOT_FOUND", "Video is not found.")
        return Reply(200, {**self.videos[video], "videos": [{"id": video, "insights": {}}]})
