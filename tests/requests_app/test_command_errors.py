"""Bad input to requests_app's commands: a CommandError that names the problem, never a traceback."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from requests_app.models import PrivacyRequest


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- verify_receipt ------------------------------------------------------------------------------
def test_verify_receipt_of_a_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="is a folder; give the receipt file"):
        run("verify_receipt", str(tmp_path))


def test_verify_receipt_of_a_binary_file(tmp_path):
    path = tmp_path / "receipt.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError, match="receipt.json: This is not a receipt"):
        run("verify_receipt", str(path))


def test_verify_receipt_key_list_that_is_a_folder(tmp_path):
    from requests_app.management.commands.verify_receipt import load_public_keys

    with pytest.raises(CommandError, match="is a folder; give the saved key list"):
        load_public_keys(str(tmp_path))


# --- check_stores ------------------------------------------------------------------------------------
def test_check_stores_on_a_folder_says_so(tmp_path):
    with pytest.raises(CommandError, match="is a folder; give the stores file itself"):
        run("check_stores", "--file", str(tmp_path), "--no-connect")


def test_check_stores_on_a_binary_file_says_so(tmp_path):
    path = tmp_path / "stores.toml"
    path.write_bytes(b"\xf4\x90\x80\x80 not utf-8")
    with pytest.raises(CommandError, match="not a text file; a stores file is TOML in UTF-8"):
        run("check_stores", "--file", str(path), "--no-connect")


# --- export_subject / erase_subject ----------------------------------------------------------------------
@pytest.mark.django_db
def test_export_to_an_unwritable_folder_refused_before_anything_runs(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)  # root ignores chmod; simulate the refusal
    with pytest.raises(CommandError, match="cannot write to .*locked.*Permission denied"):
        run("export_subject", "--email", "sam@example.com", "--out", str(folder / "sam.zip"))
    assert not PrivacyRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["erase_subject", "export_subject"])
def test_bad_email_is_named(command, tmp_path):
    extra = ["--out", str(tmp_path / "x.zip")] if command == "export_subject" else []
    with pytest.raises(CommandError, match="--email: 'sam at example' is not an e-mail address"):
        run(command, "--email", "sam at example", *extra)
    assert not PrivacyRequest.objects.exists()


# --- azure_fakes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "give a port from 1 to 65533"),
        (["--port", "http"], "'http' is not a port number"),
        (["--latency", "-1"], "give 0 or more"),
        (["--tps", "0"], "give 0.1 or more"),
        (["--tps", "nan"], "give 0.1 or more"),
    ],
)
def test_azure_fakes_bad_numbers_are_named(args, message):
    with pytest.raises(CommandError, match=message):
        run("azure_fakes", *args)


def test_azure_fakes_port_in_use_is_named():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port} .*--port"):
            run("azure_fakes", "--port", str(port))
