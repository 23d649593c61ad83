"""Moderators' workspace: cases first (child safety on top), then notices, appeals, reporters, webhooks.

Everything that changes a case goes through ``abuse_app.services`` (audited);
the admin only collects input. Auditors hold view permissions only, so every
form and action here checks a change/add permission.

One module per page: ``cases``, ``notices`` (with decisions), ``appeals``, ``reporters``,
``webhooks``, ``child_safety`` (CyberTipline reports, hash banks); ``common`` holds what they
share. Django's autodiscovery imports this package.
"""

from abuse_app.admin import appeals, cases, child_safety, notices, reporters, webhooks

__all__ = ["appeals", "cases", "child_safety", "notices", "reporters", "webhooks"]
