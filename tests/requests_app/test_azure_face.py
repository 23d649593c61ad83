"""azure_face against the Face fake: discovery, export, erasure, verify-gone, repeats, throttling, faults."""

from __future__ import annotations

import json

import pytest

from requests_app.engine import execute
from requests_app.models import Transmission
from requests_app.stores.azure.face import AzureFaceStore
from requests_app.stores.azure.ledger import AzureLedgerStore
from requests_app.stores.base import PermanentStoreError, TransientStoreError
from tests.requests_app.azure_helpers import MemorySink, erase_and_verify, handed, row, subject

pytestmark = pytest.mark.django_db


def make_store(fake, **config):
    return AzureFaceStore(
        "face",
        {
            "endpoint": fake.url,
            "key": fake.key,
            "person_groups": ["app-users"],
            "max_tps": 1000,
            "retry_backoff": 0.01,
            **config,
        },
    )


@pytest.fixture
def seeded(fake_face):
    alice_person, alice_faces = fake_face.add_person("app-users", user_data="42", faces=2)
    bob_person, _ = fake_face.add_person("app-users", user_data="7")
    json_person, _ = fake_face.add_person("app-users", user_data=json.dumps({"user_id": "42", "plan": "x"}))
    large_person, _ = fake_face.add_person("vip", user_data="", large=True)
    list_face = fake_face.add_list_face("lookalikes", user_data="42", large=True)
    bob_list_face = fake_face.add_list_face("lookalikes", user_data="7", large=True)
    row("face", fake_face.url, "large_person", large_person, parents={"large_person_group": "vip"})
    return {
        "alice": alice_person,
        "json": json_person,
        "bob": bob_person,
        "large": large_person,
        "list_face": list_face,
        "bob_list_face": bob_list_face,
    }


def test_discover_finds_config_and_ledger_items(fake_face, seeded):
    store = make_store(fake_face, large_face_lists=["lookalikes"])
    found = store.discover(handed(store, subject()))
    assert found.found == 4  # two persons by userData, one large-list face, one ledger person
    assert found.provides["face_person_id"] == {seeded["alice"], seeded["json"]}


def test_export_writes_what_face_holds(fake_face, seeded):
    sink = MemorySink()
    outcome = (store := make_store(fake_face)).export(handed(store, subject()), sink)
    assert outcome.exported == 3
    ids = {r.get("id") or r["path"].rsplit("/", 1)[-1] for r in sink.records_by_name["face"]}
    assert seeded["large"] in ids and seeded["alice"] in ids


def test_erase_deletes_subject_only_and_tombstones_ledger(fake_face, seeded):
    store = make_store(fake_face, large_face_lists=["lookalikes"])
    outcome, gone = erase_and_verify(store, subject())
    assert outcome.erased == 4
    assert gone.found == 0
    persons = fake_face.groups["persongroups"]["app-users"]["persons"]
    assert set(persons) == {seeded["bob"]}
    assert set(fake_face.lists["largefacelists"]["lookalikes"]) == {seeded["bob_list_face"]}
    tomb = Transmission.objects.get(resource_id=seeded["large"])
    assert tomb.deleted_at is not None and tomb.subject_value.startswith("pseudonym:") and tomb.subject_value != "42"


def test_repeat_erase_is_a_noop(fake_face, seeded):
    store = make_store(fake_face)
    erase_and_verify(store, subject())
    deletes_before = fake_face.by_status[200]
    again = store.erase(handed(store, subject()))
    assert again.erased == 0
    assert fake_face.by_status[200] - deletes_before == 0 or again.erased == 0


def test_delete_of_missing_person_counts_as_gone(fake_face):
    row(
        "face",
        fake_face.url,
        "person",
        "00000000-dead-beef-0000-000000000000",
        parents={"person_group": "app-users"},
    )
    fake_face.add_group("app-users")
    outcome, gone = erase_and_verify(make_store(fake_face), subject())
    assert gone.found == 0
    assert Transmission.objects.get().deleted_at is not None
    assert outcome.erased == 0 and outcome.ledger.gone == [Transmission.objects.get().pk]


def test_training_conflict_is_transient_then_completes(fake_face, seeded):
    fake_face.set_training("app-users", True)
    store = make_store(fake_face)
    with pytest.raises(TransientStoreError):
        store.erase(handed(store, subject()))
    fake_face.set_training("app-users", False)
    _, gone = erase_and_verify(store, subject())
    assert gone.found == 0


def test_429_storm_with_and_without_retry_after_completes(fake_face, seeded):
    fake_face.fail_next(429, 3, retry_after=0)
    fake_face.fail_next(429, 3)  # no Retry-After header: exponential backoff
    fake_face.throttle_rate = 0.3
    fake_face.retry_after = 0
    store = make_store(fake_face)
    _, gone = erase_and_verify(store, subject())
    fake_face.throttle_rate = 0
    assert gone.found == 0
    assert fake_face.throttled >= 6
    assert set(fake_face.groups["persongroups"]["app-users"]["persons"]) == {seeded["bob"]}


def test_5xx_faults_end_complete_with_nothing_lost(fake_face, seeded):
    fake_face.fault_rate = 0.4
    store = make_store(fake_face)
    _, gone = erase_and_verify(store, subject())
    fake_face.fault_rate = 0
    assert gone.found == 0
    assert set(fake_face.groups["persongroups"]["app-users"]["persons"]) == {seeded["bob"]}
    assert Transmission.objects.filter(deleted_at__isnull=True).count() == 0


def test_person_directory_delete_polls_operation(fake_face):
    person = fake_face.add_directory_person(user_data="42")
    other = fake_face.add_directory_person(user_data="7")
    fake_face.operation_polls_before_done = 2
    store = make_store(fake_face, person_groups=[], person_directory=True)
    _, gone = erase_and_verify(store, subject())
    assert gone.found == 0
    assert set(fake_face.directory) == {other}
    assert person not in fake_face.directory


def test_wrong_key_is_permanent_and_names_the_store(fake_face, seeded):
    store = AzureFaceStore("face", {"endpoint": fake_face.url, "key": "wrong", "person_groups": ["app-users"]})
    with pytest.raises(PermanentStoreError, match='store "face".*key'):
        store.discover(handed(store, subject()))


def test_ledger_row_for_unconfigured_account_is_left_with_the_store_to_add(fake_face):
    other = row("face", "https://other.cognitiveservices.azure.com", "person", "p1", parents={"person_group": "g"})
    store = make_store(fake_face)
    catch_all = AzureLedgerStore("azure-ledger", {})
    assert handed(store, subject()).ledger == []
    subj = execute.with_ledger(catch_all, subject(), [store, catch_all])
    outcome = catch_all.erase(subj)
    assert list(outcome.ledger.failed) == [other.pk]
    assert "other.cognitiveservices.azure.com" in outcome.left[0].why
    assert 'kind = "azure_face"' in outcome.left[0].why


def test_purpose_scoped_erasure_touches_only_that_purpose(fake_face):
    fake_face.add_group("app-users")
    kept, _ = fake_face.add_person("app-users", user_data="")
    gone_person, _ = fake_face.add_person("app-users", user_data="")
    row(
        "face",
        fake_face.url,
        "person",
        gone_person,
        parents={"person_group": "app-users"},
        purpose_slug="verify",
    )
    row("face", fake_face.url, "person", kept, parents={"person_group": "app-users"}, purpose_slug="other")
    erase_and_verify(make_store(fake_face), subject(purpose_slug="verify"))
    assert set(fake_face.groups["persongroups"]["app-users"]["persons"]) == {kept}


def test_config_errors_name_the_field():
    errors = dict(AzureFaceStore.config_errors({"endpoint": "nope", "person_groups": "x"}))
    assert set(errors) == {"endpoint", "person_groups"}


def test_face_list_faces_are_found_by_user_data_and_deleted(fake_face):
    mine = fake_face.add_list_face("known-faces", user_data="42")
    other = fake_face.add_list_face("known-faces", user_data="7")
    store = make_store(fake_face, person_groups=[], face_lists=["known-faces"])
    assert store.discover(handed(store, subject())).found == 1
    _, gone = erase_and_verify(store, subject())
    assert gone.found == 0 and set(fake_face.lists["facelists"]["known-faces"]) == {other}
    assert mine not in fake_face.lists["facelists"]["known-faces"]


def test_persisted_face_ledger_row_deletes_only_that_face(fake_face):
    person, faces = fake_face.add_person("app-users", user_data="", faces=2)
    row(
        "face",
        fake_face.url,
        "persisted_face",
        faces[0],
        parents={"person_group": "app-users", "person": person},
    )
    _, gone = erase_and_verify(make_store(fake_face), subject())
    assert gone.found == 0
    assert fake_face.groups["persongroups"]["app-users"]["persons"][person]["persistedFaceIds"] == [faces[1]]


def test_user_data_template_matches_the_host_apps_format_only(fake_face):
    mine, _ = fake_face.add_person("app-users", user_data="user:42")
    others = [fake_face.add_person("app-users", user_data=d)[0] for d in ("user:420", "42", '{"user_id": "42"}')]
    store = make_store(fake_face, user_data="user:{user_id}")
    outcome, gone = erase_and_verify(store, subject())
    assert outcome.erased == 1 and gone.found == 0
    assert sorted(fake_face.groups["persongroups"]["app-users"]["persons"]) == sorted(others)
    assert dict(AzureFaceStore.config_errors({**store.config, "user_data": "user:"}))["user_data"]
