"""Privacy-request workflows, shared by the views, the admin, the API and the tasks.

One module per part of the work, with ``entity_action`` names; callers import the topic module
(this package re-exports nothing):

- ``validation``: ``RequestError`` and the checks of what people and host apps send;
- ``links``: status links, the confirmation link, "I lost my link" (``request_send_links``);
- ``requester_mail``: e-mails to the requester, and the queue's half of intake e-mails;
- ``intake``: ``request_submit``, ``request_verify``, ``request_file_verified``, ``request_file_approved``;
- ``decisions``: staff decisions (``request_approve``, ``request_deny``, ``request_extend``…);
- ``schedule``: the jobs beat runs (expiry, retention purge, deadline reminders);
- ``dashboard``: selectors for the dashboard figures;
- ``legal_hold``: lifting a legal hold and finishing what it held back;
- ``queue``: handing work to Celery by task name (the tasks import the services, not the reverse).

Every function is keyword-only. Status changes run inside ``transaction.atomic``
on a row locked with ``select_for_update`` and go through
``PrivacyRequest.transition`` / ``note`` so each one writes its audit event in
the same transaction. E-mails are sent after commit (``portal.mail``). Errors a
person can fix raise :class:`RequestError` (or the model's ``InvalidTransition``)
with a message written for them; callers show it as it is.
"""
