"""Issue 20's scenario end to end: hostile ledger rows never delete anyone else's data.

Rows with climbing resource ids (recorded before the ledger checked ids, or
written straight into the database) sit beside one real row of the subject.
The deletion runs through the engine against the fakes: the real person goes,
the large face list with two other people's faces and every other person stay,
no request names a group, list, model or anything outside the items, and the
request is not "completed" but needs attention, naming the rows it left.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from requests_app.engine import local
from requests_app.models import PrivacyRequest, Transmission
from tests.requests_app.azure_helpers import row

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stores(tmp_path, settings, fake_face, fake_speech):
    path = Path(tmp_path) / "stores.toml"
    path.write_text(f"""
[[store]]
name = "face"
kind = "azure_face"
endpoint = "{fake_face.url}"
key = "{fake_face.key}"
max_tps = 1000
retry_backoff = 0.01

[[store]]
name = "speech"
kind = "azure_speech"
endpoint = "{fake_speech.url}"
key = "{fake_speech.key}"
max_tps = 1000
retry_backoff = 0.01
""")
    settings.PORTAL_STORES_FILE = str(path)
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 0.01
    return path


def test_hostile_ledger_rows_delete_nothing_of_anyone_else(stores, fake_face, fake_speech, approved_request):
    mine, _ = fake_face.add_person("app-users", user_data="")
    bob, _ = fake_face.add_person("app-users", user_data="")
    carol, _ = fake_face.add_person("app-users-large", user_data="", large=True)
    others_faces = {fake_face.add_list_face("recent-faces", large=True) for _ in range(2)}
    model = fake_speech.add_transcription()
    row("face", fake_face.url, "person", mine, parents={"person_group": "app-users"})
    row("face", fake_face.url, "large_face_list_face", "..", parents={"large_face_list": "recent-faces"})
    row(
        "face",
        fake_face.url,
        "person",
        "../../largepersongroups/app-users-large",
        parents={"person_group": "x"},
    )
    row("speech", fake_speech.url, "transcription", "../models/OTHER-MODEL-1")
    row("speech", fake_speech.url, "transcription", "../../internal/admin?drop=all#")
    row("speech", fake_speech.url, "transcription", "3fa85f64-5717-4562-b3fc-2c963f66afa6%2F..")

    request = local.run_local(approved_request(identifiers={"user_id": "42"}), sleep=lambda seconds: None)

    assert set(fake_face.lists["largefacelists"]["recent-faces"]) == others_faces
    assert bob in fake_face.groups["persongroups"]["app-users"]["persons"]
    assert carol in fake_face.groups["largepersongroups"]["app-users-large"]["persons"]
    assert mine not in fake_face.groups["persongroups"]["app-users"]["persons"]
    assert model in fake_speech.items["transcriptions"]
    deletes = [call for call in fake_face.calls + fake_speech.calls if call.startswith("DELETE")]
    assert deletes == [f"DELETE /face/v1.2/persongroups/app-users/persons/{mine}"]

    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert "not safe to send" in request.attention_reason
    live = Transmission.objects.filter(deleted_at__isnull=True)
    assert live.count() == 5 and not live.filter(resource_id=mine).exists()
