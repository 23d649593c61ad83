"""Art. 18 notifications: restricted, recorded on the timeline and in the audit chain, reporter withheld."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from abuse_app import services
from abuse_app.models import AuthorityNotification, Case, StatementSubmission
from abuse_app.services import authorities
from abuse_app.services.errors import AbuseError
from portal import roles
from tests.abuse_app.conftest import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def liaison(moderator):
    moderator.groups.add(Group.objects.get(name=roles.LIAISONS))
    return type(moderator).objects.get(pk=moderator.pk)  # fresh permission cache


def _case():
    submit(category="harassment", name="Alice Reporter", email="alice@example.com")
    return Case.objects.get()


def _notify(case, actor, **overrides):
    kwargs = {"recipient": "member_state", "member_state": "de", "authority": "BKA", "channel": "BKA online form"}
    return authorities.authorities_notify(case=case, actor=actor, **{**kwargs, **overrides})


def test_plain_moderator_may_not_notify(moderator):
    assert not moderator.has_perm(authorities.PERMISSION)
    with pytest.raises(AbuseError, match="Only staff allowed"):
        _notify(_case(), moderator)
    assert not AuthorityNotification.objects.exists()


def test_notification_is_recorded_on_timeline_without_reporter(liaison):
    case = _case()
    notification = _notify(case, liaison)
    assert notification.member_state == "DE" and notification.sent_by == liaison
    assert "Alice" not in notification.notice_text and "alice@example.com" not in notification.notice_text
    assert case.reference in notification.notice_text
    event = case.timeline().get(action="abuse.authorities_notified")
    assert event.actor == liaison and event.data["member_state"] == "DE"
    assert event.data["reporter_data_included"] is False


def test_reporter_only_when_included_explicitly(liaison):
    notification = _notify(_case(), liaison, include_reporter=True)
    assert "Alice Reporter <alice@example.com>" in notification.notice_text
    assert notification.reporter_data_included


def test_europol_needs_no_member_state_and_others_need_a_valid_one(liaison):
    case = _case()
    assert _notify(case, liaison, recipient="europol", member_state="DE").member_state == ""
    with pytest.raises(AbuseError, match="Member state"):
        _notify(case, liaison, member_state="US")


def test_notified_case_cannot_be_closed_with_no_action(liaison, moderator2):
    case = _case()
    _notify(case, liaison)
    with pytest.raises(AbuseError, match="cannot be closed with no action"):
        services.case_decide(case=case, actor=moderator2, action="none", ground="", legal_reference="", facts="Fine.")
    decision = services.case_decide(
        case=case,
        actor=moderator2,
        action="remove_content",
        ground="illegal",
        legal_reference="§ 241 StGB",
        facts="Threat to kill.",
    )
    assert StatementSubmission.objects.get(decision=decision).status == "pending"


def test_admin_add_form_records_notification(liaison, staff_client):
    case = _case()
    client = staff_client(liaison)
    url = f"/admin/abuse_app/authoritynotification/add/?case={case.pk}"
    page = client.get(url)
    assert page.status_code == 200 and case.reference.encode() in page.content
    response = client.post(
        url,
        {
            "case": case.pk,
            "recipient": "europol",
            "member_state": "",
            "authority": "Europol EC3",
            "channel": "SIENA",
            "authority_reference": "",
            "notice_text": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert AuthorityNotification.objects.get().authority == "Europol EC3"


def test_moderator_without_role_gets_no_add_form(moderator, staff_client):
    assert staff_client(moderator).get("/admin/abuse_app/authoritynotification/add/").status_code == 403


def test_admin_form_names_a_bad_member_state(liaison, staff_client):
    case = _case()
    response = staff_client(liaison).post(
        "/admin/abuse_app/authoritynotification/add/",
        {
            "case": case.pk,
            "recipient": "member_state",
            "member_state": "XX",
            "authority": "Police",
            "channel": "e-mail",
            "authority_reference": "",
            "notice_text": "",
        },
    )
    assert response.status_code == 200 and b"two-letter code of an EU member state" in response.content
    assert not AuthorityNotification.objects.exists()


def test_case_page_timeline_shows_the_notification(liaison, staff_client):
    case = _case()
    _notify(case, liaison, authority="LKA Berlin")
    page = staff_client(liaison).get(f"/admin/abuse_app/case/{case.pk}/change/").content.decode()
    assert "Authorities notified (DSA Art. 18)" in page and "Art. 18 notification to LKA Berlin" in page


def test_notification_is_sealed_in_the_audit_hash_chain(liaison):
    from portal import audit_chain
    from portal.models import AuditEvent

    _notify(_case(), liaison)
    audit_chain.seal()
    event = AuditEvent.objects.get(action="abuse.authorities_notified")
    assert event.seq and event.data["authority"] == "BKA" and event.actor == liaison
    assert audit_chain.verify().ok
