"""Privacy-request admin with many rows, and the intake's "same work either way".

Figures:
- server time (median of ADMIN_RUNS, default 5) and query count of the changelist and its
  filters, the two searches and the dashboard, with ADMIN_ROWS privacy requests
  (default 1,000,000 on PostgreSQL, 20,000 on SQLite, where rows are inserted by the ORM;
  3 % open, the rest closed over two years) — rows inserted set-based;
- median time of a new submission vs. a duplicate one (same e-mail, open request), over
  SUBMIT_N (default 200) each: the answer must not tell them apart.

Runs on a fresh test database of whatever DATABASE_URL names (SQLite otherwise), e.g.
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/run.py bench_admin_requests``.
"""

from __future__ import annotations

import logging
import os
import statistics
import time


def _setup() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    logging.getLogger("django.request").setLevel(logging.ERROR)
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    return original


def _fill(rows: int, assignee_id: int) -> float:
    """Insert ``rows`` requests with spread statuses, dates and assignees, set-based."""
    from django.db import connection

    started = time.perf_counter()
    # A realistic shape: 3 % of requests open (due dates from 20 days overdue to 40 days ahead),
    # the rest closed over two years; 20 % of rows assigned to the officer.
    if connection.vendor == "postgresql":
        sql = f"""
        INSERT INTO requests_app_privacyrequest (reference, kind, status, jurisdiction, channel, email,
            identifiers, language, scope_purpose, received_at, verified_at, due_at, extension_reason,
            decision_reason, attention_reason, verify_token_hash, receipt_signature,
            assigned_to_id, completed_at, closed_at)
        SELECT ref, kind, status, jurisdiction, 'web', email, '{{}}'::jsonb, 'en', '', received, received,
               CASE WHEN status IN ('verified','approved','running','needs_attention') THEN due END,
               '', '', '', '', '', assignee,
               CASE WHEN status = 'completed' THEN received + (i % 30) * interval '1 day' END,
               CASE WHEN status IN ('completed','denied','canceled','expired')
                    THEN received + (i % 30) * interval '1 day' END
        FROM (
          SELECT i,
                 'PR-' || substr(lpad(i::text, 8, '0'), 1, 4) || '-'
                       || substr(lpad(i::text, 8, '0'), 5, 4) AS ref,
                 CASE WHEN i % 3 = 0 THEN 'access' ELSE 'deletion' END AS kind,
                 CASE WHEN i % 100 < 3
                      THEN (ARRAY['unverified','verified','approved','running','needs_attention'])[1 + i % 5]
                      ELSE (ARRAY['completed','completed','completed','denied','canceled','expired'])
                           [1 + i % 6]
                 END AS status,
                 CASE WHEN i % 4 = 0 THEN 'ccpa' ELSE 'gdpr' END AS jurisdiction,
                 'person' || i || '@example.com' AS email,
                 CASE WHEN i % 100 < 3 THEN now() - (i % 30) * interval '1 day'
                      ELSE now() - (i % 730) * interval '1 day' END AS received,
                 now() + ((i % 60) - 20) * interval '1 day' AS due,
                 CASE WHEN i % 5 = 0 THEN {assignee_id} END AS assignee
          FROM generate_series(1, {rows}) AS i
        ) AS generated
        """
        with connection.cursor() as cursor:
            cursor.execute(sql)
            # What autovacuum does on a live system (visibility map for index-only counts, statistics).
            cursor.execute("VACUUM ANALYZE requests_app_privacyrequest")
    else:
        from datetime import timedelta

        from django.utils import timezone

        from requests_app.models import PrivacyRequest

        open_names = ["unverified", "verified", "approved", "running", "needs_attention"]
        closed_names = ["completed", "completed", "completed", "denied", "canceled", "expired"]
        now = timezone.now()
        batch = []
        for i in range(1, rows + 1):
            digits = f"{i:08d}"
            is_open = i % 100 < 3
            status = open_names[i % 5] if is_open else closed_names[i % 6]
            received = now - timedelta(days=(i % 30) if is_open else (i % 730))
            done = received + timedelta(days=i % 30)
            batch.append(
                PrivacyRequest(
                    reference=f"PR-{digits[:4]}-{digits[4:]}",
                    kind="access" if i % 3 == 0 else "deletion",
                    status=status,
                    jurisdiction="ccpa" if i % 4 == 0 else "gdpr",
                    email=f"person{i}@example.com",
                    received_at=received,
                    verified_at=received,
                    due_at=now + timedelta(days=(i % 60) - 20) if status in open_names[1:] else None,
                    assigned_to_id=assignee_id if i % 5 == 0 else None,
                    completed_at=done if status == "completed" else None,
                    closed_at=None if is_open else done,
                )
            )
            if len(batch) == 5000:
                PrivacyRequest.objects.bulk_create(batch)
                batch = []
        PrivacyRequest.objects.bulk_create(batch)
    return round(time.perf_counter() - started, 1)


def _time_get(client, url: str, runs: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up
    times = []
    queries = 0
    status = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        queries, status = len(captured), response.status_code
    return round(statistics.median(times) * 1000, 1), queries, status


def _submit_timings(n: int) -> tuple[float, float]:
    from django.core.cache import cache

    from requests_app.services.intake import request_submit

    def once(email: str) -> float:
        started = time.perf_counter()
        request_submit(kind="access", email=email, jurisdiction="gdpr", identifiers={}, language="en")
        return time.perf_counter() - started

    for i in range(10):  # warm caches (templates, statements) for both paths
        once("known@example.com")
        once(f"warm{i}@example.com")
    new, duplicate = [], []
    for i in range(n):  # interleaved, so drift (cache, WAL growth) hits both alike
        new.append(once(f"new{i}@example.com"))
        duplicate.append(once("known@example.com"))
    cache.clear()
    return round(statistics.median(new) * 1000, 2), round(statistics.median(duplicate) * 1000, 2)


def run() -> dict:
    original = _setup()
    try:
        return _measure()
    finally:
        from django.db import connection

        connection.creation.destroy_test_db(original, verbosity=0)


def _measure() -> dict:
    from django.db import connection
    from django.test import Client

    from portal import roles
    from tests.helpers import login_staff

    vendor = connection.vendor
    rows = int(os.environ.get("ADMIN_ROWS", "1000000" if vendor == "postgresql" else "20000"))
    runs = int(os.environ.get("ADMIN_RUNS", "5"))
    roles.sync_roles()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    officer = get_user_model().objects.create_user("olivia", "olivia@staff.example", "x" * 20, is_staff=True)
    officer.groups.add(Group.objects.get(name=roles.PRIVACY_OFFICERS))
    figures: dict[str, object] = {"database": vendor, "rows": rows, "insert_seconds": _fill(rows, officer.pk)}
    client = Client()
    login_staff(client, officer)
    base = "/admin/requests_app/privacyrequest/"
    middle = f"{rows // 2 + 1:08d}"
    pages = {
        "changelist": base,
        "filter overdue": base + "?deadline=overdue",
        "filter due soon + assigned to me": base + "?deadline=soon&assignee=me",
        "filter status needs_attention": base + "?status__exact=needs_attention",
        "filter unassigned + kind": base + "?assignee=none&kind__exact=deletion",
        "search e-mail": base + f"?q=person{rows // 2 + 1}%40example.com",
        "search reference": base + f"?q=PR-{middle[:4]}-{middle[4:]}",
        "dashboard": base + "dashboard/",
    }
    for name, url in pages.items():
        ms, queries, status = _time_get(client, url, runs)
        figures[f"{name} ms (median)"] = ms
        figures[f"{name} queries"] = queries
        if status != 200:
            figures[f"{name} status"] = status
    new_ms, duplicate_ms = _submit_timings(int(os.environ.get("SUBMIT_N", "200")))
    figures["submit new ms (median)"] = new_ms
    figures["submit duplicate ms (median)"] = duplicate_ms
    return figures
