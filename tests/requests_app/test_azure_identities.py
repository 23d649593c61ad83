"""Identities the host app keeps reach the Azure stores, in dry runs and worker runs alike.

A Face person id kept in the host database (``face_person_id``), and persons
tagged in the host app's own ``userData`` format (``user_data = "user:{user_id}"``).
Requests are driven with ``engine.local.run_local`` — the same
claim/run/record code (``execute_task``) the Celery workers run.
"""

from __future__ import annotations

# ruff: noqa: F811  - pytest fixtures imported from tests.fakes.fixtures)
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from requests_app.engine import local
from requests_app.models import PrivacyRequest
from tests.fakes.fixtures import _fresh_rate_limiter, fake_face  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

ALICE = "alice@example.com"


@pytest.fixture
def host_with_face_ids(tmp_path, settings, fake_face):
    """A host app whose user table keeps the Face person id of each user, and a stores file for it."""
    db = Path(tmp_path) / "host.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email TEXT, face_person_id TEXT)")
    stores = Path(tmp_path) / "stores.toml"
    stores.write_text(f"""
[[store]]
name = "app-db"
kind = "sql"
url = "sqlite:///{db}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id", face_person_id = "face_person_id" }}

[[store]]
name = "face"
kind = "azure_face"
endpoint = "{fake_face.url}"
key = "{fake_face.key}"
person_groups = ["app-users"]
user_data = "user:{{user_id}}"
max_tps = 1000
retry_backoff = 0.01
""")
    settings.PORTAL_STORES_FILE = str(stores)
    settings.PORTAL_STORE_TASK_BACKOFF_SECONDS = 0.01
    return db


def add_user(db: Path, user_id: int, email: str, face_person_id: str = "") -> None:
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO accounts_user VALUES (?, ?, ?)", (user_id, email, face_person_id or None))


def approved(email: str = ALICE) -> PrivacyRequest:
    now = timezone.now()
    return PrivacyRequest.objects.create(
        kind="deletion", status="approved", email=email, verified_at=now, approved_at=now
    )


def test_host_db_face_id_and_user_data_template_are_erased_through_the_workers(host_with_face_ids, fake_face):
    untagged, _ = fake_face.add_person("app-users", user_data="")  # known only by the host DB's column
    tagged, _ = fake_face.add_person("app-users", user_data="user:42")  # the host app's own format
    others = [fake_face.add_person("app-users", user_data=data)[0] for data in ("user:420", "user:7", "42")]
    add_user(host_with_face_ids, 42, ALICE, untagged)
    add_user(host_with_face_ids, 7, "bob@example.org")

    request = local.run_local(approved(), sleep=lambda seconds: None)

    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    persons = fake_face.groups["persongroups"]["app-users"]["persons"]
    assert untagged not in persons and tagged not in persons
    assert sorted(persons) == sorted(others)
    verify = request.store_tasks.get(store="face", phase="verify")
    assert verify.verified_gone


def test_dry_run_and_worker_run_make_the_same_discovery_calls(host_with_face_ids, fake_face):
    untagged, _ = fake_face.add_person("app-users", user_data="")
    fake_face.add_person("app-users", user_data="user:42")
    add_user(host_with_face_ids, 42, ALICE, untagged)

    fake_face.reset_counters()
    call_command("erase_subject", email=ALICE, dry_run=True)
    dry_run_calls = list(fake_face.calls)
    assert len(fake_face.groups["persongroups"]["app-users"]["persons"]) == 2  # nothing changed

    fake_face.reset_counters()
    request = local.run_local(approved(), sleep=lambda seconds: None)
    worker_calls = list(fake_face.calls)

    assert request.status == PrivacyRequest.Status.COMPLETED, request.attention_reason
    looked_up = f"GET /face/v1.2/persongroups/app-users/persons/{untagged}"
    assert looked_up in dry_run_calls  # the host DB's id, in the dry run...
    # ...and the worker's discovery makes exactly the dry run's calls, then erases and verifies.
    assert worker_calls[: len(dry_run_calls)] == dry_run_calls
    assert f"DELETE /face/v1.2/persongroups/app-users/persons/{untagged}" in worker_calls
