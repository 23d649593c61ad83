"""Abuse reports, modelled on the EU Digital Services Act notice-and-action rules.

- ``Notice``: one report from one person or the host app (DSA Art. 16 elements).
- ``Case``: notices about the same target (normalised URL or content id) grouped,
  so staff decide once and every reporter hears back (Art. 16(5), 17).
- ``Evidence``: files attached to a notice, stored privately, sniffed, hashed.
- ``Decision``: the statement of reasons (Art. 17).
- ``Appeal``: the internal complaint (Art. 20), decided by a *different* moderator.
- ``ReporterStanding``: misuse handling (Art. 23): warn, then suspend.
- ``WebhookDelivery``: the outbox of signed calls telling the host app what to do.

Invariants that the database can hold are constraints here; workflows that span
models live in ``abuse_app.services``.

One module per part: ``notices`` (notices, categories, evidence), ``cases`` (cases, staff notes),
``decisions`` (statements of reasons), ``appeals``, ``reporters`` (standing, misuse), ``webhooks``
(the outbox). Import them from here, as Django and the migrations do.
"""

# Each part after those it uses, the models of the subpackages last (as when this was one module): not sorted.
# isort: off
from abuse_app.models.notices import (
    CATEGORY_POLICY,
    ILLEGAL_CONTENT_CATEGORIES,
    Category,
    Evidence,
    EvidenceQuerySet,
    Notice,
    NoticeQuerySet,
    Priority,
    evidence_path,
    notice_reference,
)
from abuse_app.models.cases import Case, CaseNote, CaseQuerySet, InvalidCaseTransition, case_reference
from abuse_app.models.decisions import RESTRICTING_ACTIONS, Decision
from abuse_app.models.appeals import Appeal
from abuse_app.models.reporters import ReporterStanding, ReporterStandingQuerySet, mask_email
from abuse_app.models.webhooks import WebhookDelivery, WebhookDeliveryQuerySet

# Models in their own modules, still abuse_app models: the CyberTipline report of a child-safety
# case, the hash banks, and the DSA duties outside the portal (Transparency Database, Art. 18).
from abuse_app.cybertipline.models import CyberTiplineReport
from abuse_app.dsa.models import AuthorityNotification, StatementSubmission
from abuse_app.hashmatch.models import BankedHash, HashBank
# isort: on

__all__ = [
    "CATEGORY_POLICY",
    "ILLEGAL_CONTENT_CATEGORIES",
    "RESTRICTING_ACTIONS",
    "Appeal",
    "AuthorityNotification",
    "BankedHash",
    "Case",
    "CaseNote",
    "CaseQuerySet",
    "Category",
    "CyberTiplineReport",
    "Decision",
    "Evidence",
    "EvidenceQuerySet",
    "HashBank",
    "InvalidCaseTransition",
    "Notice",
    "NoticeQuerySet",
    "Priority",
    "ReporterStanding",
    "ReporterStandingQuerySet",
    "StatementSubmission",
    "WebhookDelivery",
    "WebhookDeliveryQuerySet",
    "case_reference",
    "evidence_path",
    "mask_email",
    "notice_reference",
]
