"""The kernel's transition listeners: an app hears of one model's status changes, and only that model's."""

from __future__ import annotations

from typing import Any

import pytest

from abuse_app.models import Case
from requests_app.models import PrivacyRequest

pytestmark = pytest.mark.django_db


def test_a_listener_hears_its_models_transitions_and_no_other(monkeypatch):
    heard: list[tuple[str, str, str]] = []

    def listener(obj: Any, previous: str, to: str) -> None:
        heard.append((obj.reference, previous, to))

    monkeypatch.setattr(PrivacyRequest, "_transition_listeners", list(PrivacyRequest._transition_listeners))
    PrivacyRequest.register_transition_listener(listener)
    PrivacyRequest.register_transition_listener(listener)  # registering twice keeps one

    request = PrivacyRequest.objects.create(kind="access", email="alice@example.com")
    request.transition("verified", actor="system:test", action="request.verified")

    assert heard == [(request.reference, "unverified", "verified")]
    assert listener not in getattr(Case, "_transition_listeners", [])
