"""The shipped default privacy policy, for tests that run after a transactional test flushed it."""

from __future__ import annotations

from django.utils import timezone

from portal.models import PolicyVersion
from portal.policy_texts import default_policy, languages

DEFAULT_POLICY = {language: default_policy(language).body for language in languages()}


def ensure_default_policy() -> PolicyVersion:
    """Version 1 in every shipped language, as the migrations leave it; returns the English one."""
    for language, body in DEFAULT_POLICY.items():
        if not PolicyVersion.objects.filter(version=1, language=language).exists():
            PolicyVersion.objects.create(
                version=1,
                language=language,
                effective_date=timezone.localdate(),
                summary_of_changes="First version.",
                body=body,
                published_at=timezone.now(),
            )
    return PolicyVersion.objects.get(version=1, language="en")
