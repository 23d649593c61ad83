"""The portal's vocabulary → the Transparency Database's: one test per value (docs/abuse.md, "DSA duties")."""

from __future__ import annotations

import pytest

from abuse_app.dsa import statements as sor
from abuse_app.dsa import vocabulary as v
from abuse_app.fakes.transparency_db import validate
from abuse_app.models import Case, Category, Decision, Notice, StatementSubmission
from tests.abuse_app.test_transparency_db import decide_many

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("category", "ground", "expected", "keywords"),
    [
        ("privacy", "illegal", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", None),
        ("privacy", "terms", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", None),
        ("minors", "illegal", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", None),
        ("minors", "terms", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", None),
        ("harassment", "illegal", "STATEMENT_CATEGORY_CYBER_VIOLENCE", ["KEYWORD_CYBER_HARASSMENT"]),
        ("harassment", "terms", "STATEMENT_CATEGORY_CYBER_VIOLENCE", ["KEYWORD_CYBER_HARASSMENT"]),
        ("defamation", "illegal", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_DEFAMATION"]),
        ("defamation", "terms", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_DEFAMATION"]),
        ("illegal", "illegal", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", None),
        ("illegal", "terms", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", None),
        (
            "ai_misuse",
            "illegal",
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            ["KEYWORD_BIOMETRIC_DATA_BREACH"],
        ),
        (
            "ai_misuse",
            "terms",
            "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
            ["KEYWORD_BIOMETRIC_DATA_BREACH"],
        ),
        ("spam", "illegal", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", None),
        ("spam", "terms", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", None),
        ("other", "illegal", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", None),
        ("other", "terms", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", None),
    ],
)
def test_category_maps_to_database_category(moderator, category, ground, expected, keywords):
    (decision,) = decide_many(moderator, 1, ground=ground)
    Case.objects.filter(pk=decision.case_id).update(category=category)
    decision.refresh_from_db()
    payload = sor.statement_payload(decision, "p1")
    assert payload["category"] == expected
    assert payload.get("category_specification") == keywords
    assert validate(payload) == {}


def test_every_portal_category_is_mapped():
    assert set(sor.CATEGORY_MAP) == set(Category.values)
    for illegal, terms, keywords in sor.CATEGORY_MAP.values():
        assert {illegal, terms} <= set(v.STATEMENT_CATEGORIES) and set(keywords) <= set(v.KEYWORDS)


@pytest.mark.parametrize(
    ("action", "field", "value", "end_field"),
    [
        (
            "remove_content",
            "decision_visibility",
            ["DECISION_VISIBILITY_CONTENT_REMOVED"],
            "end_date_visibility_restriction",
        ),
        (
            "restrict_account",
            "decision_provision",
            "DECISION_PROVISION_PARTIAL_SUSPENSION",
            "end_date_service_restriction",
        ),
        ("suspend_account", "decision_account", "DECISION_ACCOUNT_SUSPENDED", "end_date_account_restriction"),
    ],
)
def test_restricting_action_maps_to_restriction(moderator, action, field, value, end_field):
    (decision,) = decide_many(moderator, 1, action=action)
    payload = sor.statement_payload(decision, "p1")
    assert payload[field] == value and end_field in payload
    assert validate(payload) == {}


@pytest.mark.parametrize("action", ["none", "forward_microsoft", "refer_authorities"])
def test_action_restricting_nothing_is_not_sent(moderator, action):
    ground = "" if action == "none" else "illegal"
    (decision,) = decide_many(moderator, 1, action=action, ground=ground, legal_reference="" if not ground else "§1")
    assert not sor.is_required(decision)
    assert StatementSubmission.objects.get(decision=decision).status == "not_required"
    assert set(Decision.Action.values) == set(sor.ACTION_MAP) | {"none", "forward_microsoft", "refer_authorities"}


@pytest.mark.parametrize(
    ("ground", "expected", "reference_field"),
    [
        ("illegal", "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_legal_ground"),
        ("terms", "DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible_content_ground"),
    ],
)
def test_ground_maps_with_its_reference(moderator, ground, expected, reference_field):
    (decision,) = decide_many(moderator, 1, ground=ground)
    payload = sor.statement_payload(decision, "p1")
    assert payload["decision_ground"] == expected
    assert payload[reference_field] == "Terms §4.2 (write to [removed])"


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("EU/EEA", list(v.EEA_COUNTRY_CODES)),
        ("EEA", list(v.EEA_COUNTRY_CODES)),
        ("EU", list(v.EU_COUNTRY_CODES)),
        ("European Union", list(v.EU_COUNTRY_CODES)),
        ("worldwide", list(v.EEA_COUNTRY_CODES)),
        ("Global", list(v.EEA_COUNTRY_CODES)),
        ("de, at", ["AT", "DE"]),
        ("NO;IS", ["IS", "NO"]),
    ],
)
def test_territorial_scope_maps_to_country_codes(scope, expected):
    assert sor.territorial_scope_codes(scope) == sorted(expected)


@pytest.mark.parametrize("scope", ["US", "DE, CH", "", "Germany"])
def test_territorial_scope_outside_eu_eea_is_refused_with_a_reason(scope):
    with pytest.raises(sor.StatementNotSendable, match="Territorial scope"):
        sor.territorial_scope_codes(scope)


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        (["web"], "SOURCE_ARTICLE_16"),
        (["api"], "SOURCE_ARTICLE_16"),
        (["host_app"], "SOURCE_ARTICLE_16"),
        (["web", "trusted_flagger"], "SOURCE_TRUSTED_FLAGGER"),
        ([], "SOURCE_VOLUNTARY"),
    ],
)
def test_source_type_follows_the_notices(moderator, channels, expected):
    (decision,) = decide_many(moderator, 1)
    case = decision.case
    notices = list(case.notices.all())
    if not channels:
        case.notices.clear()
    for notice, channel in zip(notices * len(channels), channels, strict=False):
        Notice.objects.filter(pk=notice.pk).update(channel=channel)
    if len(channels) == 2:
        extra = Notice.objects.create(category="privacy", explanation="x", good_faith=True, channel=channels[1])
        case.notices.add(extra)
    assert sor.statement_payload(decision, "p1")["source_type"] == expected


@pytest.mark.parametrize(
    ("automated", "detection", "expected_decision", "expected_detection"),
    [(False, False, "AUTOMATED_DECISION_NOT_AUTOMATED", "No"), (True, True, "AUTOMATED_DECISION_FULLY", "Yes")],
)
def test_automation_maps(moderator, automated, detection, expected_decision, expected_detection):
    (decision,) = decide_many(moderator, 1)
    Decision.objects.filter(pk=decision.pk).update(automated=automated, automated_detection=detection)
    decision.refresh_from_db()
    payload = sor.statement_payload(decision, "p1")
    assert (payload["automated_decision"], payload["automated_detection"]) == (expected_decision, expected_detection)


def test_puid_is_the_decisions_reference_and_valid(moderator):
    (decision,) = decide_many(moderator, 1)
    puid = sor.puid_for(decision)
    assert puid == f"{decision.case.reference}-D{decision.pk}" and v.PUID_PATTERN.match(puid)


def test_personal_data_scan_matches_whole_words_only():
    payload = {"decision_facts": "The decision relies on the law cited."}
    assert sor.personal_data_findings(payload, ["Law Firm Ann", "Ann"]) == []
    assert sor.personal_data_findings({"x": "Posted by Ann."}, ["Ann"]) == ["x: a known identifier"]
    assert sor.personal_data_findings({"x": "mail ann@example.com"}) == ["x: e-mail address"]
