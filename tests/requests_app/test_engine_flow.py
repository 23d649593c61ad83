"""The engine end to end on a real host-app database (SQLite and PostgreSQL) and a real folder.

These drive requests with ``run_local`` — the same claim/run/record code the
Celery workers run, without a broker — so every step is deterministic.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from portal.models import AuditEvent
from requests_app.engine import local, receipt
from requests_app.engine import plan as planning
from requests_app.models import AccessPackage, PrivacyRequest, StoreTask, SubjectIdentity
from requests_app.stores import registry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def run(request):
    """Run to the end; on-commit work (e-mails, staging clean-up) runs as it would after a real commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return local.run_local(request)


def test_deletion_completes_and_is_exact(stores_file, host_db, media_root, approved_request):
    request = run(approved_request("deletion"))

    assert request.status == PrivacyRequest.Status.COMPLETED
    assert host_db.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]
    assert host_db.rows("SELECT id FROM media_photo_likes") == [(3,)]
    assert host_db.rows("SELECT id FROM social_follow") == [(3,)]
    assert host_db.rows("SELECT author_id, body FROM forum_comment ORDER BY id") == [
        (None, "[removed]"),
        (None, "[removed]"),
        (2, "bob says hi"),
    ]
    assert not (media_root / "avatars" / "1").exists()
    assert not (media_root / "voice" / "1.wav").exists()
    assert not (media_root / "exports" / "1-2025.csv").exists()
    assert (media_root / "avatars" / "2" / "me.png").exists()
    assert (media_root / "exports" / "12-2025.csv").exists()


def test_deletion_receipt_counts_every_store_and_verifies(stores_file, approved_request):
    request = run(approved_request("deletion"))

    stores = {s["store"]: s for s in request.receipt["stores"]}
    assert stores["app-db"]["found"] == 11
    assert (stores["app-db"]["erased"], stores["app-db"]["anonymised"]) == (9, 2)
    assert stores["app-db"]["verified_gone"] is True
    assert stores["uploads"]["found"] == 4
    assert stores["uploads"]["erased"] == 4
    assert stores["uploads"]["verified_gone"] is True
    assert receipt.verify(request.receipt, request.receipt_signature)
    assert "alice" not in json.dumps(request.receipt).lower()


def test_deletion_sends_receipt_email_with_signed_attachments(stores_file, approved_request):
    request = run(approved_request("deletion", language="en"))

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert request.reference in message.subject
    names = [a[0] for a in message.attachments]
    assert names == [f"receipt-{request.reference}.json", f"receipt-{request.reference}.html"]
    document = json.loads(message.attachments[0][1])
    assert receipt.verify(document["receipt"], document["signature"])


def test_identities_are_purged_when_the_request_closes(stores_file, approved_request):
    request = run(approved_request("deletion"))
    assert not SubjectIdentity.objects.filter(request=request).exists()


def test_user_id_is_discovered_before_the_files_store_runs(stores_file, approved_request):
    order = []
    request = approved_request("deletion")
    with TestCase.captureOnCommitCallbacks(execute=True):
        local.run_local(request, progress=lambda task, outcome: order.append((task.store, task.phase)))
    assert order.index(("app-db", "discover")) < order.index(("uploads", "discover"))
    assert order.index(("uploads", "discover")) < order.index(("app-db", "erase"))
    assert order.index(("app-db", "erase")) < order.index(("app-db", "verify"))


def test_every_task_records_counts_and_times(stores_file, approved_request):
    request = run(approved_request("deletion"))
    tasks = {(t.store, t.phase): t for t in request.store_tasks.all()}
    stores = ("app-db", "uploads")  # the ledger has no row for this subject: its store is skipped at plan time
    assert set(tasks) == {(s, p) for s in stores for p in ("discover", "erase", "verify")}
    erase = tasks[("app-db", "erase")]
    assert erase.status == StoreTask.Status.SUCCEEDED
    assert erase.attempts == 1
    assert erase.started_at and erase.finished_at
    assert erase.detail["tables"]["forum_comment"] == {"mode": "anonymize", "rows": 2}
    assert tasks[("app-db", "discover")].detail["tables"]["media_photo"] == 3


def test_access_builds_a_package_with_index_json_and_files(stores_file, approved_request):
    request = run(approved_request("access"))

    assert request.status == PrivacyRequest.Status.COMPLETED
    package = AccessPackage.objects.get(request=request)
    path = Path(pytest.importorskip("django.conf").settings.PORTAL_PRIVATE_ROOT) / package.path
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        users = json.loads(archive.read("app-db/accounts_user.json"))
        index = archive.read("index.html").decode()
    assert "index.html" in names
    assert "uploads/files/avatars/1/me.png" in names
    assert "uploads/files/avatars/1/old/me-2019.png" in names
    assert "uploads/files/voice/1.wav" in names
    assert not any("/2/" in n or n.endswith("2.wav") for n in names)
    assert [u["username"] for u in users] == ["alice"]
    assert "media_photo" in index and request.reference in index


def test_access_leaves_the_host_data_alone(stores_file, host_db, media_root, approved_request):
    run(approved_request("access"))
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3
    assert (media_root / "avatars" / "1" / "me.png").exists()


def _clear_with_code(client, path: str) -> None:
    """What the requester does: ask for the e-mailed code and type it in."""
    code = _send_code(client, path)
    assert b"Download the ZIP file" in client.post(path, {"action": "check_code", "code": code}).content


def test_access_email_links_to_the_download_page(stores_file, approved_request, client):
    run(approved_request("access"))
    [message] = mail.outbox
    link = next(word for word in message.body.split() if "/requests/download/" in word)
    path = link.replace("http://testserver", "")

    page = client.get(path)
    assert page.status_code == 200
    assert b"E-mail me a code" in page.content and b"Download the ZIP file" not in page.content
    assert client.post(path).status_code == 403  # the link alone does not hand the data over

    _clear_with_code(client, path)
    download = client.post(path)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert "index.html" in archive.namelist()


def test_download_is_audited_and_limited(stores_file, approved_request, client, settings):
    request = run(approved_request("access"))
    path = next(w for w in mail.outbox[0].body.split() if "/requests/download/" in w).replace("http://testserver", "")
    AccessPackage.objects.filter(request=request).update(max_downloads=1)

    _clear_with_code(client, path)
    assert client.post(path).status_code == 200
    again = client.post(path)
    assert again.status_code == 410
    assert b"used as many times as allowed" in again.content
    events = AuditEvent.objects.filter(subject_id=str(request.pk), action="package_downloaded")
    assert events.count() == 1


def test_expired_download_shows_a_friendly_page(stores_file, approved_request, client):
    request = run(approved_request("access"))
    path = next(w for w in mail.outbox[0].body.split() if "/requests/download/" in w).replace("http://testserver", "")
    AccessPackage.objects.filter(request=request).update(expires_at=timezone.now())
    response = client.get(path)
    assert response.status_code == 410
    assert b"no longer available" in response.content


def test_unknown_download_token_is_404(client, db):
    assert client.get("/requests/download/dl_notarealtoken/").status_code == 404


def test_expire_packages_deletes_the_file(stores_file, approved_request, settings):
    from requests_app.engine.finish import expire_packages

    request = run(approved_request("access"))
    package = AccessPackage.objects.get(request=request)
    path = Path(settings.PORTAL_PRIVATE_ROOT) / package.path
    assert expire_packages() == 0
    AccessPackage.objects.filter(pk=package.pk).update(expires_at=timezone.now())
    assert expire_packages() == 1
    assert not path.exists()
    package.refresh_from_db()
    assert package.deleted_at is not None


def test_staging_is_removed_after_the_package_is_built(stores_file, approved_request, settings):
    from requests_app.engine.package_sinks import staging_root

    request = run(approved_request("access"))
    assert not staging_root(request.pk).exists()


def _download_path() -> str:
    return next(w for w in mail.outbox[0].body.split() if "/requests/download/" in w).replace("http://testserver", "")


def _send_code(client, path: str) -> str:
    """Ask for a code on the download page; returns the code from the e-mail it sent."""
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(path, {"action": "send_code"})
    return re.search(r"^\s+(\d{6})$", mail.outbox[-1].body, re.M).group(1)


def test_download_code_goes_to_the_confirmed_address_only_and_is_single_use(stores_file, approved_request, client):
    request = run(approved_request("access"))
    path = _download_path()
    code = _send_code(client, path)
    [message] = mail.outbox
    assert message.to == [request.email]
    assert code not in AccessPackage.objects.get(request=request).code_hash
    other = type(client)()
    assert other.post(path, {"action": "check_code", "code": code}).status_code == 200
    assert other.post(path).status_code == 200  # cleared in that browser...
    assert client.post(path, {"action": "check_code", "code": code}).status_code == 400  # ...and used up


def test_wrong_download_codes_lock_after_five_tries(stores_file, approved_request, client):
    run(approved_request("access"))
    path = _download_path()
    code = _send_code(client, path)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert "not right" in client.post(path, {"action": "check_code", "code": wrong}).content.decode()
    assert "Too many wrong codes" in client.post(path, {"action": "check_code", "code": wrong}).content.decode()
    assert "Too many wrong codes" in client.post(path, {"action": "check_code", "code": code}).content.decode()
    assert client.post(path).status_code == 403


def test_download_code_expires_after_ten_minutes(stores_file, approved_request, client):
    import time_machine

    run(approved_request("access"))
    path = _download_path()
    code = _send_code(client, path)
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=11)):
        response = client.post(path, {"action": "check_code", "code": code})
    assert response.status_code == 400 and "has expired" in response.content.decode()


def test_the_browser_that_confirmed_the_request_needs_no_code(stores_file, approved_request, client):
    from requests_app.engine import reauth

    request = run(approved_request("access"))
    path = _download_path()
    session = client.session
    reauth.remember_verified(session, request.pk)
    session.save()
    assert b"Download the ZIP file" in client.get(path).content
    assert client.post(path).status_code == 200


def test_staff_revokes_a_download_link_and_it_stops_at_once(
    stores_file, approved_request, client, staff_client, officer
):
    request = run(approved_request("access"))
    path = _download_path()
    package = AccessPackage.objects.get(request=request)
    response = staff_client(officer).post(
        "/admin/requests_app/accesspackage/", {"action": "revoke", "_selected_action": [package.pk]}
    )
    assert response.status_code == 302
    assert client.get(path).status_code == 410
    assert request.timeline().filter(action="package_link_revoked").exists()


def test_ledger_store_is_planned_only_when_the_ledger_could_name_the_subject(stores_file, approved_request):
    from tests.requests_app.azure_helpers import row as transmission

    def planned(request):
        planning.plan(request, registry.load().stores)
        return {t.store for t in request.store_tasks.all()}

    # Rows of someone else, recorded by e-mail (a kind the subject is known by now): cannot be theirs.
    transmission("face", "https://face.example", "person", "p-1", subject="bob@example.org", subject_kind="email")
    assert "azure-ledger" not in planned(approved_request("deletion"))
    # A row by the subject's own e-mail: planned.
    transmission("face", "https://face.example", "person", "p-2", subject="alice@example.com", subject_kind="email")
    assert "azure-ledger" in planned(approved_request("deletion"))


def test_ledger_rows_by_an_id_not_known_yet_keep_the_ledger_store(stores_file, approved_request):
    from tests.requests_app.azure_helpers import row as transmission

    # Recorded by user_id: only discovery can tell whose it is, so the store stays in the plan.
    transmission("face", "https://face.example", "person", "p-3", subject="99", subject_kind="user_id")
    request = approved_request("access")
    planning.plan(request, registry.load().stores)
    assert request.store_tasks.filter(store="azure-ledger").exists()
