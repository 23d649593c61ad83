"""Security headers on public pages, the admin and the API docs; production values come from settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _csp(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.strip().split(" ", 1)[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/", "/privacy/", "/admin/login/", "/api/docs/"])
def test_pages_send_a_strict_csp_and_framing_and_referrer_headers(client, db, url):
    response = client.get(url)
    assert response.status_code == 200, url
    csp = _csp(response)
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("style-src", "")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_public_page_keeps_the_one_referrer_policy(client, db):
    """``same-origin`` everywhere: a page answering ``no-referrer`` makes chromium send ``Origin: null``
    with its forms, and Django's CSRF check refuses them (appeals once failed so). Secret-link pages
    included: same-origin never sends their address to another site (docs/security.md)."""
    from tests.public_world import build_world, public_patterns

    world = build_world()
    checked = []
    for route, pattern in public_patterns():
        response = client.get(world.path(pattern.name, route))
        if response.status_code < 400 and "Referrer-Policy" in response:
            checked.append(pattern.name)
            assert response["Referrer-Policy"] == "same-origin", pattern.name
    assert {"abuse-status", "abuse-appeal", "abuse-target-decision", "request-status", "consent-purpose"} <= set(
        checked
    )


@pytest.mark.parametrize("url", ["/", "/privacy/", "/admin/login/", "/api/docs/"])
def test_pages_contain_no_inline_script_or_style(client, db, url):
    html = client.get(url).content.decode()
    assert "<style" not in html and " style=" not in html, url
    for chunk in html.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script on {url}: <script{tag}>"


def test_production_headers_and_cookies(tmp_path):
    """Run one request under the real production settings (DJANGO_DEBUG=false) and look at what goes out."""
    code = """
import django, os
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from django.core.management import call_command
call_command("migrate", verbosity=0)
response = Client(enforce_csrf_checks=True).get("/privacy/", secure=True, HTTP_HOST="portal.example")
print("STATUS", response.status_code)
for name in ("Strict-Transport-Security", "Content-Security-Policy", "Referrer-Policy", "X-Frame-Options",
             "Cross-Origin-Opener-Policy"):
    print("H", name, "=", response.get(name, ""))
for name, morsel in response.cookies.items():
    print("C", name, "secure=" + str(bool(morsel["secure"])), "httponly=" + str(bool(morsel["httponly"])),
          "samesite=" + morsel["samesite"])
insecure = Client().get("/privacy/", HTTP_HOST="portal.example")
print("REDIRECT", insecure.status_code, insecure.get("Location", ""))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="false",
        ALLOWED_HOSTS="portal.example",
        SECRET_KEY="k" * 20 + "production-like-secret-for-this-test-0123456789",
        PORTAL_VAR_DIR=str(tmp_path),
        PORTAL_PLAIN_STATIC="true",
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    out = result.stdout
    assert "STATUS 200" in out, out + result.stderr[-3000:]
    assert "H Strict-Transport-Security = max-age=31536000; includeSubDomains; preload" in out
    assert "frame-ancestors 'none'" in out
    assert "H X-Frame-Options = DENY" in out
    assert "H Referrer-Policy = same-origin" in out
    assert "H Cross-Origin-Opener-Policy = same-origin" in out
    cookies = [line for line in out.splitlines() if line.startswith("C ")]
    assert cookies, "the page sets the CSRF cookie (language form)"
    assert all("secure=True" in line for line in cookies), cookies
    assert "REDIRECT 301 https://portal.example/privacy/" in out
