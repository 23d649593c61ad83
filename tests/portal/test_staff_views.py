"""Every custom admin view and action, GET and POST, by every staff persona: never a 500.

The views come from the live admin registry: each ModelAdmin's ``get_urls()`` beyond
Django's own (changelist, add, change, delete, history) and each of its actions. They are
called by the personas of tests/conftest.py (officer, moderator, moderator2, auditor,
admin) and by a staff account with no role. Whoever may not act gets a 403 page that says
why (``templates/403.html``); nobody gets a 500.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import URLPattern, reverse

from abuse_app import services as abuse
from abuse_app.models import Appeal, Decision
from tests.helpers import login_staff
from tests.public_world import build_world

pytestmark = pytest.mark.django_db
PERSONAS = ["officer", "moderator", "moderator2", "auditor", "admin_user", "no_role"]
DJANGO_VIEWS = {"changelist", "add", "history", "delete", "change", "autocomplete"}
SAMPLE_POST = {
    "reason": "Checked by the staff walk.",
    "body": "A note from the walk.",
    "outcome": "upheld",
    "reasons": "The decision stands.",
    "new_action": "",
    "action": "none",
    "ground": "",
    "legal_reference": "",
    "facts": "Nothing to act on.",
    "assignee": "",
    "apply": "1",
}


def _custom_urls(model_admin) -> list[URLPattern]:
    own = {p.name for p in admin.ModelAdmin.get_urls(model_admin)}
    return [p for p in model_admin.get_urls() if isinstance(p, URLPattern) and p.name not in own]


def _registry():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def no_role(db):
    return get_user_model().objects.create_user(
        username="nora", email="nora@staff.example", password="correct horse battery staple", is_staff=True
    )


@pytest.fixture
def staffed_world(moderator, moderator2):
    world = build_world()
    decision = Decision.objects.get(pk=world.decision_id)
    # An appeal the original decider may not decide (another world moderator took the decision).
    abuse.appeal_file(
        decision=decision,
        appellant=Appeal.Appellant.TARGET,
        notice=None,
        statement="It was me in the photo.",
        contact_email="",
    )
    return world


def _values(model, pattern: URLPattern) -> list[dict[str, str]]:
    """Keyword arguments for a custom URL: an existing object (and a missing one), each named choice."""
    from requests_app.admin.request_decisions import DECISIONS

    names = set(pattern.pattern.regex.groupindex)
    if not names:
        return [{}]
    target = model
    if "evidence" in (pattern.name or ""):
        from abuse_app.models import Evidence

        target = Evidence
    existing = target.objects.order_by("pk").first()
    pks = [str(existing.pk) if existing else "1", "999999", "abc"]
    out = []
    for pk in pks:
        kwargs = {name: pk for name in names if name in ("pk", "object_id", "id")}
        if "name" in names:
            out += [{**kwargs, "name": name} for name in [*DECISIONS, "bogus"]]
        else:
            out.append(kwargs)
    return out


def _path(pattern: URLPattern, model, kwargs: dict[str, str]) -> str:
    base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    route = str(pattern.pattern)
    return base + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m.group(1)], route)


def _check(response, who: str, what: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{who}: {what} → {response.status_code}")
    elif response.status_code == 403:
        html = response.content.decode()
        reason = re.search(r'<p id="refusal-reason">(.+?)</p>', html, re.S)
        if "You may not do this" not in html or not reason or not reason.group(1).strip():
            failures.append(f"{who}: {what} → 403 without a reason")


@pytest.mark.parametrize("persona", PERSONAS)
def test_custom_admin_views_never_500_and_refusals_say_why(client, staffed_world, persona, request):
    user = request.getfixturevalue(persona)
    login_staff(client, user)
    failures: list[str] = []
    walked = 0
    for model, model_admin in _registry():
        for pattern in _custom_urls(model_admin):
            for kwargs in _values(model, pattern):
                path = _path(pattern, model, kwargs)
                for method, data in (("get", None), ("post", {}), ("post", SAMPLE_POST)):
                    response = getattr(client, method)(path, data) if data is not None else client.get(path)
                    _check(response, persona, f"{method.upper()} {path}", failures)
                    walked += 1
    assert walked > 30
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_actions_never_500(client, staffed_world, persona, request, admin_user):
    user = request.getfixturevalue(persona)
    login_staff(client, user)
    as_admin = RequestFactory().get("/admin/")
    as_admin.user = admin_user
    failures: list[str] = []
    walked = 0
    for model, model_admin in _registry():
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        pks = [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:3]]
        for name in model_admin.get_actions(as_admin):
            for extra in ({}, SAMPLE_POST):
                data = {**extra, "action": name, ACTION_CHECKBOX_NAME: pks, "index": "0"}
                _check(client.post(changelist, data), persona, f"action {name} on {model._meta.label}", failures)
                walked += 1
    assert walked > 10
    assert not failures, "\n".join(failures)


def test_original_moderator_opening_the_appeal_gets_a_403_saying_why(client, moderator, moderator2):
    world = build_world()
    decision = Decision.objects.get(pk=world.decision_id)
    appeal = abuse.appeal_file(
        decision=decision, appellant=Appeal.Appellant.TARGET, notice=None, statement="It was me.", contact_email=""
    )
    login_staff(client, decision.decided_by)
    for response in (
        client.get(f"/admin/abuse_app/appeal/{appeal.pk}/decide/"),
        client.post(f"/admin/abuse_app/appeal/{appeal.pk}/decide/", {"outcome": "upheld", "reasons": "I was right."}),
    ):
        assert response.status_code == 403
        assert "You took the original decision. Another moderator must decide this appeal." in (
            response.content.decode()
        )
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.PENDING


def test_auditor_acting_on_a_privacy_request_is_told_they_may_only_look(client, auditor, db):
    world = build_world()
    from requests_app.models import PrivacyRequest

    pk = PrivacyRequest.objects.get(reference=world.request_reference).pk
    login_staff(client, auditor)
    response = client.post(f"/admin/requests_app/privacyrequest/{pk}/decide/cancel/")
    assert response.status_code == 403
    assert "your account may only look at them" in response.content.decode()
