"""azure_speech against the Speech fake: customProperties tags, @nextLink paging, datasets, 204 deletes."""

from __future__ import annotations

import pytest

from requests_app.models import Transmission
from requests_app.stores.azure.speech import AzureSpeechStore
from requests_app.stores.base import PermanentStoreError
from tests.requests_app.azure_helpers import MemorySink, erase_and_verify, handed, row, subject

pytestmark = pytest.mark.django_db


def make_store(fake, **config):
    return AzureSpeechStore(
        "speech",
        {
            "endpoint": fake.url,
            "key": fake.key,
            "custom_property": "user_id",
            "max_tps": 1000,
            "retry_backoff": 0.01,
            **config,
        },
    )


@pytest.fixture
def seeded(fake_speech):
    for _ in range(230):  # three pages of 100: the subject's items sit on the last page
        fake_speech.add_transcription({"user_id": "someone-else"})
    mine = [fake_speech.add_transcription({"user_id": "42"}) for _ in range(2)]
    dataset = fake_speech.add_dataset({"user_id": "42"})
    ledger_item = fake_speech.add_transcription()
    row("speech", fake_speech.url, "transcription", ledger_item, payload="audio")
    return {"mine": mine, "dataset": dataset, "ledger": ledger_item}


def test_discover_follows_next_link(fake_speech, seeded):
    found = (store := make_store(fake_speech)).discover(handed(store, subject()))
    assert found.found == 4 and found.counts == {"transcriptions": 3, "datasets": 1}


def test_export_lists_items(fake_speech, seeded):
    sink = MemorySink()
    assert (store := make_store(fake_speech)).export(handed(store, subject()), sink).exported == 4


def test_erase_deletes_subject_items_only(fake_speech, seeded):
    outcome, gone = erase_and_verify(make_store(fake_speech), subject())
    assert outcome.erased == 4 and gone.found == 0
    assert len(fake_speech.items["transcriptions"]) == 230 and not fake_speech.items["datasets"]
    assert Transmission.objects.get().deleted_at is not None


def test_repeat_erase_is_a_noop(fake_speech, seeded):
    store = make_store(fake_speech)
    erase_and_verify(store, subject())
    assert store.erase(handed(store, subject())).erased == 0


def test_v32_paths_work(fake_speech, seeded):
    _, gone = erase_and_verify(make_store(fake_speech, api_version="v3.2"), subject())
    assert gone.found == 0


def test_throttling_and_faults_complete(fake_speech, seeded):
    fake_speech.throttle_rate, fake_speech.fault_rate, fake_speech.retry_after = 0.2, 0.2, 0
    _, gone = erase_and_verify(make_store(fake_speech), subject())
    fake_speech.throttle_rate = fake_speech.fault_rate = 0
    assert gone.found == 0 and len(fake_speech.items["transcriptions"]) == 230


def test_bad_key_is_permanent(fake_speech, seeded):
    with pytest.raises(PermanentStoreError, match="key"):
        (store := make_store(fake_speech, key="bad")).discover(handed(store, subject()))


def test_custom_properties_template_matches_the_host_apps_format(fake_speech):
    mine = fake_speech.add_transcription({"owner": "user:42"})
    others = [fake_speech.add_transcription({"owner": o}) for o in ("user:420", "42", "user:7")]
    store = make_store(fake_speech, custom_property=None, custom_properties={"owner": "user:{user_id}"})
    outcome, gone = erase_and_verify(store, subject())
    assert outcome.erased == 1 and gone.found == 0
    assert mine not in fake_speech.items["transcriptions"]
    assert set(fake_speech.items["transcriptions"]) == set(others)
