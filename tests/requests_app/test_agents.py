"""Authorized agents (11 CCR §7063): filed for a named consumer, confirmed by the consumer, data to the consumer."""

from __future__ import annotations

import base64

import pytest
from django.core import mail

from portal.models import AuditEvent
from requests_app import agents
from requests_app.engine.local import run_local
from requests_app.models import AgentFiling, PrivacyRequest, StatusLink
from requests_app.services.decisions import request_approve
from requests_app.services.intake import request_verify
from requests_app.services.validation import RequestError
from tests.conftest import ALICE
from tests.requests_app.intake_helpers import committed, links_in, path_of, token_of, verify_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

AGENT = "agent@helpers.example"
PDF = b"%PDF-1.7\n% the consumer's signed permission\n"


def file_by_agent(kind="access", permission=PDF):
    mail.outbox.clear()
    with committed():
        return agents.request_submit_by_agent(
            kind=kind,
            consumer_email=ALICE,
            jurisdiction="ccpa",
            identifiers=None,
            language="en",
            agent_name="Rights Helpers Inc.",
            agent_email=AGENT,
            permission=permission,
            permission_name="permission.pdf",
        )


def mail_to(address):
    return [m for m in mail.outbox if address in m.to]


def test_agent_filing_waits_for_the_consumers_own_confirmation():
    request = file_by_agent()

    assert (request.status, request.channel, request.email) == ("unverified", "agent", ALICE)
    consumer_mail = mail_to(ALICE)[0]
    assert "Rights Helpers Inc." in consumer_mail.body and "/requests/verify/" in consumer_mail.body
    agent_mail = mail_to(AGENT)[0]
    assert "/requests/status/" in agent_mail.body and "/requests/verify/" not in agent_mail.body
    filing = AgentFiling.objects.get(request=request)
    assert filing.permission.read() == PDF and filing.permission_sha256
    assert AuditEvent.objects.filter(action="request.agent_filed", subject_id=str(request.pk)).exists()


def test_confirmed_agent_request_is_held_for_staff_to_check_the_permission():
    request = file_by_agent()
    with committed():
        request_verify(token=token_of(verify_path(mail_to(ALICE)[0])))

    request.refresh_from_db()
    assert request.status == "verified"  # access auto-approves for everyone else, not for agents


@pytest.mark.parametrize(
    "permission, error",
    [(b"", "Attach"), (b"MZ\x90\x00 not a pdf", "PDF, PNG or JPEG"), (b"%PDF-" + b"0" * (3 * 1024 * 1024), "3 MB")],
)
def test_permission_must_be_a_small_pdf_or_image(permission, error):
    with pytest.raises(RequestError, match=error):
        file_by_agent(permission=permission)
    assert not PrivacyRequest.objects.exists()


def test_agent_may_not_be_the_consumer():
    with pytest.raises(RequestError, match="consumer's"):
        agents.request_submit_by_agent(
            kind="access",
            consumer_email=ALICE,
            jurisdiction="ccpa",
            identifiers=None,
            language="en",
            agent_name="Me",
            agent_email=ALICE,
            permission=PDF,
        )


def test_agent_link_shows_status_but_never_the_package(client, stores_file, officer):
    request = file_by_agent()
    agent_status = path_of(next(u for u in links_in(mail_to(AGENT)[0]) if "/requests/status/" in u))
    with committed():
        request_verify(token=token_of(verify_path(mail_to(ALICE)[0])))
        request_approve(request=request, actor=officer)
        run_local(PrivacyRequest.objects.get(pk=request.pk))
    request.refresh_from_db()
    assert request.status == "completed" and request.package

    page = client.get(agent_status)
    assert page.status_code == 200 and page.context["package"] is None
    assert client.get(agent_status + "download/").status_code == 404
    assert StatusLink.objects.filter(request=request, origin="agent").count() == 1
    assert all(AGENT not in m.to for m in mail.outbox if "download" in m.body.lower())


def test_web_form_for_agents(client):
    upload = __import__("django.core.files.uploadedfile", fromlist=["x"]).SimpleUploadedFile(
        "permission.pdf", PDF, content_type="application/pdf"
    )
    with committed():
        response = client.post(
            "/requests/new/deletion/agent/",
            {
                "email": ALICE,
                "jurisdiction": "ccpa",
                "confirm": "on",
                "agent_name": "Rights Helpers Inc.",
                "agent_email": AGENT,
                "permission": upload,
            },
        )

    assert response.status_code == 302
    assert PrivacyRequest.objects.get().channel == "agent" and AgentFiling.objects.exists()


def test_api_takes_the_agent_and_the_permission(client):
    with committed():
        response = client.post(
            "/api/v1/privacy-requests/",
            {
                "kind": "access",
                "email": ALICE,
                "confirm": True,
                "agent": {
                    "name": "Rights Helpers Inc.",
                    "email": AGENT,
                    "permission": base64.b64encode(PDF).decode(),
                    "permission_filename": "p.pdf",
                },
            },
            content_type="application/json",
        )

    assert response.status_code == 202, response.content
    assert AgentFiling.objects.get().request.channel == "agent"
    assert mail_to(AGENT) and mail_to(ALICE)


def test_api_refuses_a_permission_that_is_not_a_document(client):
    response = client.post(
        "/api/v1/privacy-requests/",
        {
            "kind": "access",
            "email": ALICE,
            "confirm": True,
            "agent": {"name": "X", "email": AGENT, "permission": base64.b64encode(b"hello").decode()},
        },
        content_type="application/json",
    )

    assert response.status_code == 400 and "permission" in str(response.json())
    assert not PrivacyRequest.objects.exists()


def test_staff_see_the_agent_and_can_open_the_permission(staff_client, officer):
    request = file_by_agent()
    admin = staff_client(officer)

    page = admin.get(f"/admin/requests_app/privacyrequest/{request.pk}/change/")
    assert "Rights Helpers Inc." in page.content.decode()
    filing = AgentFiling.objects.get()
    download = admin.get(f"/admin/requests_app/agentfiling/{filing.pk}/permission/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="request.agent_permission_viewed").exists()
