"""portal.compiled_queries: the ORM's statement, compiled once, the same answer as ``.first()``."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal import compiled_queries
from portal.models import ApiKey

pytestmark = pytest.mark.django_db


def _named(name: str, prefix: str):
    return ApiKey.objects.filter(name=name, prefix=prefix).order_by("pk")


def test_first_answers_as_the_orm_does_with_the_same_statement():
    key, _raw = ApiKey.issue(name="shop", scopes=["requests:read"])
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        found = compiled_queries.first("test.named", _named, "shop", key.prefix)
        missing = compiled_queries.first("test.named", _named, "other", key.prefix)
        expected = _named("shop", key.prefix).first()
    assert found == expected and found is not None and found.scopes == ["requests:read"] and missing is None
    ours, _other, orm = (q["sql"] for q in queries.captured_queries)
    assert ours == orm  # the ORM's own statement, with the same arguments


def test_an_argument_that_does_not_reach_the_sql_is_refused():
    with pytest.raises(ValueError, match="every argument"):
        compiled_queries.first("test.unused", lambda name: ApiKey.objects.order_by("pk"), "shop")
