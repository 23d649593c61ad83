"""Admin: consent purposes publish new notice versions; consents and the ledger are read-only."""

from __future__ import annotations

import pytest

from requests_app.models import ConsentNotice, ConsentPurpose
from tests.requests_app.azure_helpers import purpose, row

pytestmark = pytest.mark.django_db


def test_changing_notice_text_publishes_a_new_version(staff_client, officer):
    p = purpose()
    client = staff_client(officer)
    response = client.post(
        f"/admin/requests_app/consentpurpose/{p.pk}/change/",
        {
            "slug": p.slug,
            "title": p.title,
            "services": "face",
            "requires_consent": "on",
            "active": "on",
            "notice_text": "We now also keep the photo for 30 days.",
            "notices-TOTAL_FORMS": "1",
            "notices-INITIAL_FORMS": "1",
            "notices-MIN_NUM_FORMS": "0",
            "notices-MAX_NUM_FORMS": "1000",
            "notices-0-id": p.current_notice().pk,
            "notices-0-purpose": p.pk,
        },
    )
    assert response.status_code == 302, response.content[:2000]
    versions = list(ConsentNotice.objects.filter(purpose=p).order_by("version").values_list("version", "text"))
    assert versions[0][0] == 1 and versions[0][1].startswith("Your photo")
    assert versions[1] == (2, "We now also keep the photo for 30 days.")


def test_new_purpose_gets_notice_version_1(staff_client, officer):
    client = staff_client(officer)
    client.post(
        "/admin/requests_app/consentpurpose/add/",
        {
            "slug": "voice",
            "title": "Voice notes",
            "services": "speech",
            "requires_consent": "on",
            "active": "on",
            "notice_text": "Your voice is sent to Microsoft Azure AI Speech.",
            "notices-TOTAL_FORMS": "0",
            "notices-INITIAL_FORMS": "0",
            "notices-MIN_NUM_FORMS": "0",
            "notices-MAX_NUM_FORMS": "1000",
        },
    )
    assert ConsentPurpose.objects.get(slug="voice").current_notice().version == 1


def _new_purpose_form(**fields):
    return {
        "slug": "faces",
        "title": "Face matching",
        "requires_consent": "on",
        "active": "on",
        "notice_text": "Your photo is sent to Microsoft Azure AI Face.",
        "notices-TOTAL_FORMS": "0",
        "notices-INITIAL_FORMS": "0",
        "notices-MIN_NUM_FORMS": "0",
        "notices-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_purpose_services_are_ticked_from_known_services(staff_client, officer):
    client = staff_client(officer)
    form = client.get("/admin/requests_app/consentpurpose/add/").content.decode()
    assert 'type="checkbox" name="services" value="face"' in form and "Azure AI Face" in form
    client.post("/admin/requests_app/consentpurpose/add/", _new_purpose_form(services=["face", "speech"]))
    assert sorted(ConsentPurpose.objects.get(slug="faces").services) == ["face", "speech"]


def test_purpose_rejects_an_unknown_service_by_name(staff_client, officer):
    response = staff_client(officer).post(
        "/admin/requests_app/consentpurpose/add/", _new_purpose_form(services=["fcae"])
    )
    assert response.status_code == 200 and "fcae is not a service the portal knows" in response.content.decode()
    assert not ConsentPurpose.objects.filter(slug="faces").exists()


def test_ledger_is_listed_filtered_and_read_only(staff_client, officer):
    row("face", "https://x", "person", "p-1")
    client = staff_client(officer)
    listing = client.get("/admin/requests_app/transmission/?service__exact=face&deleted_at__isempty=1")
    assert listing.status_code == 200 and b"p-1" in listing.content
    assert client.get("/admin/requests_app/transmission/add/").status_code == 403


def test_auditor_can_view_ledger(staff_client, auditor):
    row("face", "https://x", "person", "p-2")
    assert staff_client(auditor).get("/admin/requests_app/transmission/").status_code == 200
