"""An address with no data: "we found nothing about you", not an empty ZIP behind a code (issue 19)."""

import pytest
from django.core import mail

from requests_app.engine.local import run_local
from requests_app.models import PrivacyRequest
from requests_app.services.links import issue_status_token
from tests.requests_app.intake_helpers import committed, verified

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def demo(transactional_db, demo_hostapp):
    """The demo host app (tests/requests_app/conftest.py)."""


@pytest.mark.parametrize(("email", "nothing"), [("nobody@example.net", True), ("bob@example.org", False)])
def test_access_request_says_whether_anything_was_found(client, demo, email, nothing):
    request = verified(email=email, kind="access")
    mail.outbox.clear()
    with committed():
        run_local(request)
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED
    [message] = mail.outbox
    assert ("found nothing about you" in message.body) is nothing
    assert ("/requests/download/" in message.body) is not nothing
    html = client.get(f"/requests/status/{issue_status_token(request)}/").content.decode()
    assert ("found nothing about you" in html) is nothing
    assert ("Download my data" in html) is not nothing
