"""E-mail addresses as a browser's type=email accepts them; plain-text e-mail parts; absolute URLs.

Before: quoted local parts (``"<script>…"@example.com``) were accepted by /report/ and the API and
mailed to; decision e-mails showed ``&quot;&gt;`` in their text part; the abuse API built its
``status_url`` from the request's Host header.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import cache

from portal import mail
from portal.email_address import is_valid_email_address

pytestmark = pytest.mark.django_db

VALID = [
    "alice@example.com",
    "a.b+c@sub.example.co.uk",
    "x@localhost",
    "o'neil@example.com",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    "a@b-c.example",
]
INVALID = [
    '"<script>alert(1)</script>"@example.com',
    '"=HYPERLINK(1)"@example.com',
    '"a b"@example.com',
    "a@[127.0.0.1]",
    "a b@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@exa_mple.com",
    "@example.com",
    "a@",
    "a@@example.com",
    "ä@example.com",
    "a@exämple.com",
    "a\n@example.com",
    "a@" + "x" * 64 + ".com",
    "a" * 250 + "@e.com",
    "a@example.com\n",
    "a@.example.com",
]


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("address", VALID)
def test_the_browsers_valid_addresses_are_accepted(address):
    assert is_valid_email_address(address)


@pytest.mark.parametrize("address", INVALID)
def test_what_the_browser_refuses_is_refused(address):
    assert not is_valid_email_address(address)


QUOTED = '"<script>alert(1)</script>"@example.com'
MESSAGE = "characters e-mail forms do not accept"


def test_report_form_refuses_a_quoted_local_part(client):
    response = client.post(
        "/report/",
        {
            "category": "privacy",
            "locations": "https://app.example.com/p/1",
            "explanation": "x",
            "reporter_name": "A",
            "reporter_email": QUOTED,
            "good_faith": "on",
        },
    )
    assert MESSAGE in response.content.decode()


def test_abuse_api_refuses_a_quoted_local_part(client):
    body = {
        "category": "harassment",
        "locations": ["https://app.example.com/u/42"],
        "explanation": "x",
        "good_faith": True,
        "reporter_email": QUOTED,
    }
    response = client.post("/api/v1/abuse-reports/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_privacy_request_form_and_api_refuse_a_quoted_local_part(client):
    page = client.post(
        "/requests/new/access/", {"email": QUOTED, "jurisdiction": "gdpr", "confirm": "on", "id_username": "alice1"}
    )
    assert MESSAGE in page.content.decode()
    body = {"kind": "access", "email": QUOTED, "jurisdiction": "gdpr", "identifiers": {"username": "alice1"}}
    api = client.post("/api/v1/privacy-requests/", json.dumps(body), content_type="application/json")
    assert api.status_code == 400
    assert MESSAGE in api.content.decode()


def test_text_part_is_not_html_escaped(settings, tmp_path):
    folder = Path(tmp_path) / "email"
    folder.mkdir()
    (folder / "probe.subject.txt").write_text("Re: {{ reason }}")
    (folder / "probe.txt").write_text("Reason: {{ reason }}\nLink: {{ base_url }}/x")
    (folder / "probe.html").write_text("<p>{{ reason }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    subject, text, html = mail.render("probe", {"reason": "Links \"here\" <b> & 'there'"})
    assert subject == "Re: Links \"here\" <b> & 'there'"
    assert "Reason: Links \"here\" <b> & 'there'" in text
    assert "&quot;" not in text and "&lt;" not in text and "&amp;" not in text
    assert "&quot;here&quot; &lt;b&gt; &amp;" in html


def test_abuse_api_status_url_ignores_the_host_header(client, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    body = {
        "category": "harassment",
        "locations": ["https://app.example.com/u/42"],
        "explanation": "x",
        "good_faith": True,
        "reporter_email": "alice@example.com",
    }
    response = client.post(
        "/api/v1/abuse-reports/", json.dumps(body), content_type="application/json", HTTP_HOST="evil.example"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status_url"].startswith("https://portal.example.org/report/status/")


def test_no_absolute_url_is_built_from_the_request():
    """One helper (portal.mail.absolute) builds absolute URLs, from PORTAL_BASE_URL."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("portal", "requests_app", "abuse_app")
        for path in (root / app).rglob("*.py")
        if path.name not in ("settings.py", "mail.py")
        and any(
            built in path.read_text()
            for built in ("build_absolute_uri", "PORTAL_BASE_URL +", "{settings.PORTAL_BASE_URL}")
        )
    ]
    assert offenders == []


def test_absolute_refuses_anything_but_a_site_path():
    assert mail.absolute("/x/") == "http://testserver/x/"
    for bad in ("x/", "//evil.example/x", "https://evil.example/"):
        with pytest.raises(ValueError):
            mail.absolute(bad)
