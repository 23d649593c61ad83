"""The Data Rights Protocol end to end: a spec-written agent pairs, files, polls, revokes, hears callbacks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from portal.models import AuditEvent
from requests_app import consent
from requests_app.drp import directory
from requests_app.drp.models import DrpAgent, DrpRequest
from requests_app.models import Consent, ConsentPurpose, PrivacyRequest
from requests_app.services.decisions import request_approve, request_deny
from tests.conftest import ALICE
from tests.requests_app.drp_agent import DrpAgentClient

BUSINESS = "EXAMPLE_APP"
pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


class CallbackReceiver:
    """The agent's status_callback endpoint: a real HTTP server recording every status it is sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.end_headers()
                with receiver.changed:
                    receiver.received.append(json.loads(body))
                    receiver.changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/update_status"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, status: str, timeout: float = 30) -> dict[str, Any]:
        with self.changed:
            found = self.changed.wait_for(lambda: any(r["status"] == status for r in self.received), timeout=timeout)
        assert found, f"no {status} callback; got {[r['status'] for r in self.received]}"
        return next(r for r in self.received if r["status"] == status)


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    r = CallbackReceiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def drp_settings(settings):
    settings.PORTAL_DRP_BUSINESS_ID = BUSINESS
    settings.PORTAL_DRP_ALLOW_HTTP_CALLBACKS = True  # the receiver is plain http on 127.0.0.1
    return settings


@pytest.fixture
def agent(client, drp_settings, db) -> DrpAgentClient:
    a = DrpAgentClient(http=client, agent_id="TEST_AGENT", business_id=BUSINESS)
    directory.import_agents(json.dumps(a.directory_entry()), actor="system:test")
    return a


@pytest.fixture
def paired(agent) -> DrpAgentClient:
    assert agent.pair().status_code == 200
    return agent


# --- pairing ----------------------------------------------------------------------------------


def test_pairing_returns_a_token_that_agent_info_accepts(agent):
    response = agent.pair()

    assert response.status_code == 200
    assert response.json()["agent-id"] == "TEST_AGENT" and response.json()["token"]
    assert agent._send("GET", "/v1/agent/TEST_AGENT").json() == {}


def test_pairing_signed_with_another_key_is_403_with_an_empty_body(agent, client):
    impostor = DrpAgentClient(http=client, agent_id="TEST_AGENT", business_id=BUSINESS)

    response = impostor.pair()

    assert response.status_code == 403 and response.content == b""
    assert AuditEvent.objects.filter(action="drp.pairing_refused").exists()


def test_pairing_for_another_business_is_403_with_an_empty_body(agent):
    response = agent.pair(agent.envelope(**{"business-id": "SOMEONE_ELSE"}))

    assert response.status_code == 403 and response.content == b""


def test_a_replayed_pairing_message_is_refused(agent):
    body = agent.sign(agent.envelope())
    first = agent._send("POST", "/v1/agent/TEST_AGENT", body)

    again = agent._send("POST", "/v1/agent/TEST_AGENT", body)

    assert first.status_code == 200 and again.status_code == 403 and again.content == b""


def test_a_new_pairing_revokes_the_older_token(paired):
    old = paired.token
    paired.token = ""
    paired.pair()

    paired.token = old
    assert paired._send("GET", "/v1/agent/TEST_AGENT").status_code == 403


# --- exercise, status, revoke ------------------------------------------------------------------


def test_deletion_becomes_a_privacy_request_and_fulfilled_is_called_back(
    celery_worker, drp_settings, paired, receiver, stores_file, officer
):
    response = paired.exercise("deletion", email=ALICE, callback=receiver.url, **{"agent-request-id": "a-1"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_progress" and body["agent_request_id"] == "a-1" and "expected_by" in body
    drp = DrpRequest.objects.select_related("privacy_request", "agent").get(request_id=body["request_id"])
    pr = drp.privacy_request
    assert drp.agent.agent_id == "TEST_AGENT"
    assert (pr.kind, pr.channel, pr.status) == ("deletion", "drp", "verified")
    assert receiver.wait_for("in_progress")["request_id"] == body["request_id"]

    # Approval hands the request to the worker (the real path: broker → worker → engine → callback task).
    request_approve(request=pr, actor=officer)

    assert receiver.wait_for("fulfilled", timeout=90)["request_id"] == body["request_id"]
    assert paired.status(body["request_id"]).json()["status"] == "fulfilled"


def test_opt_out_in_either_spelling_withdraws_sale_purposes(paired):
    purpose = ConsentPurpose.objects.create(slug="ads", title="Ads", sale_or_sharing=True)
    kept = ConsentPurpose.objects.create(slug="login", title="Face login")
    for p in (purpose, kept):
        consent.publish_notice(purpose=p, text=f"{p.title} notice", actor="system:test")
        consent.grant(purpose=p, subject_kind="email", subject_value=ALICE, method="web", actor="requester")
    paired.version = "0.9.4"

    body = paired.exercise("sale:opt_out", email=ALICE).json()

    assert body["status"] == "fulfilled"
    assert "1 consent(s) withdrawn" in body["processing_details"]
    assert Consent.objects.get(purpose=purpose).withdrawn_method == "drp"
    assert Consent.objects.get(purpose=kept).withdrawn_at is None


def test_opt_in_is_denied_as_not_covered(paired):
    body = paired.exercise("sale:opt-in", email=ALICE).json()

    assert (body["status"], body["reason"]) == ("denied", "claim_not_covered")


def test_unverified_email_waits_for_the_consumer_to_confirm(paired, mailoutbox, django_capture_on_commit_callbacks):
    claims = paired.envelope(exercise="access", email=ALICE, email_verified=False)

    with django_capture_on_commit_callbacks(execute=True):
        body = paired.send_signed(paired.sign(claims)).json()

    assert body["status"] == "open" and "confirm" in body["processing_details"]
    assert PrivacyRequest.objects.get().status == "unverified" and len(mailoutbox) == 1
    assert "Data Rights Protocol" in mailoutbox[0].body and mailoutbox[0].to == [ALICE]


def test_revoke_cancels_the_privacy_request(paired):
    request_id = paired.exercise("deletion", email=ALICE).json()["request_id"]

    response = paired.revoke(request_id)

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert PrivacyRequest.objects.get().status == "canceled"
    assert paired.revoke(request_id).status_code == 409


def test_a_second_deletion_while_one_is_open_is_linked_not_run_twice(paired):
    first = paired.exercise("deletion", email=ALICE).json()
    second = paired.exercise("deletion", email=ALICE).json()

    assert first["request_id"] != second["request_id"]
    assert PrivacyRequest.objects.count() == 1
    assert "Linked" in second["processing_details"]


def test_another_agents_request_is_403(paired, client):
    request_id = paired.exercise("deletion", email=ALICE).json()["request_id"]
    other = DrpAgentClient(http=client, agent_id="OTHER_AGENT", business_id=BUSINESS)
    directory.import_agents(json.dumps(other.directory_entry()), actor="system:test")
    other.pair()

    assert other.status(request_id).status_code == 403


# --- refusals ----------------------------------------------------------------------------------


def test_tampered_signature_is_refused(paired):
    signed = bytearray(paired.key.sign(json.dumps(paired.envelope(exercise="deletion", email=ALICE)).encode()))
    signed[-3] ^= 0x01  # one bit of the JSON after signing
    import base64

    response = paired.send_signed(base64.b64encode(bytes(signed)))

    assert response.status_code == 401 and "signature" in response.json()["message"]
    assert not DrpRequest.objects.exists()


def test_unsigned_message_is_refused(paired):
    import base64

    response = paired.send_signed(base64.b64encode(json.dumps({"exercise": "deletion"}).encode()))

    assert response.status_code in (400, 401) and response.json()["code"] == str(response.status_code)
    assert not DrpRequest.objects.exists()


def test_expired_message_is_refused(paired):
    body = paired.sign(paired.envelope(exercise="deletion", email=ALICE))

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = paired.send_signed(body)

    assert response.status_code == 400 and "expired" in response.json()["message"]
    assert response.json()["fatal"] is True


def test_a_window_longer_than_ten_minutes_is_refused(paired):
    response = paired.exercise(
        "deletion", email=ALICE, **{"expires-at": (timezone.now() + timedelta(minutes=30)).isoformat()}
    )

    assert response.status_code == 400 and "10 minutes" in response.json()["message"]


def test_replayed_message_is_refused_naming_the_original(paired):
    body = paired.sign(paired.envelope(exercise="deletion", email=ALICE, regime="ccpa"))
    original = paired.send_signed(body).json()["request_id"]

    replay = paired.send_signed(body)

    assert replay.status_code == 409 and replay.json()["request_id"] == original
    assert DrpRequest.objects.count() == 1


def test_wrong_business_id_is_refused(paired):
    claims = paired.envelope(exercise="deletion", email=ALICE, **{"business-id": "SOMEONE_ELSE"})

    response = paired.send_signed(paired.sign(claims))

    assert response.status_code == 403 and "business-id" in response.json()["message"]
    assert not DrpRequest.objects.exists()


def test_no_bearer_token_is_refused(agent):
    response = agent.exercise("deletion", email=ALICE)

    assert response.status_code == 401


def test_drp_is_off_without_a_business_id(agent, settings):
    settings.PORTAL_DRP_BUSINESS_ID = ""

    assert agent.pair().status_code == 404


# --- admission ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, error",
    [
        ({"id": "A", "name": "A", "verify_key": "not base64!"}, "base64"),
        ({"id": "A", "name": "A", "verify_key": "AAAA"}, "32 bytes"),
        ({"id": "A", "verify_key": "A" * 43 + "="}, "“name” is required"),
        ({"id": "A", "name": "A", "verify_key": "A" * 43 + "=", "web_url": "http://x"}, "https"),
    ],
)
def test_directory_import_names_the_bad_field(db, entry, error):
    with pytest.raises(directory.DirectoryError, match=error):
        directory.import_agents(json.dumps([entry]), actor="system:test")
    assert not DrpAgent.objects.exists()


def test_staff_import_agents_in_the_admin(staff_client, officer, client):
    a = DrpAgentClient(http=client, agent_id="PASTED", business_id=BUSINESS)
    admin = staff_client(officer)

    response = admin.post("/admin/drp/drpagent/import/", {"directory_json": json.dumps(a.directory_entry())})

    assert response.status_code == 302
    assert DrpAgent.objects.get().agent_id == "PASTED"
    assert AuditEvent.objects.filter(action="drp.agent_admitted").exists()


# --- callbacks and housekeeping ----------------------------------------------------------------


def test_callback_5xx_is_retried_and_an_older_status_never_overwrites_a_newer(paired, monkeypatch):
    from requests_app.drp import callbacks

    drp = DrpRequest.objects.get(
        request_id=paired.exercise("deletion", email=ALICE, callback="https://agent.example/cb").json()["request_id"]
    )
    sent: list[int] = []

    class Answer:
        def __init__(self, status: int):
            self.status = status

        def __enter__(self):
            if self.status >= 400:
                import urllib.error

                raise urllib.error.HTTPError("https://agent.example/cb", self.status, "x", {}, None)  # type: ignore[arg-type]
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            return b""

    answers = iter([503, 200, 200])
    monkeypatch.setattr(
        callbacks.urllib.request, "urlopen", lambda request, timeout: (sent.append(1), Answer(next(answers)))[1]
    )

    with pytest.raises(callbacks.TransientCallbackError):
        callbacks.deliver(drp.pk, 2, {"status": "fulfilled"})
    assert callbacks.deliver(drp.pk, 2, {"status": "fulfilled"}) == "delivered"
    assert callbacks.deliver(drp.pk, 1, {"status": "in_progress"}) == "superseded"
    assert len(sent) == 2


def test_a_denied_request_is_called_back_with_the_reason(
    paired, officer, django_capture_on_commit_callbacks, monkeypatch
):
    from requests_app.drp import tasks

    queued: list[dict] = []
    monkeypatch.setattr(tasks.send_status_callback, "delay", lambda pk, seq, payload: queued.append(payload))
    with django_capture_on_commit_callbacks(execute=True):
        body = paired.exercise("deletion", email=ALICE, callback="https://agent.example/cb").json()
        pr = DrpRequest.objects.get(request_id=body["request_id"]).privacy_request
        request_deny(request=pr, actor=officer, reason="No account with this address.")

    assert [q["status"] for q in queued] == ["in_progress", "denied"]
    assert queued[-1]["reason"] == "other" and queued[-1]["processing_details"] == "No account with this address."


def test_expired_replay_records_are_forgotten(paired):
    from requests_app.drp import services as drp_services
    from requests_app.drp.models import DrpMessage

    paired.exercise("deletion", email=ALICE)
    seen = DrpMessage.objects.count()  # the pairing and the exercise

    assert seen == 2 and drp_services.forget_expired_messages() == 0
    assert drp_services.forget_expired_messages(now=timezone.now() + timedelta(hours=2)) == seen
    assert not DrpMessage.objects.exists()


def test_pairing_is_rate_limited_per_address(agent):
    impostor = DrpAgentClient(http=agent.http, agent_id="TEST_AGENT", business_id=BUSINESS)
    answers = [impostor.pair().status_code for _ in range(61)]  # PAIRING_RATE is 60/hour

    assert answers[:60] == [403] * 60 and answers[60] == 429
