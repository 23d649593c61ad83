"""Staff see what the engine did: store tasks on the request page and in their own list."""

from __future__ import annotations

import pytest
from django.test import TestCase

from requests_app.engine import local
from tests.requests_app.webhook_hostapp import HostApp, stores_toml

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_request(tmp_path, settings, approved_request):
    app = HostApp().start()
    path = tmp_path / "stores.toml"
    path.write_text(stores_toml(app.url))
    settings.PORTAL_STORES_FILE = str(path)
    app.fail_next = [(400, {})]
    with TestCase.captureOnCommitCallbacks(execute=True):
        request = local.run_local(approved_request())
    yield request
    app.stop()


def test_request_page_shows_store_tasks_with_the_error_and_what_to_do(failed_request, officer, staff_client):
    client = staff_client(officer)
    response = client.get(f"/admin/requests_app/privacyrequest/{failed_request.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Store tasks (what the engine did in each store)" in content
    assert "the host app refused with 400" in content
    assert "Fix the cause, then use “Retry” on the request" in content


def test_store_task_list_filters_failed_tasks(failed_request, officer, staff_client):
    client = staff_client(officer)
    response = client.get("/admin/requests_app/storetask/?look=failed")
    assert response.status_code == 200
    assert failed_request.reference in response.content.decode()
    assert "refused with 400" in response.content.decode()


def test_auditor_can_read_store_tasks_but_not_change_them(failed_request, auditor, staff_client):
    client = staff_client(auditor)
    task = failed_request.store_tasks.first()
    assert client.get(f"/admin/requests_app/storetask/{task.pk}/change/").status_code == 200
    response = client.post(f"/admin/requests_app/storetask/{task.pk}/change/", {"status": "succeeded"})
    assert response.status_code == 403
