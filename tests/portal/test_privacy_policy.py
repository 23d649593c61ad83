import datetime

import pytest
from django.utils import timezone

from portal.models import AuditEvent, PolicyVersion
from tests.portal.policy import ensure_default_policy


@pytest.fixture
def shipped(db):
    return ensure_default_policy()


def _publish(version, *, days_from_today=0, language="en", body="## Changed\n\nNew text for {app_name}."):
    policy = PolicyVersion.objects.create(
        version=version,
        language=language,
        body=body,
        summary_of_changes=f"Change {version}",
        effective_date=timezone.localdate() + datetime.timedelta(days=days_from_today),
    )
    policy.publish()
    return policy


def test_default_policy_shipped_names_microsoft_links_and_rights(client, shipped, settings):
    settings.PORTAL_APP_NAME = "Snapster"
    html = client.get("/privacy/").content.decode()
    assert "Privacy policy of Snapster" in html
    assert "Snapster uses Microsoft Cognitive Services" in html
    assert "Microsoft will receive certain data from Snapster" in html
    assert 'href="https://privacy.microsoft.com/privacystatement"' in html
    assert 'href="https://msrc.microsoft.com/report/abuse"' in html
    for path in ("/requests/new/access/", "/requests/new/deletion/", "/consent/", "/report/"):
        assert f'href="{path}"' in html
    assert "Version 1, in force from" in html
    assert "{app_name}" not in html


def test_policy_shows_newest_version_in_force_and_keeps_old_readable(client, shipped):
    _publish(2, days_from_today=-1)
    html = client.get("/privacy/").content.decode()
    assert "New text for" in html and "Version 2, in force from" in html
    old = client.get("/privacy/v/1/").content.decode()
    assert "You are reading version 1, which is no longer in force." in old
    assert "Microsoft Cognitive Services (Azure AI services" in old


def test_policy_future_version_is_announced_not_in_force(client, shipped):
    _publish(2, days_from_today=10)
    html = client.get("/privacy/").content.decode()
    assert "Version 1, in force from" in html
    assert "A new version takes effect on" in html
    assert 'href="/privacy/v/2/"' in html


def test_policy_draft_is_not_shown_and_its_url_is_404(client, shipped):
    PolicyVersion.objects.create(version=2, language="en", body="secret draft", effective_date=timezone.localdate())
    assert "secret draft" not in client.get("/privacy/").content.decode()
    assert client.get("/privacy/v/2/").status_code == 404
    assert client.get("/privacy/v/99/").status_code == 404


def test_published_policy_cannot_be_changed_or_deleted(shipped):
    shipped.body = "rewritten history"
    with pytest.raises(PermissionError):
        shipped.save()
    with pytest.raises(PermissionError):
        shipped.delete()


def test_policy_body_html_is_escaped_and_unsafe_links_dropped(client, shipped):
    _publish(2, body="<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![img](https://tracker.example/p.gif)")
    html = client.get("/privacy/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<img" not in html


def test_default_policy_shipped_in_german_and_french(client, shipped):
    german = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wer verantwortlich ist" in german and 'class="policy-body" lang' not in german
    assert 'href="https://privacy.microsoft.com/privacystatement"' in german
    french = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Qui est responsable" in french


def test_policy_without_a_translation_falls_back_to_english_with_a_note(client, shipped):
    PolicyVersion.objects.filter(language="de").delete()  # an operator who publishes English only
    html = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="de">' in html
    assert 'class="policy-body" lang="en"' in html
    assert "Who is responsible" in html


def test_policy_newer_english_version_wins_over_older_translation(client, shipped):
    _publish(2, days_from_today=-1, body="## Version two\n\nOnly in English so far.")
    html = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Version two" in html


def test_admin_publish_action_freezes_and_audits(admin_user, staff_client, shipped):
    client = staff_client(admin_user)
    draft = PolicyVersion.objects.create(version=2, language="en", body="draft", effective_date=timezone.localdate())
    response = client.post("/admin/portal/policyversion/", {"action": "publish", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == admin_user
    assert AuditEvent.objects.filter(subject_type="privacy_policy", action="policy.published").count() == 1
    page = client.get(f"/admin/portal/policyversion/{draft.pk}/change/").content.decode()
    assert 'name="body"' not in page  # read-only once published


def test_admin_copy_as_new_draft_takes_next_version(admin_user, staff_client, shipped):
    client = staff_client(admin_user)
    client.post("/admin/portal/policyversion/", {"action": "copy_as_new_draft", "_selected_action": [shipped.pk]})
    draft = PolicyVersion.objects.get(version=2)
    assert draft.body == shipped.body and not draft.is_published
    assert client.get(f"/admin/portal/policyversion/{draft.pk}/change/").status_code == 200


def test_admin_cannot_delete_published_version(admin_user, staff_client, shipped):
    client = staff_client(admin_user)
    response = client.post(f"/admin/portal/policyversion/{shipped.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert PolicyVersion.objects.filter(pk=shipped.pk).exists()


def test_every_language_ships_a_default_policy_with_a_summary(settings):
    from portal.policy_texts import default_policy, languages

    assert languages() == [code for code, _name in settings.LANGUAGES]
    for language in languages():
        policy = default_policy(language)
        assert policy.summary and "{app_name}" in policy.body and "Microsoft" in policy.body


@pytest.mark.django_db
def test_migrations_publish_the_policy_files_word_for_word():
    import importlib

    from django.apps import apps

    from portal.policy_texts import default_policy, languages

    # Run the two data migrations themselves: a transactional test on the same xdist worker may
    # have flushed the rows they created when the test database was built.
    PolicyVersion.objects.all().delete()
    importlib.import_module("portal.migrations.0003_default_privacy_policy").ship_default(apps, None)
    importlib.import_module("portal.migrations.0005_default_privacy_policy_de_fr").ship_translations(apps, None)
    for language in languages():
        shipped = PolicyVersion.objects.get(version=1, language=language)
        assert shipped.body == default_policy(language).body
        assert shipped.summary_of_changes == default_policy(language).summary and shipped.is_published
