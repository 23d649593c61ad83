"""Abuse workflows, shared by the public form, the API, the admin and the tasks.

One module per part of the work, with ``entity_action`` names:

- ``intake``: ``notice_submit``, secret-link lookups;
- ``reporters``: ``reporter_check`` (rate limits, suspensions), misuse counting,
  ``reporters_lift_suspensions``, ``reporter_identities_purge`` (retention);
- ``cases``: ``case_assign``, ``case_add_note``, ``case_place_legal_hold``, ``case_decide``;
- ``appeals``: ``appeal_file``, ``appeal_decide``;
- ``evidence``: ``evidence_open``, ``evidence_reveal``, ``evidence_purge``;
- ``webhooks``: ``webhook_queue``, ``webhook_deliver``, ``webhooks_retry``, ``webhooks_redeliver_stale``;
- ``transparency``: figures, statements of reasons, CSV rows;
- ``child_safety``: who may see child-safety material, ``case_confirm_reportable``, ``cybertipline_retract``;
- ``cybertipline``: ``cybertipline_advance`` (submit → upload → fileinfo → finish), ``cybertipline_sweep``;
- ``exposure``: blurred evidence previews, audited reveals, exposure counts per moderator;
- ``hash_matching``: ``media_check``, ``bank_import_csv``, the PDQ/MD5 index.

Every function that changes state runs in one transaction and writes the audit
trail in it (status changes through ``Case.transition``); e-mails and Celery
messages go out only after the commit. ``from abuse_app import services`` gives
every name below (re-exported here).
"""

from abuse_app.services.appeals import appeal_decide, appeal_file
from abuse_app.services.cases import (
    case_add_note,
    case_assign,
    case_decide,
    case_place_legal_hold,
    decision_payload,
    decision_problems,
)
from abuse_app.services.errors import AbuseError, NoticeRefused
from abuse_app.services.evidence import evidence_open, evidence_purge, evidence_reveal
from abuse_app.services.intake import (
    NoticeInput,
    Submitted,
    decision_get_by_target_token,
    notice_acknowledge,
    notice_get_by_token,
    notice_submit,
)
from abuse_app.services.reporters import (
    reporter_check,
    reporter_identities_purge,
    reporters_lift_suspensions,
)
from abuse_app.services.transparency import transparency_figures, transparency_rows, transparency_statements
from abuse_app.services.webhooks import (
    MAX_WEBHOOK_ATTEMPTS,
    TransientWebhookError,
    webhook_deliver,
    webhook_queue,
    webhook_signed_body,
    webhooks_redeliver_stale,
    webhooks_retry,
)

__all__ = [
    "MAX_WEBHOOK_ATTEMPTS",
    "AbuseError",
    "NoticeInput",
    "NoticeRefused",
    "Submitted",
    "TransientWebhookError",
    "appeal_decide",
    "appeal_file",
    "case_add_note",
    "case_assign",
    "case_decide",
    "case_place_legal_hold",
    "decision_get_by_target_token",
    "decision_payload",
    "decision_problems",
    "evidence_open",
    "evidence_reveal",
    "evidence_purge",
    "notice_acknowledge",
    "notice_get_by_token",
    "notice_submit",
    "reporter_check",
    "reporter_identities_purge",
    "reporters_lift_suspensions",
    "transparency_figures",
    "transparency_rows",
    "transparency_statements",
    "webhook_deliver",
    "webhook_queue",
    "webhook_signed_body",
    "webhooks_redeliver_stale",
    "webhooks_retry",
]
