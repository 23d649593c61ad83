"""DSA Art. 17: every element of the statement of reasons, from the first decision, in every channel.

Channels: the reporter's status page, the reported person's decision page, the e-mail to
the reporter, the e-mail to the reported person, the signed host-app webhook and the
transparency JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core import mail

from abuse_app import services
from abuse_app.models import Case, WebhookDelivery
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
UNTIL = date(2026, 9, 30)
APPEAL_DEADLINE = "2026-09-02"  # 184 days after NOW
APPEAL_DEADLINE_TEXT = "Sept. 2, 2026"


@pytest.fixture
def redress_settings(settings):
    settings.PORTAL_OPERATOR_NAME = "Example Ltd, 1 Main Street, Dublin"
    settings.PORTAL_OPERATOR_CONTACT = "dsa@example.com"
    settings.PORTAL_ABUSE_DISPUTE_BODY = "User Rights GmbH"
    settings.PORTAL_ABUSE_DISPUTE_URL = "https://ods.example/certified"
    settings.PORTAL_ABUSE_COURTS = "the courts of Dublin"
    settings.PORTAL_ABUSE_TERRITORIAL_SCOPE = "EU/EEA"
    settings.PORTAL_ABUSE_APPEAL_DAYS = 184


@pytest.fixture
def decided(redress_settings, moderator, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        submitted = submit(email="alice@example.com")
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            decision = services.case_decide(
                case=Case.objects.get(),
                actor=moderator,
                action="suspend_account",
                ground="terms",
                legal_reference="Terms §4.2",
                facts="The account posted faces of people who did not agree.",
                automated_detection=True,
                automated=False,
                restricted_until=UNTIL,
                target_email="owner@example.net",
            )
        yield submitted, decision


def _assert_statement_text(text: str) -> None:
    """Every element, as a person reads it (HTML tags and line breaks flattened)."""
    flat = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text))
    expected = [
        "Suspend the account",  # the decision
        "EU/EEA",  # territorial scope
        "Until Sept. 30, 2026",  # duration
        "The account posted faces of people who did not agree.",  # facts and circumstances
        "Incompatible with the terms of service",  # the ground
        "Terms §4.2",  # the clause
        "Automated detection",
        "Automated decision",
        "No, a person decided" if "No, a person decided" in flat else "no, a person decided",
        APPEAL_DEADLINE_TEXT,  # internal appeal with its deadline
        "Art. 21",  # certified out-of-court dispute settlement
        "User Rights GmbH",
        "https://ods.example/certified",
        "the courts of Dublin",  # judicial redress
        "Example Ltd, 1 Main Street, Dublin (dsa@example.com)",  # the operator and how to reach them
    ]
    missing = [item for item in expected if item not in flat]
    assert not missing, f"missing {missing} in: {flat[:3000]}"


def test_reporter_status_page_shows_every_element(client, decided):
    submitted, _decision = decided
    with time_machine.travel(NOW, tick=False):
        html = client.get(submitted.status_url).content.decode()
    _assert_statement_text(html.replace("&#x27;", "'"))


def test_target_decision_page_shows_every_element(client, decided):
    _submitted, decision = decided
    payload = WebhookDelivery.objects.get().payload
    path = payload["appeal_url"].removeprefix("http://testserver")
    with time_machine.travel(NOW, tick=False):
        html = client.get(path).content.decode()
    _assert_statement_text(html)


def test_reporter_email_carries_every_element(decided):
    message = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    _assert_statement_text(message.body)
    _assert_statement_text(message.alternatives[0][0])


def test_target_email_carries_every_element_and_the_appeal_link(decided):
    message = next(m for m in mail.outbox if m.to == ["owner@example.net"])
    _assert_statement_text(message.body)
    _assert_statement_text(message.alternatives[0][0])
    assert "/report/decision/tok_" in message.body
    assert "alice" not in message.body.lower()  # the reporter is never disclosed


def _assert_statement_data(statement: dict) -> None:
    assert statement["decision"] == "suspend_account"
    assert statement["territorial_scope"] == "EU/EEA"
    assert statement["duration"] == {"indefinite": False, "until": "2026-09-30"}
    assert statement["facts"] == "The account posted faces of people who did not agree."
    assert statement["automated_detection"] is True
    assert statement["automated_decision"] is False
    assert statement["ground"] == "terms" and statement["legal_reference"] == "Terms §4.2"
    routes = {r["route"]: r for r in statement["redress"]}
    assert routes["internal_appeal"]["deadline"] == APPEAL_DEADLINE
    assert "Art. 21" in routes["out_of_court_dispute_settlement"]["text"]
    assert routes["out_of_court_dispute_settlement"]["url"] == "https://ods.example/certified"
    assert "the courts of Dublin" in routes["courts"]["text"]


def test_webhook_payload_carries_every_element(webhook, decided):
    delivery = WebhookDelivery.objects.get()
    services.webhook_deliver(delivery.pk)
    sent = webhook.calls[0]["json"]
    _assert_statement_data(sent["statement_of_reasons"])
    assert "alice" not in webhook.calls[0]["body"].decode().lower()


def test_transparency_json_carries_every_element(client, decided):
    with time_machine.travel(NOW, tick=False):
        data = client.get("/transparency/?from=2026-03-01&to=2026-03-31&format=json").json()
    assert data["statements_of_reasons"]["total"] == 1 and not data["statements_of_reasons"]["truncated"]
    [statement] = data["statements_of_reasons"]["items"]
    _assert_statement_data(statement)
    assert "alice" not in str(data).lower()


def test_indefinite_restriction_and_no_action_say_so(redress_settings, moderator, client):
    with time_machine.travel(NOW, tick=False):
        submit(locations="https://app.example.com/a")
        submit(locations="https://app.example.com/b")
        first, second = Case.objects.order_by("id")
        indefinite = services.case_decide(
            case=first,
            actor=moderator,
            action="remove_content",
            ground="illegal",
            legal_reference="GDPR Art. 9",
            facts="Biometric data without consent.",
        )
        nothing = services.case_decide(
            case=second,
            actor=moderator,
            action="none",
            ground="",
            legal_reference="",
            facts="Fine.",
        )
    assert indefinite.territorial_scope == "EU/EEA"  # the operator's default
    assert indefinite.statement()["duration"] == {"indefinite": True, "until": None}
    assert indefinite.duration_display == "Indefinite"
    assert nothing.statement()["territorial_scope"] is None and nothing.statement()["duration"] is None
    assert "Not applicable" in nothing.duration_display
    # Redress is offered whatever the outcome (the reporter may disagree with "no action").
    assert len(nothing.statement()["redress"]) == 3


def test_restriction_ending_in_the_past_refused_with_message(redress_settings, moderator):
    with time_machine.travel(NOW, tick=False):
        submit()
        with pytest.raises(services.AbuseError, match="must end after today"):
            services.case_decide(
                case=Case.objects.get(),
                actor=moderator,
                action="restrict_account",
                ground="terms",
                legal_reference="§1",
                facts="x",
                restricted_until=date(2026, 3, 2),
            )


def test_statement_translated_in_german(decided):
    from django.utils import translation

    _submitted, decision = decided
    with translation.override("de"):
        routes = decision.redress_routes()
    assert "Gerichte" in routes[2]["text"] or "Gericht" in routes[2]["text"]
    assert "Streitbeilegung" in routes[1]["text"]


def test_statement_translated_in_french(decided):
    from django.utils import translation

    _submitted, decision = decided
    with translation.override("fr"):
        routes = decision.redress_routes()
    assert "tribunaux" in routes[2]["text"]
    assert "règlement extrajudiciaire" in routes[1]["text"]


def test_transparency_json_caps_statements_and_says_so(client, decided, monkeypatch):
    from abuse_app.services import transparency

    monkeypatch.setattr(transparency, "MAX_STATEMENTS", 0)
    with time_machine.travel(NOW, tick=False):
        data = client.get("/transparency/?from=2026-03-01&to=2026-03-31&format=json").json()
    assert data["statements_of_reasons"] == {"total": 1, "truncated": True, "items": []}


def test_appeal_outcome_email_keeps_external_redress_without_a_second_internal_appeal(
    decided, moderator2, django_capture_on_commit_callbacks
):
    _submitted, decision = decided
    with time_machine.travel(NOW, tick=False):
        appeal = services.appeal_file(
            decision=decision, appellant="target", statement="Mine.", contact_email="owner@example.net"
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.appeal_decide(appeal=appeal, actor=moderator2, outcome="upheld", reasons="Stays.")
    [message] = [m for m in mail.outbox if m.to == ["owner@example.net"]]
    for body in (message.body, message.alternatives[0][0]):
        assert "Art. 21" in body and "the courts of Dublin" in body and "Terms §4.2" in body
        assert "You can appeal to" not in body
