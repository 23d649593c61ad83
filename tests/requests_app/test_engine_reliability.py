"""Nothing lost, nothing done twice: claims, duplicates, the sweeper, queues, a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.db import OperationalError, transaction
from django.test import TestCase
from django.utils import timezone

from portal.models import AuditEvent
from requests_app.demo import write_stores
from requests_app.engine import dispatch, execute, local, retention
from requests_app.engine import plan as planning
from requests_app.engine import sweep as sweeper
from requests_app.models import PrivacyRequest, StoreTask
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db
ST = StoreTask.Status


@pytest.fixture
def published():
    """Messages really handed to the broker: (task name, queue)."""
    sent: list[tuple[str, str]] = []

    def record(sender=None, routing_key=None, headers=None, **kwargs):
        sent.append((sender, routing_key))

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


def started(approved_request, kind="deletion", **fields):
    request = approved_request(kind, **fields)
    with TestCase.captureOnCommitCallbacks(execute=False):
        planning.start(request.pk)
    request.refresh_from_db()
    return request


def ledger_row_of_someone_by_user_id() -> None:
    """A ledger row recorded by user_id: at plan time nobody knows whose, so the ledger store is planned."""
    from tests.requests_app.azure_helpers import row

    row("face", "https://face.example", "person", "p-999", subject="999", subject_kind="user_id")


def test_start_plans_one_task_per_store_and_phase_and_hands_out_discovery(stores_file, approved_request):
    ledger_row_of_someone_by_user_id()
    request = started(approved_request)
    assert request.status == PrivacyRequest.Status.RUNNING
    tasks = {(t.store, t.phase): t for t in request.store_tasks.all()}
    assert len(tasks) == 9  # app-db, uploads and azure-ledger (the ledger has a user_id row) × 3 phases
    assert tasks[("app-db", "discover")].dispatched_at is not None
    # the ledger store waits for the stores that provide identities (the ledger names subjects by them)
    assert tasks[("azure-ledger", "discover")].dispatched_at is None
    # uploads needs user_id, which only app-db provides: it waits
    assert tasks[("uploads", "discover")].dispatched_at is None
    assert tasks[("app-db", "erase")].dispatched_at is None


def test_start_twice_plans_once(stores_file, approved_request):
    request = started(approved_request)
    assert planning.start(request.pk) is False
    assert request.store_tasks.count() == 6  # app-db, uploads × 3 (an empty ledger: no ledger store)


def test_store_tasks_are_enqueued_on_the_stores_queue_after_commit(stores_file, approved_request, published):
    request = approved_request()
    with TestCase.captureOnCommitCallbacks(execute=True):
        planning.start(request.pk)
    assert published == [("stores.run_store_task", "stores")]


def test_azure_kinds_go_to_the_azure_queue(approved_request, published, db):
    request = approved_request()
    task = StoreTask.objects.create(request=request, store="faces", store_kind="azure_face", phase="erase")
    with TestCase.captureOnCommitCallbacks(execute=True):
        dispatch.enqueue(task)
    assert published == [("stores.run_store_task", "azure")]


def test_a_duplicate_message_for_a_finished_task_does_nothing(stores_file, approved_request):
    request = local.run_local(approved_request())
    task = request.store_tasks.get(store="app-db", phase="erase")
    assert execute.execute_task(task.pk) == "skipped"
    task.refresh_from_db()
    assert task.attempts == 1


def test_an_early_duplicate_of_a_retry_waits_for_its_countdown(stores_file, approved_request):
    request = started(approved_request)
    task = request.store_tasks.get(store="app-db", phase="discover")
    StoreTask.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert execute.execute_task(task.pk) == "skipped"


def test_a_result_from_a_superseded_attempt_is_ignored(stores_file, approved_request):
    from requests_app.stores.base import Discovery

    request = started(approved_request)
    task = request.store_tasks.get(store="app-db", phase="discover")
    _, first = execute.claim(task.pk)
    # the worker went quiet; the sweeper hands the task to another worker
    StoreTask.objects.filter(pk=task.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=False):
        sweeper.sweep()
    _, second = execute.claim(task.pk)
    assert (first, second) == (1, 2)
    assert execute.complete(task.pk, first, Discovery(found=999)) == "superseded"
    assert execute.complete(task.pk, second, Discovery(found=11)) == "succeeded"
    task.refresh_from_db()
    assert task.found_count == 11


def test_sweep_redispatches_a_task_whose_worker_died(stores_file, approved_request, published):
    request = started(approved_request)
    task = request.store_tasks.get(store="app-db", phase="discover")
    execute.claim(task.pk)
    StoreTask.objects.filter(pk=task.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    with TestCase.captureOnCommitCallbacks(execute=True):
        counts = sweeper.sweep()
    task.refresh_from_db()
    assert counts["stale"] == 1
    assert task.status == ST.PENDING
    assert "worker stopped" in task.last_error
    assert published == [("stores.run_store_task", "stores")]


def test_sweep_leaves_a_task_with_a_fresh_heartbeat_alone(stores_file, approved_request, published):
    request = started(approved_request)
    task = request.store_tasks.get(store="app-db", phase="discover")
    execute.claim(task.pk)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert sweeper.sweep()["stale"] == 0
    task.refresh_from_db()
    assert task.status == ST.RUNNING and published == []


def test_sweep_redispatches_a_message_the_broker_lost(stores_file, approved_request, published):
    request = started(approved_request)
    StoreTask.objects.filter(request=request, dispatched_at__isnull=False).update(
        dispatched_at=timezone.now() - timedelta(minutes=10)
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert sweeper.sweep()["lost"] == 1
    assert published == [("stores.run_store_task", "stores")]


def test_a_worker_killed_too_often_needs_attention(stores_file, approved_request, settings):
    settings.PORTAL_STORE_TASK_MAX_ATTEMPTS = 1
    request = started(approved_request)
    task = request.store_tasks.get(store="app-db", phase="discover")
    execute.claim(task.pk)
    StoreTask.objects.filter(pk=task.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))
    with TestCase.captureOnCommitCallbacks(execute=True):
        sweeper.sweep()
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert "worker stopped" in request.attention_reason


def test_dispatch_due_respects_the_grace_period(stores_file, approved_request):
    later = approved_request(run_after=timezone.now() + timedelta(hours=1))
    due = approved_request(email="bob@example.org", run_after=timezone.now() - timedelta(seconds=1))
    with TestCase.captureOnCommitCallbacks(execute=False):
        assert sweeper.dispatch_due() == 1
    later.refresh_from_db()
    due.refresh_from_db()
    assert (later.status, due.status) == ("approved", "running")


def test_schedule_start_enqueues_only_when_due(stores_file, approved_request, published):
    later = approved_request(run_after=timezone.now() + timedelta(hours=1))
    with TestCase.captureOnCommitCallbacks(execute=True):
        planning.schedule_start(later)
    assert published == []
    now = approved_request(email="bob@example.org")
    with TestCase.captureOnCommitCallbacks(execute=True):
        planning.schedule_start(now)
    assert published == [("requests.engine.start", "default")]


def test_broken_stores_file_needs_attention_naming_the_error(tmp_path, settings, approved_request):
    path = tmp_path / "stores.toml"
    path.write_text('[[store]]\nname = "app-db"\nkind = "sql"\n')
    settings.PORTAL_STORES_FILE = str(path)
    request = approved_request()
    planning.start(request.pk)
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.NEEDS_ATTENTION
    assert 'store "app-db" (sql): field "url"' in request.attention_reason


def test_consent_withdrawal_only_discovers_in_the_apps_own_stores(stores_file, host_db, approved_request):
    request = local.run_local(approved_request(scope_purpose="face-login"))
    assert request.status == PrivacyRequest.Status.COMPLETED
    # the app's own stores only discover; the ledger store erases what was sent under the purpose
    assert set(request.store_tasks.exclude(store="azure-ledger").values_list("phase", flat=True)) == {"discover"}
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3


def test_resolve_manually_closes_with_a_receipt_saying_so(tmp_path, settings, approved_request, officer):
    path = tmp_path / "stores.toml"
    path.write_text('[[store]]\nname = "app-db"\nkind = "sql"\n')
    settings.PORTAL_STORES_FILE = str(path)
    request = approved_request()
    planning.start(request.pk)
    planning.resolve_manually(request, officer, "Deleted by hand in the database console.")
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED
    assert request.receipt["resolved_manually"] == "Deleted by hand in the database console."


def test_retention_policy_deletes_old_rows_and_is_audited(tmp_path, settings, sqlite_host, media_root):
    extra = """
[[retention]]
store = "app-db"
table = "media_photo_likes"
column = "id"
older_than_days = 1
"""
    path = write_stores(tmp_path / "stores.toml", sqlite_host, media_root, extra)
    settings.PORTAL_STORES_FILE = str(path)
    assert retention.policy_errors() == []
    # "id < cutoff" compares ids with a date: every like is "older"; the point is the audited run
    [result] = retention.run_all()
    assert result["policy"] == "app-db.media_photo_likes"
    event = AuditEvent.objects.get(subject_type="retention", action="retention_run")
    assert event.data["deleted"] == result["deleted"]


def test_retention_policy_errors_are_named(tmp_path, settings, sqlite_host, media_root):
    extra = """
[[retention]]
store = "uploads"
table = "x"
column = "created_at"
older_than_days = 0
"""
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root, extra))
    errors = retention.policy_errors()
    assert any('retention #1: field "store": retention works on stores of kind "sql"' in e for e in errors)
    assert any('field "older_than_days"' in e for e in errors)


def status_of(request) -> str | None:
    from django.db import OperationalError

    try:
        return PrivacyRequest.objects.values_list("status", flat=True).get(pk=request.pk)
    except OperationalError:  # SQLite's shared in-memory test database: the worker holds a table lock
        return None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_deletion_to_the_end(
    tmp_path, settings, sqlite_host, media_root, approved_request, celery_worker
):
    host_db = sqlite_host
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    request = approved_request()
    sweeper.dispatch_due()
    assert wait_until(lambda: status_of(request) == "completed", timeout=60)
    assert host_db.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]


def test_a_worker_runs_the_next_steps_itself_without_broker_round_trips(
    tmp_path, settings, sqlite_host, media_root, approved_request, celery_worker, published
):
    """A worker consuming every queue: after the first message of each store, erase, verify and
    finish follow in the same worker, each claimed and recorded as if it had come by message."""
    settings.PORTAL_STORES_FILE = str(write_stores(tmp_path / "stores.toml", sqlite_host, media_root))
    ledger_row_of_someone_by_user_id()  # keeps the ledger store (azure queue) in the plan
    request = approved_request()
    sweeper.dispatch_due()  # starts here, in the test: one discovery message per store (they run in parallel)
    assert wait_until(lambda: status_of(request) == "completed", timeout=60)
    kinds = dict(StoreTask.objects.filter(request=request).values_list("store", "store_kind"))
    own = [k for k in kinds.values() if dispatch.queue_for(k) == "stores"]
    # one discovery message per host-app store; the ledger store's steps live on the azure
    # queue, so a hand-off to it from a stores-queue step is a message too (its discovery and its erase)
    assert [m for m in published if m[1] == "stores"] == [("stores.run_store_task", "stores")] * len(own)
    assert [m for m in published if m[1] != "stores"] == [("stores.run_store_task", "azure")] * 2
    assert set(StoreTask.objects.filter(request=request).values_list("status", "attempts")) == {(ST.SUCCEEDED, 1)}


ALL_QUEUES = frozenset({"default", "stores", "azure"})


@pytest.mark.django_db(transaction=True)
def test_steps_for_a_queue_this_worker_does_not_consume_go_by_message(stores_file, approved_request, published):
    request = approved_request()
    execute.run_chain(lambda: planning.start(request.pk), frozenset({"default"}))
    handed_out = request.store_tasks.filter(dispatched_at__isnull=False).count()
    assert handed_out >= 1
    assert published == [("stores.run_store_task", "stores")] * handed_out
    assert not StoreTask.objects.filter(request=request, status=ST.RUNNING).exists()


@pytest.mark.django_db(transaction=True)
def test_a_kept_step_not_run_is_handed_back_to_the_broker(stores_file, approved_request, published, monkeypatch):
    request = approved_request()
    monkeypatch.setattr(execute, "chain_budget", lambda: 0)  # the budget is spent at once
    execute.run_chain(lambda: planning.start(request.pk), ALL_QUEUES)
    handed_out = request.store_tasks.filter(dispatched_at__isnull=False).count()
    # one discovery was kept, not run, and handed back: every task handed out has its message
    assert handed_out >= 1
    assert published == [("stores.run_store_task", "stores")] * handed_out
    assert set(request.store_tasks.values_list("status", flat=True)) == {ST.PENDING}


@pytest.mark.django_db(transaction=True)
def test_a_hand_out_that_rolls_back_is_not_kept(stores_file, approved_request, published, monkeypatch):
    request = approved_request()
    with TestCase.captureOnCommitCallbacks(execute=False):
        planning.start(request.pk)
    published.clear()
    task = request.store_tasks.filter(phase="discover").first()
    ran: list[int] = []
    monkeypatch.setattr(execute, "execute_task", ran.append)

    def step_whose_commit_fails():
        try:
            with transaction.atomic():
                dispatch.enqueue(task)
                raise OperationalError("connection lost at commit")
        except OperationalError:
            pass

    execute.run_chain(step_whose_commit_fails, ALL_QUEUES)
    assert ran == [] and published == []
