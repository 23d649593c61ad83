"""Deletion receipts signed with Ed25519: anyone verifies them, nothing can be changed, keys rotate."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from requests_app.engine import receipt, receipt_keys

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = {
    "receipt_version": 2,
    "reference": "PR-7KQ2-M9XD",
    "kind": "deletion",
    "jurisdiction": "gdpr",
    "scope_purpose": None,
    "received_at": "2026-11-30T10:00:00+00:00",
    "completed_at": "2026-12-01T10:00:00+00:00",
    "issued_by": {"operator": "Exämple Ltd", "app": "Example App", "contact": "privacy@example.com"},
    "resolved_manually": None,
    "stores": [
        {
            "store": "app-db",
            "kind": "sql",
            "found": 11,
            "found_by_table": {"accounts_user": 1},
            "erased": 9,
            "anonymised": 2,
            "verified_gone": True,
            "manual_steps": [],
            "status": "done",
        }
    ],
}


@pytest.fixture
def key_file(settings, tmp_path) -> Path:
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "keys" / "receipt-signing-keys.json")
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = True
    return Path(settings.PORTAL_RECEIPT_KEY_FILE)


def _signed_file(document=SAMPLE) -> bytes:
    signed, signature = receipt.sign(dict(document))
    return receipt.as_json(signed, signature)


def _here(raw: bytes) -> receipt.Verdict:
    return receipt.check_here(receipt.parse(raw))


def test_signed_receipt_names_its_key_and_algorithm_inside_the_signed_part(key_file):
    document = json.loads(_signed_file())
    assert set(document) == {"receipt", "signature"}
    assert document["receipt"]["alg"] == "Ed25519"
    [key] = receipt_keys.public_keys()
    assert document["receipt"]["kid"] == key.kid
    assert re.fullmatch(r"[0-9a-f]{128}", document["signature"])
    verdict = receipt.check_here(document)
    assert verdict.genuine and verdict.kid == key.kid and verdict.key == key


def test_key_file_is_created_private_on_first_use(key_file):
    receipt.sign(dict(SAMPLE))
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_every_one_byte_change_of_the_file_fails_verification(key_file):
    raw = _signed_file()
    assert _here(raw).genuine
    accepted = []
    for position in range(len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        try:
            verdict = _here(bytes(changed))
        except receipt.ReceiptFormatError:
            continue  # no longer a receipt at all: not accepted either
        if verdict.genuine:
            accepted.append((position, raw[max(0, position - 20) : position + 20]))
    assert accepted == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["receipt"].__setitem__("alg", "SHA756"),
        lambda d: d["receipt"].__setitem__("alg", "HMAC-SHA256"),
        lambda d: d["receipt"].pop("alg"),
        lambda d: d.__setitem__("algorithm", "Ed25519"),
        lambda d: d["receipt"].__setitem__("kid", "0" * 16),
        lambda d: d.__setitem__("signature", d["signature"].upper()),
    ],
)
def test_changing_the_algorithm_or_key_fails(key_file, edit):
    document = json.loads(_signed_file())
    edit(document)
    assert not receipt.check_here(document).genuine


@pytest.mark.django_db
def test_rotation_keeps_old_receipts_verifying_and_forgets_the_old_private_key(key_file, capsys):
    old = _signed_file()
    old_kid = json.loads(old)["receipt"]["kid"]
    call_command("rotate_receipt_key")
    assert f"Retired key {old_kid}" in capsys.readouterr().out
    new = _signed_file()
    new_kid = json.loads(new)["receipt"]["kid"]
    assert new_kid != old_kid
    assert _here(old).genuine and _here(new).genuine
    assert _here(old).key.retired is not None
    stored = {k["kid"]: k for k in json.loads(key_file.read_text())["keys"]}
    assert stored[old_kid]["private_key"] is None and stored[old_kid]["retired"]
    assert stored[new_kid]["private_key"] and stored[new_kid]["retired"] is None


def test_production_never_creates_a_key_by_itself(settings, tmp_path):
    settings.PORTAL_RECEIPT_KEY_FILE = str(tmp_path / "missing.json")
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = False
    with pytest.raises(receipt_keys.KeyFileError, match="rotate_receipt_key"):
        receipt.sign(dict(SAMPLE))
    assert not (tmp_path / "missing.json").exists()


# --- receipts signed with HMAC before Ed25519 -------------------------------------------------------
def _legacy_file(key: str) -> bytes:
    document = {**SAMPLE, "receipt_version": 1, "key_id": receipt.legacy_key_id(key)}
    signature = hmac.new(key.encode(), receipt.canonical(document), hashlib.sha256).hexdigest()
    return json.dumps({"receipt": document, "signature": signature, "algorithm": "HMAC-SHA256"}).encode()


@pytest.mark.django_db
def test_hmac_receipts_from_before_keep_verifying_with_the_old_key(key_file, settings):
    raw = _legacy_file(settings.PORTAL_SIGNING_KEYS[0])
    call_command("rotate_receipt_key")
    verdict = _here(raw)
    assert verdict.genuine and verdict.alg == "HMAC-SHA256"


def test_hmac_receipt_with_an_edited_algorithm_name_fails(key_file, settings):
    document = json.loads(_legacy_file(settings.PORTAL_SIGNING_KEYS[0]))
    document["algorithm"] = "SHA756"
    assert not receipt.check_here(document).genuine


# --- verify_receipt: offline with the public key list only -----------------------------------------
def test_verify_receipt_offline_needs_only_the_public_key_file(key_file, tmp_path, settings, capsys):
    # No database (this test has no db fixture: any query would fail), no key file, no HMAC keys.
    receipt_path = tmp_path / "receipt.json"
    receipt_path.write_bytes(_signed_file())
    keys_path = tmp_path / "privacy-receipt-keys.json"
    keys_path.write_text(json.dumps(receipt_keys.public_document()))
    key_file.unlink()
    settings.PORTAL_SIGNING_KEYS = []
    settings.PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = False

    call_command("verify_receipt", str(receipt_path), keys=str(keys_path))
    assert "VALID" in capsys.readouterr().out

    receipt_path.write_bytes(receipt_path.read_bytes().replace(b'"erased": 9', b'"erased": 8'))
    with pytest.raises(CommandError, match="INVALID.*Changed"):
        call_command("verify_receipt", str(receipt_path), keys=str(keys_path))


def test_verify_receipt_offline_says_hmac_receipts_need_the_operator(key_file, tmp_path, settings):
    receipt_path = tmp_path / "old.json"
    receipt_path.write_bytes(_legacy_file(settings.PORTAL_SIGNING_KEYS[0]))
    keys_path = tmp_path / "keys.json"
    keys_path.write_text(json.dumps(receipt_keys.public_document()))
    with pytest.raises(CommandError, match="only the operator can check"):
        call_command("verify_receipt", str(receipt_path), keys=str(keys_path))


def test_verify_receipt_names_a_bad_keys_file(key_file, tmp_path):
    receipt_path = tmp_path / "receipt.json"
    receipt_path.write_bytes(_signed_file())
    (tmp_path / "keys.json").write_text("[1, 2]")
    with pytest.raises(CommandError, match="expected the public key list"):
        call_command("verify_receipt", str(receipt_path), keys=str(tmp_path / "keys.json"))


def test_standalone_verifier_in_the_docs_works(key_file, tmp_path):
    text = (ROOT / "docs" / "engine.md").read_text()
    script = re.search(r"<!-- standalone-verifier -->\n```python\n(.*?)```", text, re.S).group(1)
    (tmp_path / "verify.py").write_text(script)
    (tmp_path / "receipt.json").write_bytes(_signed_file())
    (tmp_path / "keys.json").write_text(json.dumps(receipt_keys.public_document()))

    def run():
        return subprocess.run(
            [sys.executable, "verify.py", "receipt.json", "keys.json"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    good = run()
    assert good.returncode == 0 and good.stdout.startswith("GENUINE: PR-7KQ2-M9XD"), good.stderr
    changed = (tmp_path / "receipt.json").read_text().replace('"found": 11', '"found": 12')
    (tmp_path / "receipt.json").write_text(changed)
    bad = run()
    assert bad.returncode == 1 and "CHANGED" in bad.stderr


# --- the public page and the key list -------------------------------------------------------------
@pytest.mark.django_db
def test_public_key_list_shows_current_and_retired_keys(client, key_file):
    receipt.sign(dict(SAMPLE))
    call_command("rotate_receipt_key")
    response = client.get("/.well-known/privacy-receipt-keys.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    keys = response.json()["keys"]
    assert [bool(k["retired"]) for k in keys] == [True, False]
    assert all(set(k) == {"kid", "alg", "public_key", "created", "retired"} for k in keys)
    assert "private" not in response.content.decode()


@pytest.mark.django_db
def test_verify_page_says_genuine_and_which_key(client, key_file):
    raw = _signed_file()
    kid = json.loads(raw)["receipt"]["kid"]
    response = client.post(reverse("receipt-verify"), {"receipt": raw.decode()})
    assert response.status_code == 200
    page = response.content.decode()
    assert "verdict-genuine" in page and kid in page and "PR-7KQ2-M9XD" in page


@pytest.mark.django_db
def test_verify_page_accepts_an_uploaded_file(client, key_file):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("receipt-PR-7KQ2-M9XD.json", _signed_file(), "application/json")
    response = client.post(reverse("receipt-verify"), {"file": upload})
    assert "verdict-genuine" in response.content.decode()


@pytest.mark.django_db
def test_verify_page_says_changed(client, key_file):
    raw = _signed_file().replace(b'"anonymised": 2', b'"anonymised": 3')
    response = client.post(reverse("receipt-verify"), {"receipt": raw.decode()})
    page = response.content.decode()
    assert response.status_code == 200 and "verdict-changed" in page and "Changed" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "posted, message",
    [
        ({"receipt": ""}, "Paste the receipt"),
        ({"receipt": "hello"}, "not valid JSON"),
        ({"receipt": "[1]"}, "expected {"),
        ({"receipt": '{"receipt": {}}'}, "expected {"),
    ],
)
def test_verify_page_explains_bad_input(client, key_file, posted, message):
    response = client.post(reverse("receipt-verify"), posted)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "verdict" not in response.content.decode().split("<main", 1)[1].split("<form", 1)[0]


@pytest.mark.django_db
def test_verify_page_refuses_both_paste_and_upload(client, key_file):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("receipt-verify"),
        {"receipt": _signed_file().decode(), "file": SimpleUploadedFile("r.json", _signed_file())},
    )
    assert "not both" in response.content.decode()


@pytest.mark.django_db
def test_every_page_links_to_the_verify_page(client):
    assert 'href="/receipts/verify/"' in client.get("/").content.decode()


# --- the admin: an auditor checks and downloads a receipt without a shell --------------------------
def _completed_with_receipt(raw: bytes):
    from requests_app.models import PrivacyRequest

    document = json.loads(raw)
    return PrivacyRequest.objects.create(
        kind="deletion",
        email="",
        status="completed",
        reference=document["receipt"]["reference"],
        receipt=document["receipt"],
        receipt_signature=document["signature"],
    )


def test_admin_shows_the_receipt_checked_now_with_a_download(staff_client, auditor, key_file):
    raw = _signed_file()
    request = _completed_with_receipt(raw)
    client = staff_client(auditor)
    page = client.get(f"/admin/requests_app/privacyrequest/{request.pk}/change/").content.decode()
    assert "pr-receipt-genuine" in page and "Verified now:" in page
    assert json.loads(raw)["receipt"]["kid"] in page
    download = client.get(f"/admin/requests_app/privacyrequest/{request.pk}/receipt.json")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="receipt-PR-7KQ2-M9XD.json"'
    assert receipt.check_here(receipt.parse(download.content)).genuine


def test_admin_shows_a_tampered_stored_receipt_as_failed(staff_client, auditor, key_file):
    request = _completed_with_receipt(_signed_file())
    request.receipt["stores"][0]["erased"] = 99
    request.save(update_fields=["receipt"])
    page = staff_client(auditor).get(f"/admin/requests_app/privacyrequest/{request.pk}/change/").content.decode()
    assert "pr-receipt-changed" in page and "Verification FAILED" in page
