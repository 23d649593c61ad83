import pytest
from django.core.exceptions import ValidationError

from abuse_app.evidence import check_file, check_files, sniff
from tests.abuse_app.conftest import EXE, JPEG, PDF, PNG, upload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "head,expected",
    [
        (JPEG, "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (PDF, "application/pdf"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", None),
        (EXE, None),
    ],
)
def test_sniff_recognises_allowed_types_by_content(head, expected):
    assert sniff(head) == expected


def test_check_file_utf8_text_accepted_with_hash_and_size():
    checked = check_file(upload("notes.txt", "Grüße — threats quoted here\n".encode()))
    assert checked.content_type == "text/plain"
    assert checked.size == len("Grüße — threats quoted here\n".encode())
    assert len(checked.sha256) == 64


def test_check_file_executable_named_jpg_refused():
    with pytest.raises(ValidationError) as exc:
        check_file(upload("photo.jpg", EXE, "image/jpeg"))
    assert "photo.jpg" in exc.value.messages[0]
    assert "program" in exc.value.messages[0]


def test_check_file_binary_junk_refused_as_unknown_type():
    with pytest.raises(ValidationError) as exc:
        check_file(upload("data.txt", b"\x00\x01\x02\x03" * 50))
    assert "not one of the allowed types" in exc.value.messages[0]


def test_check_file_type_not_allowed_by_operator_refused(settings):
    settings.PORTAL_ABUSE_EVIDENCE_TYPES = ["image/png"]
    with pytest.raises(ValidationError):
        check_file(upload("doc.pdf", PDF))


def test_check_file_oversized_refused_with_limit_named(settings):
    settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as exc:
        check_file(upload("big.png", PNG + b"\x00" * 2000))
    assert "1.0\xa0KB" in exc.value.messages[0] or "1.0 KB" in exc.value.messages[0]


def test_check_files_too_many_refused(settings):
    settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES = 2
    with pytest.raises(ValidationError) as exc:
        check_files([upload(f"{i}.png", PNG) for i in range(3)])
    assert "at most 2" in exc.value.messages[0]
