import re

import pytest


@pytest.mark.django_db
def test_home_names_app_operator_and_four_choices(client, settings):
    settings.PORTAL_APP_NAME = "Snapster"
    settings.PORTAL_OPERATOR_NAME = "Snap GmbH"
    settings.PORTAL_OPERATOR_CONTACT = "privacy@snap.example"
    html = client.get("/").content.decode()
    assert "Your data at Snapster" in html and "Snap GmbH" in html
    assert 'href="mailto:privacy@snap.example"' in html
    for text in (
        "Get a copy of my data",
        "Delete my data",
        "Manage my consent",
        "Report abuse",
        "Check a request I made",
    ):
        assert text in html
    assert not re.search(r'class="choice"[^>]*href="#', html)  # every choice leads to a real page


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "fr", "en"])
def test_home_language_from_accept_language(client, language):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}">' in html


@pytest.mark.django_db
def test_language_switcher_sets_language_without_javascript(client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/privacy/"})
    assert response.status_code == 302 and response["Location"] == "/privacy/"
    assert 'lang="fr"' in client.get("/privacy/").content.decode()


@pytest.mark.django_db
def test_pages_send_strict_csp_without_inline_allowances(client):
    csp = client.get("/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_favicon_ico_redirects_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")


def test_server_error_page_keeps_attribution_policy_and_abuse_links():
    from django.template import loader

    html = loader.get_template("500.html").render()
    attribution = '<a lang="en" href="https://azure.microsoft.com/products/ai-services/">'
    assert attribution + "using Microsoft Cognitive Services</a>" in html
    assert 'href="/privacy/"' in html and 'href="/report/"' in html
