"""What one request costs the portal's database: a bound on the queries and commits of its run.

One deletion through ``execute.run_chain(start)`` as a worker runs it (every step kept in the
worker), against the demo host app's SQL store alone. The numbers are this design's, counted
from the query log (docs/engine.md, "The profile of the fixed cost"): raise them only with a
reason written there.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import audit
from portal.celery import QUEUES
from portal.models import AuditEvent
from requests_app.demo import SQL_STORE_TOML
from requests_app.engine import execute
from requests_app.engine import plan as planning
from requests_app.models import PrivacyRequest, StoreTask
from tests.conftest import ALICE, BOB

pytestmark = pytest.mark.django_db(transaction=True)

# BEGIN, COMMIT, SAVEPOINT and RELEASE included. start 10 (lock, identities, the ledger-store check,
# tasks, transition + audit event, hand-out); per store task: claim 5 (lock the request, lock the
# task, start), 2 look-ups (identities; the identity kinds kept, or the legal hold), complete 9-10
# (lock the request, lock its tasks, record, hand out the next, the metrics in a savepoint);
# finish 9; one audit seal for the whole chain 6 (PostgreSQL: 7, with its advisory lock).
QUERIES = 75
COMMITS = 9  # start, claim and complete of each of the 3 tasks, finish, the seal


@pytest.fixture
def sql_store_only(tmp_path, settings, sqlite_host):
    path = tmp_path / "stores.toml"
    path.write_text(SQL_STORE_TOML.format(url=sqlite_host.url))
    settings.PORTAL_STORES_FILE = str(path)


def run(request: PrivacyRequest) -> None:
    execute.run_chain(lambda: planning.start(request.pk), frozenset(QUEUES))


def test_one_deletion_runs_in_a_bounded_number_of_queries_and_commits(sql_store_only, approved_request):
    run(approved_request(email=BOB))  # the first run creates the metric counters
    request = approved_request(email=ALICE)
    with CaptureQueriesContext(connection) as log:
        run(request)
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.COMPLETED
    assert request.store_tasks.count() == 3 and not request.store_tasks.exclude(status=StoreTask.Status.SUCCEEDED)
    statements = [q["sql"] for q in log.captured_queries]
    assert sum(s == "COMMIT" for s in statements) == COMMITS, "\n".join(statements)
    assert len(statements) == QUERIES + (connection.vendor == "postgresql"), "\n".join(statements)
    # the chain sealed the audit trail once, after its last step: nothing is left unsealed
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert sum('ORDER BY "portal_auditevent"."seq" DESC' in s for s in statements) == 1


def test_a_chain_that_fails_still_seals_what_its_steps_wrote():
    def step_that_audits_then_fails():
        with transaction.atomic():
            audit.record(subject_type="privacy_request", subject_id=1, action="execution_started")
        assert AuditEvent.objects.filter(seq__isnull=True).exists()  # not yet: the chain seals at its end
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        execute.run_chain(step_that_audits_then_fails, frozenset(QUEUES))
    assert AuditEvent.objects.filter(action="execution_started").get().seq is not None
