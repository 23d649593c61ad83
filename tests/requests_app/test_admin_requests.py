"""Privacy requests in the admin: list, filters, search, decisions, timeline, dashboard, speed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal.models import AuditEvent
from requests_app.models import PrivacyRequest, new_reference
from tests.requests_app.intake_helpers import committed, verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

CHANGELIST = "/admin/requests_app/privacyrequest/"


def _row(status="verified", due_in_days=20, **fields):
    now = timezone.now()
    defaults = {
        "kind": "access",
        "email": f"{new_reference().lower()}@example.com",
        "status": status,
        "verified_at": now - timedelta(days=5),
        "due_at": now + timedelta(days=due_in_days),
    }
    defaults.update(fields)
    return PrivacyRequest.objects.create(**defaults)


def _decide(client, obj, name, data=None):
    with committed():
        return client.post(f"{CHANGELIST}{obj.pk}/decide/{name}/", data or {})


def _action(client, objs, name, **data):
    with committed():
        return client.post(CHANGELIST, {"action": name, "_selected_action": [o.pk for o in objs], **data})


def test_changelist_shows_columns_and_colours(staff_client, officer):
    overdue = _row(due_in_days=-1)
    soon = _row(due_in_days=3)
    later = _row(due_in_days=25)
    html = staff_client(officer).get(CHANGELIST).content.decode()
    for obj in (overdue, soon, later):
        assert obj.reference in html
    assert html.count("pr-overdue") == 1
    assert html.count("pr-due-soon") == 1
    assert "requests_app/admin.css" in html
    assert 'style="' not in html.split('id="result_list"')[1].split("</table>")[0]  # CSP: classes, not styles


def test_changelist_filter_overdue_and_due_soon(staff_client, officer):
    overdue = _row(due_in_days=-1)
    extended = _row(due_in_days=-1, extended_due_at=timezone.now() + timedelta(days=40))
    soon = _row(due_in_days=3)
    closed = _row(status="completed", due_in_days=-10)
    client = staff_client(officer)
    html = client.get(CHANGELIST + "?deadline=overdue").content.decode()
    assert overdue.reference in html
    assert extended.reference not in html and soon.reference not in html and closed.reference not in html
    html = client.get(CHANGELIST + "?deadline=soon").content.decode()
    assert soon.reference in html and overdue.reference not in html


def test_changelist_filter_assigned_to_me_and_unassigned(staff_client, officer, admin_user):
    mine = _row(assigned_to=officer)
    theirs = _row(assigned_to=admin_user)
    nobody = _row()
    client = staff_client(officer)
    html = client.get(CHANGELIST + "?assignee=me").content.decode()
    assert mine.reference in html and theirs.reference not in html and nobody.reference not in html
    html = client.get(CHANGELIST + "?assignee=none").content.decode()
    assert nobody.reference in html and mine.reference not in html


@pytest.mark.parametrize("term", ["{ref}", "{ref_lower}", "{ref_compact}", "ALICE@example.com"])
def test_changelist_search_by_reference_and_email(staff_client, officer, term):
    target = _row(email="alice@example.com")
    other = _row()
    term = term.format(
        ref=target.reference,
        ref_lower=target.reference.lower(),
        ref_compact=target.reference.replace("-", ""),
    )
    html = staff_client(officer).get(CHANGELIST, {"q": term}).content.decode()
    assert target.reference in html
    assert other.reference not in html


def test_changelist_with_many_rows_has_constant_queries(staff_client, officer, django_assert_max_num_queries):
    PrivacyRequest.objects.bulk_create(
        [
            PrivacyRequest(
                kind="deletion",
                email=f"p{i}@example.com",
                status="verified",
                assigned_to=officer,
                due_at=timezone.now() + timedelta(days=i % 40 - 10),
                reference=new_reference(),
            )
            for i in range(300)
        ]
    )
    client = staff_client(officer)
    client.get(CHANGELIST)  # warm caches (content types, permissions)
    with django_assert_max_num_queries(12):
        response = client.get(CHANGELIST + "?deadline=soon&assignee=me")
    assert response.status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(CHANGELIST).status_code == 200


def test_detail_page_is_read_only_with_timeline_and_decisions(staff_client, officer):
    obj = verified()
    html = staff_client(officer).get(f"{CHANGELIST}{obj.pk}/change/").content.decode()
    assert "Request received" in html and "Confirmed by the requester" in html  # the timeline, in words
    assert 'name="_save"' not in html
    assert f"{obj.pk}/decide/approve/" in html and f"{obj.pk}/decide/deny/" in html
    assert f"{obj.pk}/decide/retry/" not in html  # only for needs_attention


def test_approve_from_detail_page_audits_and_schedules(staff_client, officer):
    obj = verified()
    response = _decide(staff_client(officer), obj, "approve")
    assert response.status_code == 302
    obj.refresh_from_db()
    assert obj.status == "approved" and obj.approved_at is not None
    event = AuditEvent.objects.filter(subject_id=str(obj.pk), action="request.approved").get()
    assert event.actor == officer and event.from_status == "verified" and event.to_status == "approved"


def test_deny_requires_reason_and_emails_requester(staff_client, officer):
    obj = verified()
    client = staff_client(officer)
    response = _decide(client, obj, "deny", {"reason": "  "})
    assert response.status_code == 200
    assert "A reason is required" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == "verified"
    mail.outbox.clear()
    _decide(client, obj, "deny", {"reason": "We hold no data linked to this address."})
    obj.refresh_from_db()
    assert obj.status == "denied" and obj.decision_reason == "We hold no data linked to this address."
    (message,) = mail.outbox
    assert "We hold no data linked to this address." in message.body
    assert AuditEvent.objects.get(subject_id=str(obj.pk), action="request.denied").reason.startswith("We hold")


def test_list_action_deny_shows_intermediate_form_then_applies(staff_client, officer):
    a, b = verified(email="a@example.com"), verified(email="b@example.com")
    client = staff_client(officer)
    response = _action(client, [a, b], "deny")
    assert response.status_code == 200
    html = response.content.decode()
    assert a.reference in html and b.reference in html and 'name="reason"' in html
    response = _action(client, [a, b], "deny", apply="1", reason="Duplicate of an earlier request.")
    assert response.status_code == 302
    assert set(PrivacyRequest.objects.values_list("status", flat=True)) == {"denied"}


def test_list_action_approve_reports_per_request_errors(staff_client, officer):
    ok = verified(email="a@example.com")
    already = _row(status="denied")
    client = staff_client(officer)
    response = _action(client, [ok, already], "approve")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert already.reference in page and "cannot become" in page
    ok.refresh_from_db()
    assert ok.status == "approved"


def test_extend_once_within_first_period(staff_client, officer):
    obj = verified()
    first_due = obj.due_at
    client = staff_client(officer)
    mail.outbox.clear()
    _decide(client, obj, "extend", {"reason": "Data spread over many systems."})
    obj.refresh_from_db()
    assert obj.extended_due_at is not None and obj.extended_due_at > first_due
    assert obj.extension_reason == "Data spread over many systems."
    (message,) = mail.outbox
    assert "two months" in message.body and "Data spread over many systems." in message.body
    response = _decide(client, obj, "extend", {"reason": "again"})
    page = client.get(response["Location"]).content.decode()
    assert "already extended once" in page


def test_extend_after_first_deadline_refused(staff_client, officer):
    obj = _row(due_in_days=-1)
    client = staff_client(officer)
    response = _decide(client, obj, "extend", {"reason": "late"})
    page = client.get(response["Location"]).content.decode()
    assert "can no longer be extended" in page
    obj.refresh_from_db()
    assert obj.extended_due_at is None


def test_assign_to_me_and_to_someone(staff_client, officer, admin_user):
    obj = _row()
    client = staff_client(officer)
    _decide(client, obj, "assign_me")
    obj.refresh_from_db()
    assert obj.assigned_to == officer
    _decide(client, obj, "assign", {"assignee": admin_user.pk})
    obj.refresh_from_db()
    assert obj.assigned_to == admin_user
    actions = list(AuditEvent.objects.filter(subject_id=str(obj.pk)).values_list("action", flat=True))
    assert actions == ["request.assigned", "request.assigned"]


def test_cancel_from_admin(staff_client, officer):
    obj = verified()
    _decide(staff_client(officer), obj, "cancel")
    obj.refresh_from_db()
    assert obj.status == "canceled" and obj.closed_at is not None


def test_retry_only_for_needs_attention(staff_client, officer):
    obj = verified()
    client = staff_client(officer)
    response = _decide(client, obj, "retry")
    page = client.get(response["Location"]).content.decode()
    assert "Only a request that needs attention can be retried" in page


def test_auditor_sees_but_cannot_decide(staff_client, auditor):
    obj = verified()
    client = staff_client(auditor)
    assert client.get(f"{CHANGELIST}{obj.pk}/change/").status_code == 200
    assert _decide(client, obj, "approve").status_code == 403
    obj.refresh_from_db()
    assert obj.status == "verified"
    assert 'value="approve"' not in client.get(CHANGELIST).content.decode()


def test_officer_sees_decision_actions(staff_client, officer):
    html = staff_client(officer).get(CHANGELIST).content.decode()
    for name in ("approve", "deny", "extend", "assign_me", "assign", "retry", "cancel"):
        assert f'value="{name}"' in html


def test_moderator_cannot_see_privacy_requests(staff_client, moderator):
    assert staff_client(moderator).get(CHANGELIST).status_code == 403


def test_dashboard_figures(staff_client, officer):
    now = timezone.now()
    _row(due_in_days=-1)
    _row(due_in_days=3)
    _row(status="unverified", due_at=None, verified_at=None)
    _row(
        status="completed",
        received_at=now - timedelta(days=10),
        verified_at=now - timedelta(days=10),
        completed_at=now - timedelta(days=6),
    )
    _row(
        status="completed",
        received_at=now - timedelta(days=10),
        verified_at=now - timedelta(days=10),
        completed_at=now - timedelta(days=8),
    )
    html = staff_client(officer).get(CHANGELIST + "dashboard/").content.decode()
    assert 'id="overdue-count">1<' in html
    assert 'id="due-week-count">1<' in html
    assert 'id="median-30">3.0<' in html
    assert "<svg" in html and "<script" not in html.split('id="content-main"')[1]
    assert html.count('class="pr-bar"') == 12


def test_needs_attention_shows_attention_reason_retry_and_resolve(staff_client, officer):
    obj = _row(status="needs_attention", attention_reason="Store “face”: key rejected (401). Fix the key, retry.")
    html = staff_client(officer).get(f"{CHANGELIST}{obj.pk}/change/").content.decode()
    assert "key rejected (401)" in html
    assert f"{obj.pk}/decide/retry/" in html and f"{obj.pk}/decide/resolve/" in html


def test_resolve_by_hand_requires_what_was_done(staff_client, officer):
    obj = _row(status="needs_attention", kind="deletion")
    client = staff_client(officer)
    response = _decide(client, obj, "resolve", {"reason": ""})
    assert response.status_code == 200 and "A reason is required" in response.content.decode()
    _decide(client, obj, "resolve", {"reason": "Erased the face persons by hand in the Azure portal."})
    obj.refresh_from_db()
    assert obj.status == "completed"
    event = AuditEvent.objects.get(subject_id=str(obj.pk), to_status="completed")
    assert event.actor == officer and "by hand" in event.reason


def test_changelist_count_is_capped_for_huge_lists(staff_client, officer, monkeypatch):
    from requests_app.admin.request_lists import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    for _ in range(7):
        _row()
    html = staff_client(officer).get(CHANGELIST).content.decode()
    assert "more than 5 privacy requests" in html
    html = staff_client(officer).get(CHANGELIST + "?deadline=overdue").content.decode()
    assert "0 privacy requests" in html


def test_list_action_message_is_a_sentence_with_plural(staff_client, officer):
    client = staff_client(officer)
    one, two = _row(), _row()
    response = _action(client, [one], "assign_me")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "1 request assigned to you." in messages
    response = _action(client, [one, two], "assign_me")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "2 requests assigned to you." in messages
    assert not any("(s)" in m for m in messages)


def test_every_decision_reports_what_it_did_in_a_sentence():
    """A decision without its sentence answered 500 after it was saved ("close with exceptions" did)."""
    from requests_app.admin.request_decisions import DECISIONS, DONE

    assert set(DONE) == set(DECISIONS)
    for name in DECISIONS:
        assert "2" in DONE[name] % {"n": 2}


def test_close_with_exceptions_from_the_request_page_says_so(staff_client, officer):
    obj = _row(status="needs_attention", kind="deletion", attention_reason="Speaker Recognition: 1 item(s) left.")
    response = _decide(staff_client(officer), obj, "close_with_exceptions", {"reason": "Asked Microsoft support."})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert obj.status == "completed" and obj.receipt["completed_with_exceptions"]["reason"].startswith("Asked")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "1 request closed as completed with exceptions." in messages
