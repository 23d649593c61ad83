"""azure_face's orphan scan covers the PersonDirectory and plain FaceLists (Face v1.2 paging, 404, 429)."""

from __future__ import annotations

import pytest

from requests_app.stores.azure.face import AzureFaceStore
from tests.requests_app.azure_helpers import until_done

pytestmark = pytest.mark.django_db


def make_store(fake, **config):
    return AzureFaceStore(
        "face", {"endpoint": fake.url, "key": fake.key, "max_tps": 1000, "retry_backoff": 0.01, **config}
    )


def test_scan_pages_through_the_person_directory(fake_face):
    for n in range(1001):  # two pages of top=1000: the subject may sit on either
        fake_face.add_directory_person(user_data=str(n))
    hits = list(make_store(fake_face, person_directory=True).scan())
    assert len(hits) == 1001 and {hit.what for hit in hits} == {"directory_person"}
    assert {hit.identity_value for hit in hits} == {str(n) for n in range(1001)}
    listings = [call for call in fake_face.calls if call == "GET /face/v1.2/persons"]
    assert len(listings) == 2


def test_scan_reads_plain_face_lists_and_skips_a_missing_one(fake_face):
    face = fake_face.add_list_face("lookalikes", user_data="42")
    fake_face.add_list_face("lookalikes", user_data="")  # no subject: not a hit
    hits = list(make_store(fake_face, face_lists=["lookalikes", "gone-list"]).scan())
    assert [(hit.what, hit.where, hit.identity_value) for hit in hits] == [
        ("face_list_face", f"facelists/lookalikes/persistedfaces/{face}", "42")
    ]


def test_scan_survives_429_with_retry_after(fake_face):
    fake_face.add_directory_person(user_data="42")
    fake_face.fail_next(429, 2, retry_after=0, path_contains="/persons")
    hits = until_done(lambda: list(make_store(fake_face, person_directory=True).scan()))
    assert [hit.identity_value for hit in hits] == ["42"]
    assert fake_face.throttled == 2
