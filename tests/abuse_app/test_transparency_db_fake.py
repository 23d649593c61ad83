"""The fake Transparency Database keeps the real one's rules (from its docs and validation code)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from abuse_app.fakes.transparency_db import FakeTransparencyDatabase

GOOD = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Terms 4.2",
    "incompatible_content_explanation": "Against the terms.",
    "content_type": ["CONTENT_TYPE_IMAGE"],
    "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "territorial_scope": ["DE"],
    "content_date": "2026-01-02",
    "application_date": "2026-01-03",
    "decision_facts": "Facts.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    "puid": "TK421",
}


@pytest.fixture
def fake():
    with FakeTransparencyDatabase() as server:
        yield server


def call(fake, method, path, body=None, token=None):
    request = urllib.request.Request(
        fake.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token or fake.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_single_statement_created_with_uuid_and_permalink(fake):
    status, body = call(fake, "POST", "/api/v1/statement", GOOD)
    assert status == 201 and body["puid"] == "TK421"
    assert body["permalink"] == f"{fake.url}/statement/{body['uuid']}"


def test_bad_token_is_401(fake):
    assert call(fake, "POST", "/api/v1/statement", GOOD, token="nope") == (401, {"message": "Unauthenticated."})


@pytest.mark.parametrize(
    "field",
    [
        "decision_ground",
        "content_type",
        "category",
        "content_date",
        "application_date",
        "decision_facts",
        "source_type",
        "automated_detection",
        "automated_decision",
        "puid",
    ],
)
def test_required_field_missing_is_422(fake, field):
    status, body = call(fake, "POST", "/api/v1/statement", {k: v for k, v in GOOD.items() if k != field})
    assert status == 422 and field in body["errors"]


def test_one_decision_field_is_required(fake):
    status, body = call(fake, "POST", "/api/v1/statement", {**GOOD, "decision_visibility": None})
    assert status == 422 and {"decision_visibility", "decision_account"} <= set(body["errors"])


@pytest.mark.parametrize("puid", ["has space", "a" * 501, "é", "semi;colon"])
def test_puid_rules(fake, puid):
    status, body = call(fake, "POST", "/api/v1/statement", {**GOOD, "puid": puid})
    assert status == 422 and "puid" in body["errors"]


def test_repeated_puid_answers_existing(fake):
    call(fake, "POST", "/api/v1/statement", GOOD)
    status, body = call(fake, "POST", "/api/v1/statement", GOOD)
    assert status == 422 and body["existing"] == {"puid": "TK421"}
    assert call(fake, "GET", "/api/v1/statement/existing-puid/TK421")[0] == 302
    assert call(fake, "GET", "/api/v1/statement/existing-puid/other")[0] == 404


def test_batch_over_100_is_refused(fake):
    batch = [{**GOOD, "puid": f"p{i}"} for i in range(101)]
    status, body = call(fake, "POST", "/api/v1/statements", {"statements": batch})
    assert status == 422 and "statements" in body["errors"] and not fake.statements


def test_one_invalid_statement_rejects_the_whole_batch(fake):
    batch = [{**GOOD, "puid": "a"}, {**GOOD, "puid": "b", "category": "NOPE"}, {**GOOD, "puid": "c"}]
    status, body = call(fake, "POST", "/api/v1/statements", {"statements": batch})
    assert status == 422 and list(body["errors"]) == ["statement_1"]
    assert body["errors"]["statement_1"]["category"] == ["The selected category is invalid."]
    assert not fake.statements


def test_batch_with_known_puid_is_refused_naming_it(fake):
    call(fake, "POST", "/api/v1/statement", GOOD)
    batch = [{**GOOD, "puid": "new"}, GOOD]
    status, body = call(fake, "POST", "/api/v1/statements", {"statements": batch})
    assert status == 422 and body["errors"]["existing_puids"] == ["TK421"]
    assert list(fake.statements) == ["TK421"]


def test_batch_of_100_created(fake):
    batch = [{**GOOD, "puid": f"p{i}"} for i in range(100)]
    status, body = call(fake, "POST", "/api/v1/statements", {"statements": batch})
    assert status == 201 and len(body["statements"]) == 100 and len(fake.statements) == 100


def test_command_refuses_a_bad_fault_rate():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--fault-rate"):
        call_command("transparency_db_fake", "--fault-rate", "2")
