"""Hostile input at every endpoint: never a 5xx, never a traceback in the log.

Every URL pattern of the project except the admin (walked by role in test_staff_views.py)
is called with a working path (real tokens and ids from ``tests.public_world``) and with
broken ones, then sent: JSON nested 5,000 levels deep, NUL and other control characters in
the path, the query and every body field (JSON, urlencoded and multipart), invalid UTF-8,
bodies over the size limit, wrong content types and numbers that overflow (1e400, 2**70).
API calls carry a key with every scope, so they get past authentication to the parsers and
the views. Field names come from the OpenAPI schema and from the forms of the public pages.

CI runs this on PostgreSQL (``postgres`` marker): NUL in text and integers beyond 64 bits
only fail there.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.core.cache import cache

from portal.models import ApiKey
from tests.public_world import build_world, fill_route, public_patterns

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PATTERNS = public_patterns()
NESTED_ARRAY = "[" * 5000 + "]" * 5000
NESTED_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
QUERY_NAMES = [
    "subject",
    "subject_kind",
    "purpose",
    "from",
    "to",
    "format",
    "lane",
    "category",
    "next",
    "page",
    "q",
    "language",
    "reference",
]
LIMIT = 64 * 1024  # the size limits are lowered for the test: the mechanism, not the megabytes


def _schema_fields() -> set[str]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    names: set[str] = set()
    for component in schema.get("components", {}).get("schemas", {}).values():
        names.update(component.get("properties", {}))
    for operation in (op for item in schema["paths"].values() for op in item.values() if isinstance(op, dict)):
        names.update(p["name"] for p in operation.get("parameters", []))
    return names


@pytest.fixture
def world(settings):
    settings.PORTAL_MAX_JSON_BYTES = LIMIT
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    return build_world()


@pytest.fixture
def field_names(client, world) -> list[str]:
    names = _schema_fields()
    for route, pattern in PATTERNS:
        if route.startswith(("api/", "account/")):
            continue
        html = client.get(world.path(pattern.name, route)).content.decode(errors="replace")
        names.update(re.findall(r'name="([\w-]+)"', html))
    names.discard("csrfmiddlewaretoken")
    return sorted(names)


@pytest.fixture
def bearer(db) -> str:
    _key, raw = ApiKey.issue(name="hostile", scopes=list(ApiKey.Scope.values))
    return raw


def _broken_paths(route: str, working: str) -> list[str]:
    """The path with NUL, control characters, invalid UTF-8 and overflowing numbers in each parameter."""
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    if not params:
        return [working.rstrip("/") + "%00/", working + "%01%1f", working + "%ff%fe"]
    out = []
    for converter, name in params:
        for value in ("x%00", "%00", "PR-%00", "a%0bb", "%ff%fe", "1" * 30, str(2**70)):
            out.append(fill_route(route, {name: value}))
        if converter == "str" or not converter:
            out.append(working.rstrip("/") + "%00/")
    return out


def _bodies(fields: list[str]) -> list[tuple[str, bytes | str]]:
    """(content type, body) pairs, each hostile in its own way."""
    nul = dict.fromkeys(fields, "a\x00b")
    controls = dict.fromkeys(fields, "a\x01\x1b\x7fb")
    surrogate = '{"' + '": "\\ud800", "'.join(fields) + '": "\\udfff"}'
    big_int = "{" + ", ".join(f'"{name}": {2**70}' for name in fields) + "}"
    huge_float = "{" + ", ".join(f'"{name}": 1e400' for name in fields) + "}"
    neg_int = "{" + ", ".join(f'"{name}": -{2**70}' for name in fields) + "}"
    many_digits = '{"size_bytes": ' + "9" * 5000 + "}"
    form_nul = "&".join(f"{name}=a%00b" for name in fields)
    form_ctrl = "&".join(f"{name}=a%07b" for name in fields)
    form_bad_utf8 = "&".join(f"{name}=%ff%fe" for name in fields)
    form_numbers = "&".join(f"{name}={2**70}" for name in fields)
    form_float = "&".join(f"{name}=1e400" for name in fields)
    form_nested = "&".join(f"{name}={'%5B' * 5000}{'%5D' * 5000}" for name in fields[:5])
    form_nested += "&receipt=" + "%5B" * 5000 + "%5D" * 5000
    boundary = "XyZ"
    multipart = (
        "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\na\x00b\r\n' for name in fields)
        + f"--{boundary}--\r\n"
    )
    multipart_bad = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n' for name in fields[:3]
        ).encode()
        + b"\xff\xfe\x00"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return [
        ("application/json", NESTED_ARRAY),
        ("application/json", NESTED_OBJECT),
        ("application/json", json.dumps(nul)),
        ("application/json", json.dumps(controls)),
        ("application/json", json.dumps({"items": [nul, nul]})),
        ("application/json", surrogate),
        ("application/json", big_int),
        ("application/json", neg_int),
        ("application/json", huge_float),
        ("application/json", many_digits),
        ("application/json", '{"a": NaN, "b": Infinity}'),
        ("application/json", b'{"email": "\xff\xfe", "subject": "\xc3\x28"}'),
        ("application/json", '{"x": "' + "a" * (LIMIT + 10) + '"}'),
        ("application/json", "[" * 40 + "]" * 40),
        ("application/json", ""),
        ("application/json", "null"),
        ("application/json; charset=latin-1", b'{"email": "\xe9"}'),
        ("text/plain", "hello"),
        ("application/xml", "<?xml version='1.0'?><a>1</a>"),
        ("application/x-www-form-urlencoded", form_nul),
        ("application/x-www-form-urlencoded", form_ctrl),
        ("application/x-www-form-urlencoded", form_bad_utf8),
        ("application/x-www-form-urlencoded", form_numbers),
        ("application/x-www-form-urlencoded", form_float),
        ("application/x-www-form-urlencoded", form_nested),
        ("application/x-www-form-urlencoded", "a=" + "b" * (LIMIT + 10)),
        (f"multipart/form-data; boundary={boundary}", multipart),
        (f"multipart/form-data; boundary={boundary}", multipart_bad),
        ("multipart/form-data", "no boundary"),
        ("multipart/form-data; boundary=", "--\r\n"),
    ]


def _queries() -> list[str]:
    return [
        "&".join(f"{name}=%00" for name in QUERY_NAMES),
        "&".join(f"{name}=a%0d%0ab" for name in QUERY_NAMES),
        "&".join(f"{name}=%ff%fe" for name in QUERY_NAMES),
        "&".join(f"{name}={2**70}" for name in QUERY_NAMES),
        "from=99999-01-01&to=0000-00-00&format=json",
        "subject_kind=user_id&subject=%00&purpose=x",
        "%00=1",
    ]


def _tracebacks(records) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in records
        if r.exc_info or "Traceback" in r.getMessage() or r.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("route, pattern", PATTERNS, ids=[p.name or r for r, p in PATTERNS])
def test_endpoint_survives_hostile_input(client, world, field_names, bearer, caplog, route, pattern):
    working = world.path(pattern.name, route)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {bearer}"} if route.startswith("api/") else {}
    failures: list[str] = []
    calls = 0

    def call(method: str, path: str, body=b"", content_type="application/octet-stream", query: str = ""):
        nonlocal calls
        calls += 1
        cache.clear()  # rate limits would answer 429 before the code under test runs
        url = f"{path}?{query}" if query else path
        response = client.generic(method, url, body, content_type=content_type, **headers)
        if pattern.name == "healthz" and response.status_code == 503 and "checks" in response.json():
            return response  # the health report itself: no worker or beat runs beside the tests
        if response.status_code >= 500:
            failures.append(f"{method} {url[:120]} [{content_type[:40]}] → {response.status_code}")
        return response

    caplog.set_level(logging.WARNING)
    for query in _queries():
        call("GET", working, query=query)
    for path in _broken_paths(route, working):
        call("GET", path)
        call("POST", path, "{}", "application/json")
    for content_type, body in _bodies(field_names):
        for method in ("POST", "PUT", "PATCH"):
            call(method, working, body, content_type)
    call("DELETE", working)

    assert calls > 40
    assert not failures, f"{len(failures)} of {calls} calls answered 5xx:\n" + "\n".join(failures[:30])
    records = [r for r in caplog.records if not r.getMessage().startswith("Service Unavailable: /healthz")]
    assert not _tracebacks(records), "\n".join(_tracebacks(records)[:10])


# --- What the refusals say ------------------------------------------------------------------------


def _api(client, bearer, path, body, content_type="application/json"):
    cache.clear()
    return client.generic("POST", path, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {bearer}")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/privacy-requests/",
        "/api/v1/abuse-reports/",
        "/api/v1/transmissions/",
        "/api/v1/consents/",
        "/api/v1/consents/withdraw/",
        "/api/v1/consents/links/",
    ],
)
def test_nested_json_is_400_saying_how_deep(client, bearer, path, caplog):
    response = _api(client, bearer, path, NESTED_ARRAY)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_deep" and "nested more than 32 levels" in error["message"]
    assert not _tracebacks(caplog.records)


def test_oversized_json_is_400_naming_the_limit(client, bearer, settings):
    settings.PORTAL_MAX_JSON_BYTES = 2048
    response = _api(client, bearer, "/api/v1/privacy-requests/", json.dumps({"email": "a" * 5000}))
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "The body is larger than 2048 bytes; send less.",
    }


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"email": "\xff"}', "not valid UTF-8"),
        (f'{{"size_bytes": {2**70}}}', "must fit in 64 bits"),
        ('{"size_bytes": 1e400}', "too large to be represented"),
        ('{"size_bytes": NaN}', "NaN is not a JSON number"),
    ],
)
def test_unreadable_json_is_400_saying_why(client, bearer, body, message):
    response = _api(client, bearer, "/api/v1/transmissions/", body)
    assert response.status_code == 400 and message in response.json()["error"]["message"]


def test_nul_in_json_field_is_400_on_that_field(client, bearer):
    response = _api(
        client,
        bearer,
        "/api/v1/privacy-requests/",
        json.dumps({"kind": "access", "email": "a\u0000@example.com", "jurisdiction": "gdpr"}),
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["email"]
    assert "control character" in response.json()["error"]["fields"]["email"][0]


def test_nul_in_a_lookup_path_is_404_and_in_a_query_400(client, api_key):
    _key, raw = api_key("requests:read", "consent:read")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/privacy-requests/PR-%00/", **auth).status_code == 404
    response = client.get("/api/v1/consents/check?subject_kind=user_id&subject=%00&purpose=x", **auth)
    assert response.status_code == 400 and "control character" in response.json()["error"]["message"]
    assert client.get("/report/status/st_%00/").status_code == 404


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("email=alice%00%40example.com&confirm=on", "application/x-www-form-urlencoded"),
        ("email=%ff%fe&confirm=on", "application/x-www-form-urlencoded"),
    ],
)
def test_public_form_with_nul_or_bad_utf8_is_a_400_page_saying_why(client, body, content_type):
    response = client.generic("POST", "/requests/new/deletion/", body, content_type=content_type)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The request could not be read" in html
    assert "control character" in html or "not valid UTF-8" in html


def test_report_form_multipart_with_nul_is_a_400_page(client):
    from tests.abuse_app.conftest import report_data

    response = client.post("/report/", report_data(explanation="bad\x00byte"))
    assert response.status_code == 400 and "control character" in response.content.decode()
