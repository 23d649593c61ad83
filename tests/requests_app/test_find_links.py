"""/requests/find/ ("I lost my link"): the same work and time for a known and an unknown address;
the queue re-sends links of open requests and of completed ones whose package or receipt is still there."""

from __future__ import annotations

import gc
import statistics
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.models import AccessPackage, PrivacyRequest
from requests_app.services.links import request_send_links
from tests.requests_app.intake_helpers import committed, verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]
KNOWN, UNKNOWN = "alice@example.com", "nobody@example.com"


@pytest.fixture
def generous_limits(settings):
    """The measurement posts 35 times per address: lift the limits it is not about."""
    settings.PORTAL_REQUEST_RATE = "10000/hour"
    settings.PORTAL_REQUEST_EMAIL_RATE = "10000/hour"


def _completed(email: str = KNOWN, **fields) -> PrivacyRequest:
    now = timezone.now()
    values = {"kind": "access", **fields}
    return PrivacyRequest.objects.create(
        status=PrivacyRequest.Status.COMPLETED,
        email=email,
        verified_at=now,
        approved_at=now,
        completed_at=now,
        **values,
    )


def _package(request: PrivacyRequest, **fields) -> AccessPackage:
    values = {
        "path": f"packages/{request.pk}.zip",
        "expires_at": timezone.now() + timedelta(days=7),
        "download_token_hash": "x" * 64,
        **fields,
    }
    return AccessPackage.objects.create(request=request, **values)


def _find(client: Client, email: str):
    return client.post("/requests/find/", {"email": email})


def test_find_does_the_same_queries_for_a_known_and_an_unknown_address(client, generous_limits):
    verified(email=KNOWN)
    _package(_completed())
    mail.outbox.clear()
    _find(client, KNOWN), _find(client, UNKNOWN)  # warm-up: sessions, caches, template loading
    counts = {}
    for email in (KNOWN, UNKNOWN):
        with CaptureQueriesContext(connection) as queries:
            assert _find(client, email).status_code == 200
        counts[email] = [q["sql"].split()[0] for q in queries.captured_queries]
    assert counts[KNOWN] == counts[UNKNOWN]
    assert not mail.outbox  # the e-mail is the queue's work, after the reply


def _medians_of_30_interleaved(client: Client) -> tuple[float, float]:
    took: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
    gc.disable()  # a collection landing in one series would be noise, not a difference
    try:
        for round_ in range(30):
            order = (KNOWN, UNKNOWN) if round_ % 2 else (UNKNOWN, KNOWN)
            for email in order:
                started = time.perf_counter()
                _find(client, email)
                took[email].append(time.perf_counter() - started)
    finally:
        gc.enable()
    return statistics.median(took[KNOWN]), statistics.median(took[UNKNOWN])


@pytest.mark.postgres
def test_find_takes_the_same_time_for_a_known_and_an_unknown_address(client, generous_limits):
    """Issue 20 item 4 asked for this measurement explicitly: medians of 30 interleaved, within 1 ms.

    A shared CI machine can stall either series for a while; a real difference (the issue measured
    10.7 vs 4.2 ms) shows in every measurement, so up to three are taken and one within 1 ms passes.
    The equal query count above is the check that does not depend on the clock.
    """
    verified(email=KNOWN)
    _package(_completed())
    for _ in range(5):  # warm-up
        _find(client, KNOWN), _find(client, UNKNOWN)
    seen = []
    for _attempt in range(3):
        known, unknown = _medians_of_30_interleaved(client)
        seen.append(f"known {known * 1000:.2f} ms, unknown {unknown * 1000:.2f} ms")
        if abs(known - unknown) < 0.001:
            return
    pytest.fail("medians differ by 1 ms or more in every measurement: " + "; ".join(seen))


def test_find_resends_links_of_completed_requests_whose_package_is_available(client):
    ready = _completed()
    _package(ready)
    gone = _completed()
    _package(gone, deleted_at=timezone.now())
    used_up = _completed()
    _package(used_up, download_count=5, max_downloads=5)
    mail.outbox.clear()
    with committed():
        _find(client, KNOWN)
    (message,) = mail.outbox
    assert ready.reference in message.body
    assert gone.reference not in message.body and used_up.reference not in message.body


def test_find_resends_links_of_completed_deletions_with_a_receipt(client):
    deletion = _completed(kind="deletion", receipt={"v": 2})
    without_receipt = _completed(kind="deletion")
    mail.outbox.clear()
    with committed():
        _find(client, KNOWN)
    (message,) = mail.outbox
    assert deletion.reference in message.body and without_receipt.reference not in message.body


def test_find_for_an_unknown_address_sends_nothing(client):
    with committed():
        _find(client, UNKNOWN)
    assert not mail.outbox
    assert request_send_links(email=UNKNOWN) == 0


def test_find_is_limited_per_address_whatever_the_client_address(client, settings):
    """Anyone who knows an address could otherwise revoke its status links again and again."""
    settings.PORTAL_REQUEST_RATE = "10000/hour"
    settings.PORTAL_REQUEST_EMAIL_RATE = "2/hour"
    verified(email=KNOWN)
    answers = [
        client.post("/requests/find/", {"email": KNOWN}, REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(3)
    ]
    assert answers == [200, 200, 429]


def test_the_address_crosses_the_broker_sealed(client, monkeypatch):
    from requests_app import tasks

    sent = []
    real_apply_async = tasks.send_links.apply_async
    monkeypatch.setattr(
        tasks.send_links,
        "apply_async",
        lambda args=None, kwargs=None, **options: sent.append(tuple(args)) or real_apply_async(args, kwargs, **options),
    )
    verified(email=KNOWN)
    mail.outbox.clear()
    with committed():
        _find(client, KNOWN)
    ((sealed_email,),) = sent
    assert "alice" not in sealed_email and "example" not in sealed_email
    assert mail.outbox[0].to == [KNOWN]
