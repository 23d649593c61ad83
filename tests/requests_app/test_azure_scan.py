"""manage.py azure_scan: Azure resources whose subject the ledger does not cover; nothing is changed."""

from __future__ import annotations

# ruff: noqa: F811  - pytest fixtures imported from tests.fakes.fixtures)
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command

from requests_app import ledger
from requests_app.models import AzureScan
from requests_app.stores.azure.common import template_identity
from tests.fakes.fixtures import _fresh_rate_limiter, fake_face, fake_vi  # noqa: F401
from tests.requests_app.azure_helpers import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def scan_stores(tmp_path, settings, fake_face, fake_vi):
    db = Path(tmp_path) / "host.sqlite3"
    with sqlite3.connect(db) as c:  # the host app's users: where user_id comes from
        c.execute("CREATE TABLE accounts_user (id INTEGER PRIMARY KEY, email TEXT)")
    path = Path(tmp_path) / "stores.toml"
    path.write_text(f"""
[[store]]
name = "app-db"
kind = "sql"
url = "sqlite:///{db}"
  [[store.table]]
  name = "accounts_user"
  match = {{ email = "email" }}
  provides = {{ user_id = "id" }}

[[store]]
name = "face"
kind = "azure_face"
endpoint = "{fake_face.url}"
key = "{fake_face.key}"
person_groups = ["app-users"]
user_data = "user:{{user_id}}"
max_tps = 1000

[[store]]
name = "videos"
kind = "azure_video_indexer"
endpoint = "{fake_vi.url}"
arm_endpoint = "{fake_vi.url}"
location = "{fake_vi.location}"
account_id = "{fake_vi.account_id}"
subscription_id = "sub"
resource_group = "rg"
account_name = "vi"
bearer_token = "{fake_vi.arm_token}"
external_ids = ["user-{{user_id}}-*"]
max_tps = 1000
""")
    settings.PORTAL_STORES_FILE = str(path)
    return path


def test_template_identity_reads_the_subject_out_of_the_host_apps_format():
    assert template_identity("user:{user_id}", "user:42") == ("user_id", "42")
    assert template_identity("user-{user_id}-*", "user-42-a.mp4") == ("user_id", "42")
    assert template_identity("users/{user_id}/*", "users/42/x/y.jpg") == ("user_id", "42")
    assert template_identity("user:{user_id}", "member:42") is None


def test_scan_lists_unledgered_and_surviving_resources_and_changes_nothing(scan_stores, fake_face, fake_vi, capsys):
    known, _ = fake_face.add_person("app-users", user_data="user:42")
    row("face", fake_face.url, "person", known, subject="42", parents={"person_group": "app-users"})
    unknown, _ = fake_face.add_person("app-users", user_data="user:7")  # never recorded in the ledger
    survivor, _ = fake_face.add_person("app-users", user_data="user:9")  # its subject was erased
    erased = row("face", fake_face.url, "person", "gone-person", subject="9", parents={"person_group": "app-users"})
    ledger.tombstone([erased.pk], None)
    fake_face.add_person("app-users", user_data="not-a-user-tag")
    video = fake_vi.add_video(external_id="user-7-holiday.mp4")
    fake_vi.add_video(external_id="unrelated")
    fake_face.reset_counters()
    fake_vi.reset_counters()

    call_command("azure_scan")

    scan = AzureScan.objects.get()
    assert scan.scanned == 4 and scan.errors == []
    found = {(o["store"], o["where"].rsplit("/", 1)[-1], o["identity_value"], o["why"]) for o in scan.orphans}
    assert found == {
        ("face", unknown, "7", "no live ledger row for this subject (sent without being recorded?)"),
        ("face", survivor, "9", "the subject's ledger rows were erased: this survived the deletion"),
        ("videos", video, "7", "no live ledger row for this subject (sent without being recorded?)"),
    }
    # read-only: listings, plus Video Indexer's access-token request to ARM (POST …/generateAccessToken)
    writes = [c for c in fake_face.calls + fake_vi.calls if not c.startswith("GET ")]
    assert writes and all(c.startswith("POST ") and c.endswith("/generateAccessToken") for c in writes)
    assert len(fake_face.groups["persongroups"]["app-users"]["persons"]) == 4
    assert "3 orphan(s); nothing was changed" in capsys.readouterr().out


def test_scan_pages_through_a_large_group(scan_stores, fake_face):
    for i in range(1205):  # two full pages of 1,000 … then the rest
        fake_face.add_person("app-users", user_data=f"user:{i}")
    call_command("azure_scan")
    assert AzureScan.objects.get().scanned == 1205
    assert sum(1 for call in fake_face.calls if call.endswith("/persons")) == 2
