"""Bodies are limited and the CSRF cookie checked before anything reads a body (portal/body_limits.py).

The requests go through Django's WSGI handler with a ``wsgi.input`` that fails the test if a
byte is read from it: "413 at once" and "403 before reading" are asserted, not assumed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

pytestmark = pytest.mark.django_db


class UnreadableInput(io.RawIOBase):
    """A request body nobody may read."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        raise AssertionError("the body was read")

    readline = read  # type: ignore[assignment]


class CountingInput(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def call_wsgi(method: str, path: str, body_stream, **environ) -> tuple[int, dict[str, str], bytes]:
    base = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD=method, **environ)
    base["wsgi.input"] = body_stream
    status: list[str] = []
    headers: dict[str, str] = {}

    def start_response(line: str, header_list: Iterable[tuple[str, str]], exc_info=None):
        status.append(line)
        headers.update(header_list)

    content = b"".join(WSGIHandler()(base, start_response))
    return int(status[0].split()[0]), headers, content


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_declared_oversize_api_body_is_413_without_reading(settings):
    stream = UnreadableInput()
    status, headers, content = call_wsgi(
        "POST",
        "/api/v1/privacy-requests/",
        stream,
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(settings.PORTAL_MAX_JSON_BYTES + 1),
    )
    assert status == 413
    assert stream.reads == 0
    assert b'"too_large"' in content and b"5 MB" in content


def test_declared_oversize_form_body_is_413_without_reading(settings):
    stream = UnreadableInput()
    status, _headers, content = call_wsgi(
        "POST",
        "/requests/find/",
        stream,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(settings.PORTAL_MAX_FORM_BYTES + 1),
    )
    assert status == 413
    assert stream.reads == 0
    assert b"at most 1 MB" in content


def test_report_form_takes_evidence_sized_bodies_other_forms_do_not(settings):
    """The report form's limit is the evidence limit: a 20 MB declared body is not refused up front."""
    length = str(10 * 1024 * 1024)
    status, _h, _c = call_wsgi(
        "POST",
        "/requests/find/",
        UnreadableInput(),
        CONTENT_TYPE="multipart/form-data; boundary=x",
        CONTENT_LENGTH=length,
    )
    assert status == 413
    # No CSRF cookie: refused by the CSRF check, still without reading the body.
    stream = UnreadableInput()
    status, _h, _c = call_wsgi(
        "POST", "/report/", stream, CONTENT_TYPE="multipart/form-data; boundary=x", CONTENT_LENGTH=length
    )
    assert status == 403
    assert stream.reads == 0


@pytest.mark.parametrize("path", ["/requests/find/", "/report/", "/requests/new/access/", "/receipts/verify/"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", MULTIPART_CONTENT])
def test_post_without_csrf_cookie_is_403_before_reading(path, content_type):
    stream = UnreadableInput()
    status, _headers, _content = call_wsgi("POST", path, stream, CONTENT_TYPE=content_type, CONTENT_LENGTH="100")
    assert status == 403
    assert stream.reads == 0


def test_oversize_upload_is_413_and_never_reaches_the_temp_dir(settings, tmp_path, client):
    settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES = 4096
    settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES = 1
    settings.PORTAL_MAX_FORM_BYTES = 16 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1  # anything read would be spooled to disk
    spool = tmp_path / "spool"
    spool.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spool)
    big = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 400_000)
    big.name = "huge.png"
    payload = encode_multipart(BOUNDARY, {"category": "privacy", "evidence": big})
    stream = CountingInput(payload)
    status, _headers, content = call_wsgi(
        "POST",
        "/report/",
        stream,
        CONTENT_TYPE=MULTIPART_CONTENT,
        CONTENT_LENGTH=str(len(payload)),
    )
    assert status == 413, content[:300]
    assert stream.bytes_read == 0
    assert list(spool.iterdir()) == []
    # The same through the test client (CSRF not enforced): still 413, still nothing spooled.
    big.seek(0)
    response = client.post("/report/", {"category": "privacy", "evidence": big})
    assert response.status_code == 413
    assert list(spool.iterdir()) == []


def test_chunked_body_is_cut_off_at_the_limit(settings):
    settings.PORTAL_MAX_FORM_BYTES = 16 * 1024
    stream = CountingInput(b"a=" + b"b" * 100_000)
    status, _headers, _content = call_wsgi(
        "POST",
        "/requests/find/",
        stream,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True},
    )
    assert status == 413
    assert stream.bytes_read == 16 * 1024 + 1


def test_chunked_body_within_the_limit_reaches_the_view(settings):
    stream = CountingInput(b"email=a%40example.com")
    status, _headers, _content = call_wsgi(
        "POST",
        "/requests/find/",
        stream,
        CONTENT_TYPE="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True},
    )
    assert status == 403  # read (within the limit), then the CSRF check: no cookie
    assert stream.bytes_read == len(b"email=a%40example.com")


@pytest.mark.parametrize("length", ["abc", "-5", "1e9"])
def test_bad_content_length_is_a_400(length):
    status, _headers, _content = call_wsgi(
        "POST",
        "/api/v1/privacy-requests/",
        UnreadableInput(),
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=length,
    )
    assert status == 400


def _multipart_with_raw_field(name: str, raw: bytes) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + raw
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def test_multipart_form_with_invalid_utf8_is_a_400(client):
    body = _multipart_with_raw_field("explanation", b"caf\xe9 \xff\xfe")
    response = client.generic("POST", "/report/", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400
    assert "explanation is not valid UTF-8" in response.content.decode()


def test_multipart_api_with_invalid_utf8_is_a_400(client):
    body = _multipart_with_raw_field("explanation", b"\xc3\x28 broken")
    response = client.generic("POST", "/api/v1/abuse-reports/", body, content_type=MULTIPART_CONTENT)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The form field explanation is not valid UTF-8."


def test_multipart_with_a_real_replacement_character_is_not_refused(client):
    body = _multipart_with_raw_field("explanation", "a genuine \ufffd".encode())
    response = client.generic("POST", "/report/", body, content_type=MULTIPART_CONTENT)
    # The form comes back with its own errors (missing fields), not the refusal page.
    assert "not valid UTF-8" not in response.content.decode()
    assert 'name="explanation"' in response.content.decode()
