"""Privacy-request workflows, shared by the views, the admin, the API and the tasks.

One module per part of the work, with ``entity_action`` names:

- ``validation``: ``RequestError`` and the checks of what people and host apps send;
- ``links``: status links, the confirmation link, "I lost my link" (``request_send_links``);
- ``requester_mail``: e-mails to the requester, and the queue's half of intake e-mails;
- ``intake``: ``request_submit``, ``request_verify``, ``request_file_verified``, ``request_file_approved``;
- ``decisions``: staff decisions (``request_approve``, ``request_deny``, ``request_extend``…);
- ``schedule``: the jobs beat runs (expiry, retention purge, deadline reminders);
- ``dashboard``: selectors for the dashboard figures;
- ``queue``: handing work to Celery by task name (the tasks import the services, not the reverse).

Every function is keyword-only. Status changes run inside ``transaction.atomic``
on a row locked with ``select_for_update`` and go through
``PrivacyRequest.transition`` / ``note`` so each one writes its audit event in
the same transaction. E-mails are sent after commit (``portal.mail``). Errors a
person can fix raise :class:`RequestError` (or the model's ``InvalidTransition``)
with a message written for them; callers show it as it is.

New code imports the topic modules. The re-exports below are a façade for the
entry points (views, admin, API, forms, consent, engine.finish) that still
import ``requests_app.services``: exactly the names they use today. It goes
once they import the topic modules.
"""

from requests_app.services.dashboard import dashboard_figures
from requests_app.services.decisions import (
    CANCELABLE_STATUSES,
    DEADLINE_STATUSES,
    request_approve,
    request_assign,
    request_cancel,
    request_close_with_exceptions,
    request_deny,
    request_extend,
    request_resolve_manually,
    request_retry,
)
from requests_app.services.intake import (
    request_file_verified,
    request_resend_verification,
    request_submit,
    request_verify,
)
from requests_app.services.links import (
    find_by_status_token,
    find_by_verify_token,
    issue_status_token,
    request_links_later,
    revoke_status_links,
    status_url,
    verify_link_expired,
)
from requests_app.services.schedule import DUE_SOON_DAYS, privacy_officer_emails
from requests_app.services.validation import (
    IDENTIFIER_MAX_LENGTH,
    RequestError,
    clean_identifiers,
    clean_language,
    normalise_email,
)

__all__ = [
    "CANCELABLE_STATUSES",
    "DEADLINE_STATUSES",
    "DUE_SOON_DAYS",
    "IDENTIFIER_MAX_LENGTH",
    "RequestError",
    "clean_identifiers",
    "clean_language",
    "dashboard_figures",
    "find_by_status_token",
    "find_by_verify_token",
    "issue_status_token",
    "normalise_email",
    "privacy_officer_emails",
    "request_approve",
    "request_assign",
    "request_cancel",
    "request_close_with_exceptions",
    "request_deny",
    "request_extend",
    "request_file_verified",
    "request_links_later",
    "request_resend_verification",
    "request_resolve_manually",
    "request_retry",
    "request_submit",
    "request_verify",
    "revoke_status_links",
    "status_url",
    "verify_link_expired",
]
