"""Fixtures for abuse tests: fresh rate limits, sample files, a report, a host-app webhook receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings, tmp_path):
    """Rate-limit counters live in the shared cache; every test starts from zero, with its own file store."""
    cache.clear()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private"), "base_url": "/never-served/"},
        },
    }
    yield
    cache.clear()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def report_data(**overrides) -> dict:
    data = {
        "category": "privacy",
        "locations": "https://App.Example.com/photos/123/?utm_source=mail#top",
        "explanation": "My photo is used for face matching without my consent.",
        "reporter_name": "Alice",
        "reporter_email": "alice@example.com",
        "good_faith": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.calls.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
        status = self.server.statuses.pop(0) if self.server.statuses else 204
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "7")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(settings):
    """A real HTTP endpoint standing in for the host app; ``webhook.calls`` lists what it received."""
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    server.calls = []
    server.statuses = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PORTAL_ABUSE_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/abuse-hook"
    yield server
    server.shutdown()
    server.server_close()


def submit(
    *,
    category="privacy",
    locations="https://app.example.com/p/1",
    email="alice@example.com",
    ip="192.0.2.10",
    name="Alice",
    channel="web",
    **extra,
):
    """File a notice through the service, as the form does."""
    from abuse_app import services
    from abuse_app.targets import parse_locations

    data = services.NoticeInput(
        category=category,
        locations=parse_locations(locations),
        explanation="Explanation of the problem.",
        good_faith=True,
        reporter_name=name,
        reporter_email=email,
        **extra,
    )
    return services.notice_submit(data, ip=ip, channel=channel)


@pytest.fixture
def cs_moderator(db):
    """Cora: a child-safety moderator (the only role that sees child-safety evidence or reports it)."""
    from portal import roles
    from tests.conftest import _staff

    return _staff("cora", roles.CHILD_SAFETY_MODERATORS)


@pytest.fixture
def cybertipline(settings):
    """The fake CyberTipline API, with the portal's settings pointing at it."""
    from abuse_app.fakes.cybertipline import FakeCyberTipline
    from abuse_app.services import cybertipline as submission

    with FakeCyberTipline() as fake:
        settings.PORTAL_CYBERTIPLINE_URL = fake.url
        settings.PORTAL_CYBERTIPLINE_USERNAME = fake.username
        settings.PORTAL_CYBERTIPLINE_PASSWORD = fake.password
        settings.PORTAL_CYBERTIPLINE_REPORTER_EMAIL = "safety@example.com"
        settings.PORTAL_CYBERTIPLINE_LEGAL_URL = "https://example.com/terms"
        submission._SCHEMAS.clear()
        yield fake
        submission._SCHEMAS.clear()


def real_png(size: int = 64) -> bytes:
    """A decodable checkerboard PNG (sharp edges: blurring it changes it a lot)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (size, size), (255, 255, 255))
    for x in range(size):
        for y in range(size):
            if (x // 4 + y // 4) % 2:
                image.putpixel((x, y), (200, 20, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def child_safety_case(
    client, location: str = "https://app.example.com/p/9", account_id: str = "user-42", content: bytes = PNG
):
    """A case with an evidence file (from an earlier notice) that a child-safety notice then joined."""
    from abuse_app.models import Case

    client.post(
        "/report/",
        report_data(category="illegal", law="§184b StGB", locations=location, evidence=[upload("shot.png", content)]),
    )
    client.post(
        "/report/?lane=child-safety",
        {
            "lane": "child-safety",
            "category": "minors",
            "locations": location,
            "explanation": "A child is shown.",
            "good_faith": "on",
        },
    )
    case = Case.objects.get(target_display=location)
    assert case.is_child_safety
    Case.objects.filter(pk=case.pk).update(target_account_id=account_id)
    case.refresh_from_db()
    return case
