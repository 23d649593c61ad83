"""The webhook store kind against a real HTTP host app, and the engine's retry/attention paths through it."""

from __future__ import annotations

import json
import time

import pytest
from django.test import TestCase

from requests_app.engine import dispatch, local
from requests_app.engine import plan as planning
from requests_app.models import PrivacyRequest, StoreTask
from requests_app.stores import registry, webhook
from requests_app.stores.base import PermanentStoreError, Subject, TransientStoreError
from tests.conftest import ALICE
from tests.requests_app.webhook_hostapp import SECRET, HostApp, stores_toml

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostapp():
    app = HostApp().start()
    yield app
    app.stop()


@pytest.fixture
def hook_stores(tmp_path, settings, hostapp):
    path = tmp_path / "stores.toml"
    path.write_text(stores_toml(hostapp.url))
    settings.PORTAL_STORES_FILE = str(path)
    return path


def store_for(hostapp, secret=SECRET):
    loaded = registry.parse(stores_toml(hostapp.url, secret), "stores.toml")
    assert loaded.errors == []
    return loaded.stores[0]


def alice():
    return Subject(identities={"email": {ALICE}}, request_id=1, task_id=1)


def run(request, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return local.run_local(request, **kwargs)


def test_discover_sends_signed_identities_and_reads_the_answer(hostapp):
    found = store_for(hostapp).discover(alice())
    assert found.found == 3
    assert found.provides == {"user_id": {"1"}}
    assert hostapp.calls[0]["identities"] == {"email": [ALICE]}
    assert hostapp.calls[0]["callback_url"].endswith("/api/v1/store-callbacks/app-hook/")


def test_wrong_secret_is_a_permanent_error(hostapp):
    with pytest.raises(PermanentStoreError, match=r'store "app-hook" \(discover\): the host app refused with 401'):
        store_for(hostapp, secret="x" * 40).discover(alice())


def test_unsigned_answer_is_refused(hostapp):
    hostapp.sign_answers = False
    with pytest.raises(PermanentStoreError, match="not signed correctly"):
        store_for(hostapp).discover(alice())


def test_server_busy_is_transient_with_retry_after(hostapp):
    hostapp.fail_next = [(503, {"Retry-After": "7"})]
    with pytest.raises(TransientStoreError) as caught:
        store_for(hostapp).erase(alice())
    assert caught.value.retry_after == 7


def test_unreachable_host_is_transient(hostapp):
    store = store_for(hostapp)
    hostapp.stop()
    with pytest.raises(TransientStoreError, match="cannot reach"):
        store.discover(alice())


def test_signature_rejects_old_timestamps():
    body = b"{}"
    headers = webhook.signed_headers(SECRET, body, now=time.time() - 3600)
    assert "away from our clock" in webhook.check_signature(SECRET, body, headers)


def test_deletion_through_the_webhook_completes_with_manual_steps(hook_stores, hostapp, approved_request):
    request = run(approved_request("deletion"))
    assert request.status == PrivacyRequest.Status.COMPLETED
    assert ALICE not in hostapp.users and "bob@example.org" in hostapp.users
    [store] = [s for s in request.receipt["stores"] if s["store"] == "app-hook"]
    assert store["erased"] == 3 and store["verified_gone"] is True
    assert store["manual_steps"] == [{"what": "paper invoices", "how": "shredded by accounting within 30 days"}]


def test_transient_error_backs_off_honouring_retry_after(hook_stores, hostapp, approved_request):
    hostapp.fail_next = [(503, {"Retry-After": "7"})]
    pauses = []
    request = run(approved_request("deletion"), sleep=pauses.append)
    assert request.status == PrivacyRequest.Status.COMPLETED
    assert len(pauses) == 1 and pauses[0] >= 6.5  # at least the Retry-After (minus the time already spent)
    discover = request.store_tasks.get(store="app-hook", phase="discover")
    assert discover.attempts == 2


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 10
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (4, 80)):
        delays = {dispatch.backoff_seconds(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter
    assert dispatch.backoff_seconds(1, retry_after=120) == 120


def test_permanent_error_needs_attention_with_the_error_shown(hook_stores, hostapp, approved_request):
    hostapp.fail_next = [(400, {})]
    request = run(approved_request("deletion"))
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert 'Store "app-hook", discover: store "app-hook" (discover): the host app refused with 400' in (
        request.attention_reason
    )
    task = request.store_tasks.get(store="app-hook", phase="discover")
    assert task.status == StoreTask.Status.FAILED and "refused with 400" in task.last_error


def test_retry_after_a_permanent_error_completes(hook_stores, hostapp, approved_request, officer):
    hostapp.fail_next = [(400, {})]
    request = run(approved_request("deletion"))
    planning.retry(request, officer)
    request = run(request)
    assert request.status == PrivacyRequest.Status.COMPLETED
    actions = list(request.timeline().values_list("action", flat=True))
    assert actions[-3:] == ["execution_failed", "execution_retried", "execution_completed"]


def test_exhausted_retries_need_attention(hook_stores, hostapp, approved_request, settings):
    settings.PORTAL_STORE_TASK_MAX_ATTEMPTS = 2
    hostapp.fail_next = [(503, {}), (503, {}), (503, {})]
    request = run(approved_request("deletion"), sleep=lambda s: None)
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert "gave up after 2 attempts" in request.attention_reason


def test_access_through_the_webhook_exports_records(hook_stores, hostapp, approved_request, settings):
    import zipfile
    from pathlib import Path

    request = run(approved_request("access"))
    with zipfile.ZipFile(Path(settings.PORTAL_PRIVATE_ROOT) / request.package.path) as archive:
        orders = json.loads(archive.read("app-hook/orders.json"))
    assert [o["id"] for o in orders] == [10, 11]


def _post_callback(client, store, payload, secret=SECRET, **headers):
    body = json.dumps(payload).encode()
    signed = {**webhook.signed_headers(secret, body), **headers}
    return client.post(f"/api/v1/store-callbacks/{store}/", body, content_type="application/json", headers=signed)


def test_callback_mode_waits_then_completes(hook_stores, hostapp, approved_request, client):
    hostapp.mode = "callback"
    request = run(approved_request("deletion"))
    task = request.store_tasks.get(store="app-hook", phase="discover")
    assert request.status == PrivacyRequest.Status.RUNNING
    assert task.status == StoreTask.Status.RUNNING and task.detail["awaiting_callback"]

    for phase, answer in (
        ("discover", {"found": 3, "provides": {"user_id": ["1"]}}),
        ("erase", {"erased": 3}),
        ("verify", {"found": 0}),
    ):
        task = request.store_tasks.get(store="app-hook", phase=phase)
        with TestCase.captureOnCommitCallbacks(execute=False):
            response = _post_callback(
                client, "app-hook", {"task": task.pk, "action": phase, "status": "done", **answer}
            )
        assert response.status_code == 200, response.content
        assert response.json()["result"] == "succeeded"
        request = run(request)
    assert request.status == PrivacyRequest.Status.COMPLETED
    assert next(s for s in request.receipt["stores"] if s["store"] == "app-hook")["erased"] == 3


def test_callback_with_a_bad_signature_is_refused(hook_stores, client, db):
    response = _post_callback(client, "app-hook", {"task": 1, "status": "done"}, secret="y" * 40)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"


def test_callback_for_an_unknown_store_is_404(hook_stores, client, db):
    response = _post_callback(client, "nope", {"task": 1, "status": "done"})
    assert response.status_code == 404


def test_callback_for_a_task_not_waiting_is_ignored(hook_stores, hostapp, approved_request, client):
    request = run(approved_request("deletion"))
    task = request.store_tasks.get(store="app-hook", phase="erase")
    response = _post_callback(client, "app-hook", {"task": task.pk, "status": "done", "erased": 99})
    assert response.status_code == 200 and response.json()["result"].startswith("ignored")
    task.refresh_from_db()
    assert task.erased_count == 3


def test_callback_without_task_is_a_400_naming_the_field(hook_stores, client, db):
    response = _post_callback(client, "app-hook", {"status": "done"})
    assert response.status_code == 400
    assert '"task" is required' in response.json()["error"]["message"]


def test_callback_larger_than_the_upload_limit_is_413(hook_stores, client, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = _post_callback(client, "app-hook", {"task": 1, "status": "done", "padding": "x" * 200})
    assert response.status_code == 413
    assert "answer the call with 200" in response.json()["error"]["message"]
