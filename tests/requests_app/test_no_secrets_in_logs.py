"""After the requester and consent flows, no log line holds a subject's e-mail, phone, or any token issued.

Every HTTP request of the flows is also written to an access log exactly the way
gunicorn does it (logger ``gunicorn.access``, its default format with the full
request line and the Referer), because that is where links leaked before: the
request line carries the path and query string.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

import pytest
from django.core import mail
from django.test import Client, TestCase

from requests_app.engine import local
from requests_app.models import PrivacyRequest
from tests.requests_app.azure_helpers import purpose

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

EMAIL = "alice@example.com"  # the subject the host-app fixture database knows
PHONE = "+49 170 1234567"
TOKEN = re.compile(r"\b[a-z]{2,3}_[A-Za-z0-9_\-]{40,}")
# gunicorn's default access_log_format, logged with the atoms dict as gunicorn.glogging does
ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    handler = Captured()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


class AccessLoggedClient(Client):
    """The test client, plus one gunicorn-style access-log line per request."""

    referer = "-"

    def request(self, **environ):
        response = super().request(**environ)
        query = environ.get("QUERY_STRING", "")
        line = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}{'?' + query if query else ''} HTTP/1.1"
        atoms = {
            "h": "203.0.113.7",
            "l": "-",
            "u": "-",
            "t": datetime.now().strftime("[%d/%b/%Y:%H:%M:%S +0000]"),
            "r": line,
            "s": response.status_code,
            "b": response.get("Content-Length", "-"),
            "f": environ.get("HTTP_REFERER", self.referer),
            "a": "Mozilla/5.0",
        }
        logging.getLogger("gunicorn.access").info(ACCESS_FORMAT, atoms)
        self.referer = f"http://testserver{environ['PATH_INFO']}{'?' + query if query else ''}"
        return response


def _paths(message) -> list[str]:
    return [re.sub(r"^https?://[^/]+", "", url) for url in re.findall(r"https?://\S+", message.body)]


def _submit_and_follow(client: Client, issued: set[str]) -> PrivacyRequest:
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            "/requests/new/access/",
            {"email": EMAIL, "jurisdiction": "gdpr", "id_username": "alice", "id_phone": PHONE, "confirm": "on"},
        )
    verify = next(p for p in _paths(mail.outbox[-1]) if "/requests/verify/" in p)
    client.get(verify)
    with TestCase.captureOnCommitCallbacks(execute=True):
        status = client.post(verify)
    client.get(status["Location"])
    client.get("/requests/status/ps_" + "A" * 43 + "/")  # a miss: logged by django.request as 404
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/requests/find/", {"email": EMAIL})
    for message in mail.outbox:
        issued.update(TOKEN.findall(message.body))
    issued.update(TOKEN.findall(status["Location"]))
    for path in _paths(mail.outbox[-1]):
        client.get(path)
    return PrivacyRequest.objects.get(email=EMAIL)


def test_no_email_phone_or_token_in_any_log_after_the_flows(stores_file, api_key, captured_logs, settings):
    settings.PORTAL_EXTRA_IDENTIFIERS = ["username", "phone"]
    client = AccessLoggedClient()
    issued: set[str] = set()

    # A privacy request: form, confirmation link, status links, "send me my link again".
    request = _submit_and_follow(client, issued)
    # The engine runs it; the access package link from the e-mail is opened and used.
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        local.run_local(request)
    download = next(p for p in _paths(mail.outbox[-1]) if "/requests/download/" in p)
    issued.update(TOKEN.findall(download))
    client.get(download)
    client.post(download)

    # Consent: the host app asks for a link, the subject grants, then withdraws (erasure starts).
    purpose()
    api_key_row, raw_key = api_key("consents:write")
    issued.add(raw_key)
    link = client.post(
        "/api/v1/consents/links/",
        {"purpose": "face-verification", "subject": "4242", "email": "consent.subject@example.com"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    ).json()["url"]
    issued.update(TOKEN.findall(link))
    client.get(link.replace("http://testserver", ""))
    client.post("/consent/face-verification/", {"action": "grant", "notice_version": "1"})
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/consent/face-verification/", {"action": "withdraw"})
    for message in mail.outbox:
        issued.update(TOKEN.findall(message.body))

    lines = captured_logs.lines
    access = [line for line in lines if line.startswith("INFO gunicorn.access")]
    assert len(access) >= 12 and any("/requests/status/[token]/" in line for line in access)
    assert any("subject=[secret]" in line for line in access)
    assert len(issued) >= 6
    text = "\n".join(lines)
    leaks = [
        secret for secret in [EMAIL, "consent.subject@example.com", PHONE, "170 1234567", *issued] if secret in text
    ]
    assert leaks == [], f"found in the logs: {leaks}"
