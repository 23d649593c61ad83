"""erase_subject, export_subject, verify_receipt and demo_hostapp: staff tools, audited."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest

pytestmark = pytest.mark.django_db


def test_erase_subject_dry_run_counts_and_changes_nothing(stores_file, host_db, media_root, capsys):
    call_command("erase_subject", email="Alice@Example.com", dry_run=True)
    out = capsys.readouterr().out
    assert "Dry run: nothing was changed." in out
    assert "media_photo: 3" in out
    assert host_db.scalar("SELECT COUNT(*) FROM accounts_user") == 3
    assert (media_root / "avatars" / "1" / "me.png").exists()
    assert not PrivacyRequest.objects.exists()
    assert AuditEvent.objects.filter(action="erase_dry_run").count() == 1


def test_erase_subject_erases_prints_a_summary_and_audits(stores_file, host_db, capsys):
    call_command("erase_subject", email="alice@example.com")
    out = capsys.readouterr().out
    request = PrivacyRequest.objects.get()
    assert request.status == "completed" and request.channel == "staff"
    assert "completed and verified" in out
    assert "[########################] 6/6" in out  # app-db, uploads × 3 phases (no ledger row: no ledger store)
    assert re.search(r"app-db\s+11\s+0\s+9\s+2\s+gone", out)
    assert host_db.rows("SELECT id FROM accounts_user ORDER BY id") == [(2,), (3,)]
    actions = list(request.timeline().values_list("action", flat=True))
    assert actions[0] == "created_by_command" and actions[-1] == "execution_completed"
    assert mail.outbox == []  # the person is e-mailed only with --notify


def test_erase_subject_refuses_a_bad_email(db):
    with pytest.raises(CommandError, match="--email: 'not-an-email' is not an e-mail address"):
        call_command("erase_subject", email="not-an-email")


def test_erase_subject_reports_needs_attention(stores_file, host_db):
    with host_db.cursor() as c:
        c.execute("DROP TABLE social_follow")
    with pytest.raises(CommandError, match=r'needs attention: Store "app-db", discover: .*social_follow'):
        call_command("erase_subject", email="alice@example.com")


def test_export_subject_writes_the_zip_and_keeps_no_copy(stores_file, tmp_path, settings, capsys):
    out = tmp_path / "alice.zip"
    call_command("export_subject", email="alice@example.com", out=str(out))
    with zipfile.ZipFile(out) as archive:
        users = json.loads(archive.read("app-db/accounts_user.json"))
    assert users[0]["username"] == "alice"
    request = PrivacyRequest.objects.get()
    assert request.package.deleted_at is not None
    assert not (settings.PORTAL_PRIVATE_ROOT / request.package.path).exists()
    assert "package_exported_by_command" in request.timeline().values_list("action", flat=True)


def test_export_subject_refuses_a_missing_folder(stores_file, tmp_path):
    with pytest.raises(CommandError, match="--out: the folder .* does not exist"):
        call_command("export_subject", email="alice@example.com", out=str(tmp_path / "no" / "x.zip"))


def test_verify_receipt_accepts_the_emailed_file_and_rejects_a_changed_one(stores_file, tmp_path, capsys):
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("erase_subject", email="alice@example.com", notify=True)
    [message] = mail.outbox
    name, content, _ = message.attachments[0]
    path = tmp_path / name
    path.write_bytes(content)
    call_command("verify_receipt", str(path))
    assert "VALID" in capsys.readouterr().out

    document = json.loads(content)
    document["receipt"]["stores"][0]["erased"] = 0
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="INVALID"):
        call_command("verify_receipt", str(path))


def test_verify_receipt_survives_key_rotation(stores_file, settings, tmp_path, capsys):
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "keys.json")
    call_command("erase_subject", email="alice@example.com")
    reference = PrivacyRequest.objects.get().reference
    call_command("rotate_receipt_key")
    call_command("verify_receipt", reference=reference)
    assert "VALID" in capsys.readouterr().out


def test_demo_hostapp_is_idempotent_and_works_with_the_example_file(tmp_path, monkeypatch, settings, capsys):
    from pathlib import Path

    from requests_app.stores import registry

    monkeypatch.setenv("PORTAL_DEMO_DIR", str(tmp_path / "demo"))
    call_command("demo_hostapp")
    call_command("demo_hostapp")
    assert "already in" in capsys.readouterr().out
    registry._cache.clear()
    settings.PORTAL_STORES_FILE = str(Path(settings.BASE_DIR) / "docs" / "examples" / "stores.toml")
    call_command("check_stores")
    call_command("erase_subject", email="alice@example.com")
    assert PrivacyRequest.objects.get().status == "completed"
    assert not (tmp_path / "demo" / "media" / "avatars" / "1").exists()
    assert (tmp_path / "demo" / "media" / "avatars" / "2").exists()
    registry._cache.clear()
