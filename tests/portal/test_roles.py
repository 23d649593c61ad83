"""Per-persona permissions: who sees which admin section, and nobody rewrites the audit trail.

The matrix is computed from the live admin registry, so sections added later
are covered by these tests without editing them.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission

from portal import roles
from portal.models import AuditEvent


def _sections(app_label: str):
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == app_label
    ]


def _changelist(model) -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def _ids(sections):
    return [f"{m._meta.app_label}.{m._meta.model_name}" for m, _ in sections]


REQUESTS = _sections("requests_app")
ABUSE = _sections("abuse_app")
# Sections only the child-safety role opens (tests/abuse_app/test_child_safety_access.py covers them).
CHILD_SAFETY_ONLY = {"abuse_app.cybertiplinereport", "abuse_app.hashbank"}
ABUSE_OPEN = [(m, a) for m, a in ABUSE if _ids([(m, a)])[0] not in CHILD_SAFETY_ONLY]


def test_role_groups_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {
        roles.PRIVACY_OFFICERS,
        roles.MODERATORS,
        roles.AUDITORS,
        roles.ADMINS,
    }


@pytest.mark.parametrize("model, model_admin", REQUESTS, ids=_ids(REQUESTS))
def test_privacy_officer_works_in_requests_sections(staff_client, officer, model, model_admin):
    assert staff_client(officer).get(_changelist(model)).status_code == 200


@pytest.mark.parametrize("model, model_admin", ABUSE, ids=_ids(ABUSE))
def test_privacy_officer_cannot_open_abuse_sections(staff_client, officer, model, model_admin):
    assert staff_client(officer).get(_changelist(model)).status_code == 403


@pytest.mark.parametrize("model, model_admin", ABUSE_OPEN, ids=_ids(ABUSE_OPEN))
def test_moderator_works_in_abuse_sections(staff_client, moderator, model, model_admin):
    assert staff_client(moderator).get(_changelist(model)).status_code == 200


@pytest.mark.parametrize("model, model_admin", REQUESTS, ids=_ids(REQUESTS))
def test_moderator_cannot_open_requests_sections(staff_client, moderator, model, model_admin):
    assert staff_client(moderator).get(_changelist(model)).status_code == 403


@pytest.mark.parametrize(
    "model, model_admin",
    REQUESTS + ABUSE_OPEN + _sections("portal"),
    ids=_ids(REQUESTS + ABUSE_OPEN + _sections("portal")),
)
def test_auditor_views_every_section_and_can_add_nothing(staff_client, auditor, model, model_admin):
    client = staff_client(auditor)
    assert client.get(_changelist(model)).status_code == 200
    assert client.get(_changelist(model) + "add/").status_code == 403
    assert client.post(_changelist(model) + "add/", {}).status_code == 403


@pytest.mark.parametrize("persona", ["moderator", "auditor", "officer"])
def test_child_safety_sections_refuse_everyone_without_the_role(db, request, staff_client, persona):
    from portal.roles import CHILD_SAFETY_MODERATORS
    from tests.conftest import _staff

    cora = _staff("cora", CHILD_SAFETY_MODERATORS)
    for model, _admin in ABUSE:
        if _ids([(model, _admin)])[0] in CHILD_SAFETY_ONLY:
            assert staff_client(request.getfixturevalue(persona)).get(_changelist(model)).status_code == 403
            assert staff_client(cora).get(_changelist(model)).status_code == 200


def test_auditor_holds_only_view_permissions(auditor):
    codenames = Permission.objects.filter(group__user=auditor).values_list("codename", flat=True)
    assert codenames and all(code.startswith("view_") for code in codenames)


def test_auditor_and_officer_cannot_see_staff_accounts_or_api_key_changes(staff_client, auditor, officer):
    for user in (auditor, officer):
        client = staff_client(user)
        assert client.get("/admin/auth/user/").status_code == 403
    assert staff_client(officer).get("/admin/portal/apikey/").status_code == 403


@pytest.mark.parametrize("persona", ["officer", "moderator", "auditor", "admin_user"])
def test_nobody_changes_or_deletes_audit_events(request, staff_client, persona):
    user = request.getfixturevalue(persona)
    event = AuditEvent.objects.create(actor_type="system", subject_type="x", subject_id="1", action="test")
    client = staff_client(user)
    change = client.post(f"/admin/portal/auditevent/{event.pk}/change/", {"action": "rewritten"})
    delete = client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert change.status_code in (403, 302) and delete.status_code in (403, 302)
    event.refresh_from_db()
    assert event.action == "test"
    assert not user.has_perm("portal.change_auditevent") or user.is_superuser
    assert not user.has_perm("portal.delete_auditevent") or user.is_superuser


def test_audit_events_refuse_update_and_delete_in_code(db):
    event = AuditEvent.objects.create(actor_type="system", subject_type="x", subject_id="1", action="test")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_officer_and_moderator_read_the_audit_trail(staff_client, officer, moderator):
    for user in (officer, moderator):
        assert staff_client(user).get("/admin/portal/auditevent/").status_code == 200


def test_staff_without_a_role_sees_nothing(staff_client, db):
    from tests.conftest import _staff

    nobody = _staff("newbie", None)
    client = staff_client(nobody)
    for model, _ in REQUESTS + ABUSE:
        assert client.get(_changelist(model)).status_code == 403


def test_role_names_in_the_migration_match_the_roles_module():
    import importlib

    migrations = [
        "portal.migrations.0006_role_groups",
        "abuse_app.migrations.0004_law_enforcement_liaisons_role",
        "abuse_app.migrations.0006_child_safety_moderators_role",
    ]
    names = {name for m in migrations for name in importlib.import_module(m).ROLE_NAMES}
    assert names == set(roles.ROLE_APPS)
