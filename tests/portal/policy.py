"""The shipped default privacy policy, for tests that run after a transactional test flushed it."""

from __future__ import annotations

import importlib

from django.utils import timezone

from portal.models import PolicyVersion

_migration = importlib.import_module("portal.migrations.0003_default_privacy_policy")
DEFAULT_POLICY: str = _migration.DEFAULT_POLICY


def ensure_default_policy() -> PolicyVersion:
    policy = PolicyVersion.objects.filter(version=1, language="en").first()
    if policy is None:
        policy = PolicyVersion.objects.create(version=1, language="en", effective_date=timezone.localdate(),
                                              summary_of_changes="First version.", body=DEFAULT_POLICY,
                                              published_at=timezone.now())
    return policy
