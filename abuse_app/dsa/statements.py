"""A decision as a statement of reasons for the DSA Transparency Database.

The mapping from the portal's categories, actions, grounds and territorial scope
to the database's vocabulary lives here (and as a table in docs/abuse.md, "DSA
duties"). No personal data may be sent: the free-text parts (facts, explanations)
are written from templates over the decision's structured fields, never copied
from what a moderator or reporter typed, and every payload is scanned before it
leaves (``personal_data_findings``).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils import timezone

from abuse_app.dsa import vocabulary as v
from abuse_app.models import Case, Category, Decision, Notice


class StatementNotSendable(Exception):
    """The decision cannot become a valid statement; the message says what staff must fix."""


# Portal category → (category when the ground is illegal content, category when the ground is
# the terms, keywords). "Other"/"illegal" notices name no specific type of illegal content.
CATEGORY_MAP: dict[str, tuple[str, str, tuple[str, ...]]] = {
    Category.PRIVACY: (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        (),
    ),
    Category.MINORS: ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", ()),
    Category.HARASSMENT: (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ("KEYWORD_CYBER_HARASSMENT",),
    ),
    Category.DEFAMATION: (
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        ("KEYWORD_DEFAMATION",),
    ),
    Category.ILLEGAL: ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ()),
    Category.AI_MISUSE: (
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        ("KEYWORD_BIOMETRIC_DATA_BREACH",),
    ),
    Category.SPAM: ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", ()),
    Category.OTHER: ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ()),
}

# Portal action → (the restriction field, its value, the field of the restriction's end date).
# Decisions that restrict nothing (no action, forwarding, referral) are not statements of
# reasons under Art. 17(1) and are not sent.
ACTION_MAP: dict[str, tuple[str, str, str]] = {
    Decision.Action.REMOVE_CONTENT: (
        "decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED", "end_date_visibility_restriction",
    ),
    Decision.Action.RESTRICT_ACCOUNT: (
        "decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION", "end_date_service_restriction",
    ),
    Decision.Action.SUSPEND_ACCOUNT: ("decision_account", "DECISION_ACCOUNT_SUSPENDED", "end_date_account_restriction"),
}  # fmt: skip

GROUND_MAP: dict[str, str] = {
    Decision.Ground.ILLEGAL: "DECISION_GROUND_ILLEGAL_CONTENT",
    Decision.Ground.TERMS: "DECISION_GROUND_INCOMPATIBLE_CONTENT",
}

# Notice channel → source_type; a case with any trusted flagger's notice counts as flagged.
SOURCE_MAP = {
    Notice.Channel.TRUSTED_FLAGGER: "SOURCE_TRUSTED_FLAGGER",
    Notice.Channel.WEB: "SOURCE_ARTICLE_16",
    Notice.Channel.API: "SOURCE_ARTICLE_16",
    Notice.Channel.HOST_APP: "SOURCE_ARTICLE_16",
}

# Names of territorial scopes staff may write (PORTAL_ABUSE_TERRITORIAL_SCOPE's default is "EU/EEA").
SCOPE_NAMES = {
    "eu/eea": v.EEA_COUNTRY_CODES,
    "eea": v.EEA_COUNTRY_CODES,
    "eu": v.EU_COUNTRY_CODES,
    "european union": v.EU_COUNTRY_CODES,
    "worldwide": v.EEA_COUNTRY_CODES,  # the database records only the EU/EEA part
    "global": v.EEA_COUNTRY_CODES,
}


def is_required(decision: Decision) -> bool:
    """Whether the decision restricts something, so a statement of reasons must be sent."""
    return decision.action in ACTION_MAP


def puid_for(decision: Decision) -> str:
    """The decision's reference: unique per platform, only ``[A-Za-z0-9_-]``, stable across retries."""
    puid = f"{decision.case.reference}-D{decision.pk}"
    if not v.PUID_PATTERN.match(puid) or len(puid) > v.MAX_PUID:
        raise StatementNotSendable(f"The reference {puid!r} is not a valid puid ([A-Za-z0-9_-], at most 500).")
    return puid


def territorial_scope_codes(scope: str) -> list[str]:
    """``"EU/EEA"``, ``"EU"``, ``"worldwide"`` or ISO codes (``"DE, AT"``) → the database's country codes."""
    text = " ".join(scope.strip().lower().split())
    if text in SCOPE_NAMES:
        return sorted(SCOPE_NAMES[text])
    codes = [part.upper() for part in re.split(r"[\s,;/]+", text) if part]
    unknown = [code for code in codes if code not in v.EUROPEAN_COUNTRY_CODES]
    if not codes or unknown:
        raise StatementNotSendable(
            f"Territorial scope {scope!r}: the Transparency Database takes EU/EEA country codes "
            f"(e.g. 'DE, AT') or 'EU', 'EEA', 'EU/EEA'; not {', '.join(unknown) or 'an empty scope'}."
        )
    return sorted(set(codes))


def _source_type(case: Case) -> str:
    channels = set(case.notices.values_list("channel", flat=True))
    if not channels:
        return "SOURCE_VOLUNTARY"
    if Notice.Channel.TRUSTED_FLAGGER in channels:
        return "SOURCE_TRUSTED_FLAGGER"
    return "SOURCE_ARTICLE_16"


def _content_types(case: Case) -> list[str]:
    types = list(settings.PORTAL_DSA_TDB_CONTENT_TYPES)
    if case.category == Category.AI_MISUSE and "CONTENT_TYPE_SYNTHETIC_MEDIA" not in types:
        types.append("CONTENT_TYPE_SYNTHETIC_MEDIA")
    return sorted(types)


def decision_facts(decision: Decision, category_label: str) -> str:
    """The facts, from a template over structured fields only: nothing anyone typed about a person."""
    source = {
        "SOURCE_VOLUNTARY": "on the provider's own initiative",
        "SOURCE_TRUSTED_FLAGGER": "after a notice from a trusted flagger",
    }.get(_source_type(decision.case), "after one or more notices (Art. 16 DSA)")
    how = "by automated means" if decision.automated else "by a human moderator"
    detected = " The content was detected by automated means." if decision.automated_detection else ""
    return (
        f"Content reported as {category_label.lower()} was reviewed {source} and a decision was taken {how}."
        f"{detected} The decision relies on {_ground_phrase(decision)}."
    )


def _ground_phrase(decision: Decision) -> str:
    if decision.ground == Decision.Ground.ILLEGAL:
        return "the law cited as the legal ground"
    return "the clause of the terms of service cited as the contractual ground"


def statement_payload(decision: Decision, puid: str) -> dict[str, Any]:
    """The JSON statement for ``POST /api/v1/statement(s)``. Raises StatementNotSendable."""
    if not is_required(decision):
        raise StatementNotSendable("Nothing was restricted: no statement of reasons is due.")
    case = decision.case
    field, value, end_field = ACTION_MAP[decision.action]
    illegal_category, terms_category, keywords = CATEGORY_MAP[case.category]
    ground = GROUND_MAP.get(decision.ground)
    if ground is None:
        raise StatementNotSendable("The decision names no ground (illegal content or terms of service).")
    reference = scrub(decision.legal_reference)[: v.MAX_GROUND]
    category_label = str(Category(case.category).label)
    scope = decision.territorial_scope or settings.PORTAL_ABUSE_TERRITORIAL_SCOPE
    payload: dict[str, Any] = {
        field: [value] if field == "decision_visibility" else value,
        end_field: decision.restricted_until.isoformat() if decision.restricted_until else None,
        "decision_ground": ground,
        "content_type": _content_types(case),
        "category": illegal_category if ground == "DECISION_GROUND_ILLEGAL_CONTENT" else terms_category,
        "territorial_scope": territorial_scope_codes(scope),
        "content_date": timezone.localtime(case.first_received_at).date().isoformat(),
        "application_date": timezone.localtime(decision.decided_at).date().isoformat(),
        "decision_facts": decision_facts(decision, category_label)[: v.MAX_FACTS],
        "source_type": _source_type(case),
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": "AUTOMATED_DECISION_FULLY" if decision.automated else "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": puid,
    }
    if keywords:
        payload["category_specification"] = list(keywords)
    if "CONTENT_TYPE_OTHER" in payload["content_type"]:
        payload["content_type_other"] = settings.PORTAL_DSA_TDB_CONTENT_TYPE_OTHER[: v.MAX_OTHER]
    explanation = (
        f"The moderator found the reported content to be {category_label.lower()} "
        f"and applied the cited {'law' if ground == 'DECISION_GROUND_ILLEGAL_CONTENT' else 'clause'}."
    )
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        payload.update(illegal_content_legal_ground=reference, illegal_content_explanation=explanation)
    else:
        payload.update(incompatible_content_ground=reference, incompatible_content_explanation=explanation)
    return payload


# What counts as personal data in a payload: the scan is deliberately broad (a false alarm holds
# one statement for staff; a miss publishes someone's data in a public EU database).
_PERSONAL = {
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    "URL": re.compile(r"(?i)\b(?:https?://|www\.)\S+"),
    "IPv4 address": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    "IPv6 address": re.compile(r"(?i)\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b"),
    "phone number": re.compile(r"\+?\d[\d ()-]{7,}\d"),
    "@handle": re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,}"),
}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def scrub(text: str) -> str:
    """Replace e-mail addresses, URLs, IPs, phone numbers and handles with ``[removed]``."""
    for pattern in _PERSONAL.values():
        text = pattern.sub("[removed]", text)
    return " ".join(text.split())


def personal_data_findings(payload: dict[str, Any], known: list[str] | None = None) -> list[str]:
    """Every string in ``payload`` that looks like personal data, or contains one of ``known``
    (names, account ids, target URLs of the case), as ``"field: kind"``."""
    findings: list[str] = []
    # Whole words only: a reporter called "Law" must not match "the law cited".
    needles = [re.compile(rf"(?<!\w){re.escape(k)}(?!\w)", re.IGNORECASE) for k in (known or []) if len(k) >= 3]
    for key, value in payload.items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or _ISO_DATE.match(item):
                continue
            findings.extend(f"{key}: {kind}" for kind, rx in _PERSONAL.items() if rx.search(item))
            findings.extend(f"{key}: a known identifier" for n in needles if n.search(item))
    return findings


def case_identifiers(case: Case) -> list[str]:
    """What identifies people in a case: the target, its account, reporters' names and e-mails."""
    _kind, _sep, target = case.target_key.partition(":")
    known = [target, case.target_display, case.target_account_id]
    for name, email, account in case.notices.values_list("reporter_name", "reporter_email", "target_account_id"):
        known += [name, email, account]
    return [k for k in known if k]
