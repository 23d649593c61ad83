"""azure_video_indexer against the Video Indexer fake (with its ARM generateAccessToken)."""

from __future__ import annotations

import pytest

from requests_app.models import Transmission
from requests_app.stores.azure.video_indexer import AzureVideoIndexerStore
from requests_app.stores.base import PermanentStoreError
from tests.requests_app.azure_helpers import MemorySink, erase_and_verify, handed, row, subject, video_indexer_config

pytestmark = pytest.mark.django_db


def make_store(fake, **config):
    return AzureVideoIndexerStore(
        "videos",
        video_indexer_config(fake, **{"external_ids": ["{user_id}"], "retry_backoff": 0.01, **config}),
    )


@pytest.fixture
def seeded(fake_vi):
    by_external = fake_vi.add_video(external_id="42")
    by_ledger = fake_vi.add_video()
    other = fake_vi.add_video(external_id="7")
    row("video_indexer", fake_vi.account_id, "video", by_ledger, payload="video")
    return {"external": by_external, "ledger": by_ledger, "other": other}


def test_discover_by_external_id_and_ledger(fake_vi, seeded):
    found = (store := make_store(fake_vi)).discover(handed(store, subject()))
    assert found.found == 2 and found.provides["video_id"] == {seeded["external"], seeded["ledger"]}
    assert fake_vi.tokens_issued == 1


def test_export_writes_insights(fake_vi, seeded):
    sink = MemorySink()
    assert (store := make_store(fake_vi)).export(handed(store, subject()), sink).exported == 2
    assert {r["video_id"] for r in sink.records_by_name["videos"]} == {seeded["external"], seeded["ledger"]}


def test_erase_deletes_videos_of_subject_only(fake_vi, seeded):
    outcome, gone = erase_and_verify(make_store(fake_vi), subject())
    assert outcome.erased == 2 and gone.found == 0
    assert set(fake_vi.videos) == {seeded["other"]}
    assert Transmission.objects.get().deleted_at is not None


def test_repeat_erase_is_a_noop(fake_vi, seeded):
    store = make_store(fake_vi)
    erase_and_verify(store, subject())
    assert store.erase(handed(store, subject())).erased == 0
    assert set(fake_vi.videos) == {seeded["other"]}


def test_source_file_mode_keeps_insights(fake_vi, seeded):
    outcome, gone = erase_and_verify(make_store(fake_vi, delete="source_file"), subject())
    assert outcome.detail["mode"] == "source_file" and gone.found == 0
    assert fake_vi.source_deleted == {seeded["external"], seeded["ledger"]}
    assert len(fake_vi.videos) == 3


def test_expired_access_token_is_renewed(fake_vi, seeded):
    store = make_store(fake_vi)
    store.discover(handed(store, subject()))
    fake_vi.expire_tokens()
    erase_and_verify(store, subject())
    assert fake_vi.tokens_issued == 2


def test_429_and_5xx_storm_completes(fake_vi, seeded):
    fake_vi.throttle_rate, fake_vi.fault_rate, fake_vi.retry_after = 0.25, 0.25, None
    _, gone = erase_and_verify(make_store(fake_vi), subject())
    fake_vi.throttle_rate = fake_vi.fault_rate = 0
    assert gone.found == 0 and set(fake_vi.videos) == {seeded["other"]}
    assert fake_vi.throttled > 0


def test_wrong_arm_token_is_permanent(fake_vi, seeded):
    with pytest.raises(PermanentStoreError, match='store "videos"'):
        (store := make_store(fake_vi, bearer_token="nope")).discover(handed(store, subject()))


def test_config_errors_name_missing_arm_fields():
    errors = dict(AzureVideoIndexerStore.config_errors({"location": "trial", "account_id": "a"}))
    assert {"subscription_id", "resource_group", "account_name"} <= set(errors)


def test_external_id_template_with_wildcard_matches_the_host_apps_format(fake_vi):
    mine = [fake_vi.add_video(external_id=f"user-42-{name}") for name in ("holiday.mp4", "talk.mp4")]
    others = [fake_vi.add_video(external_id=e) for e in ("user-420-x.mp4", "user-7-42.mp4", "42")]
    store = make_store(fake_vi, external_ids=["user-{user_id}-*"])
    found = store.discover(handed(store, subject()))
    assert found.provides["video_id"] == set(mine)
    outcome, gone = erase_and_verify(store, subject())
    assert outcome.erased == 2 and gone.found == 0
    assert set(fake_vi.videos) == set(others)
