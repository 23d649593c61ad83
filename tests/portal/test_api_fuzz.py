"""Schemathesis against the project's own OpenAPI schema, in-process through the WSGI app.

Every operation gets a bounded number of generated requests (valid and
invalid), with a fixed seed so a CI failure reproduces locally. Checks:
no 5xx, and every response whose status the schema documents matches the
documented body and content type. Calls carry an API key with every scope, so
the fuzzer gets past authentication into the validation code.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from portal.models import ApiKey

MAX_EXAMPLES = 25
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


@pytest.fixture
def keep_test_connection():
    """Calls go straight to the WSGI app, not through Django's test client, so Django's
    ``close_old_connections`` would run at the end of each request and close the connection
    that holds the test's transaction (PostgreSQL). Django's test client disconnects it too."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, keep_test_connection):
    from portal.wsgi import application

    # The coverage phase (hundreds of boundary cases per operation) is left to manual runs:
    # `schemathesis run` against a dev server. CI runs the schema's examples plus bounded fuzzing.
    config = SchemathesisConfig.from_dict(
        {
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)


@pytest.fixture
def host_app_key(db) -> str:
    _, raw = ApiKey.issue(name="fuzzer", scopes=list(ApiKey.Scope.values))
    return raw


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_api_operation_survives_fuzzing(case, host_app_key):
    if case.media_type in FORM_TYPES and not isinstance(case.body, dict | NotSet):
        # A form body is always key=value pairs; the test client cannot even encode a non-object.
        return
    cache.clear()  # rate limits would turn later examples into 429s and hide the code behind them
    case.call_and_validate(
        headers={"Authorization": f"Bearer {host_app_key}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
