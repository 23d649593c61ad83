"""The portal's URLs plus two floors for the intake comparison, behind the same middleware:

- ``/bench/bare``: a view doing nothing;
- ``/bench/one-insert``: a view that inserts one row (``bench_one_insert``, made by
  bench/_stack.py after migrate) in a transaction and commits — the least any intake
  can do, and the bar of issue 24 (intake ≥ 50 % of its rate).
"""

from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

ONE_INSERT_TABLE = "bench_one_insert"  # made by bench/_stack.py (ONE_INSERT_DDL)


@csrf_exempt
def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def one_insert(request):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ONE_INSERT_TABLE} (body, created_at) VALUES (%s, %s)",  # noqa: S608 - a constant
            [request.POST.get("x", ""), timezone.now()],
        )
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare", bare),
    path("bench/one-insert", one_insert),
    path("", include("portal.urls")),
]
