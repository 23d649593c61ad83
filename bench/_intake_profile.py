"""Python CPU per intake request under the Django test client (issue 24; not a test).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_i24_intake REDIS=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/_intake_profile.py [N] [--only NAME,...] [--profile NAME]

Same settings as the intake bench (production settings, bench/_bench_urls.py, Redis cache
and broker, PostgreSQL), one process, no HTTP server: each endpoint N times after a warm-up,
process CPU time per request (``time.process_time``: this process's Python and driver work,
not the database's or Redis's). ``--profile NAME`` prints the cProfile of that endpoint's
N requests instead (sorted by cumulative time; ``~REGEX`` keeps the matching functions).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
_REDIS = os.environ.get("REDIS", "redis://127.0.0.1:6379/4")
os.environ.update(
    DJANGO_SETTINGS_MODULE="_bench_settings",
    DJANGO_DEBUG="false",
    SECRET_KEY="bench-" + "k" * 60,
    ALLOWED_HOSTS="testserver,127.0.0.1",
    SECURE_SSL_REDIRECT="false",
    CELERY_BROKER_URL=_REDIS,
    CACHE_URL=_REDIS,
    PORTAL_REDIS_KEY_PREFIX="intake-profile",
    PORTAL_AUTO_APPROVE="access,deletion,consent_withdrawal",
    PORTAL_REQUEST_RATE="10000000/hour",
    PORTAL_REQUEST_EMAIL_RATE="10000000/day",
    PORTAL_PUBLIC_RATE="10000000/hour",
    PORTAL_API_ANONYMOUS_RATE="10000000/minute",
    PORTAL_HOST_APP_RATE="10000000/minute",
    PORTAL_ABUSE_IP_RATE="10000000/day",
    PORTAL_ABUSE_EMAIL_RATE="10000000/day",
    NUM_PROXIES="1",
    LOG_LEVEL="WARNING",
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wt_i24_intake")
os.environ.setdefault("PORTAL_VAR_DIR", "/tmp/wt_i24_intake_var")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def _prepare() -> str:
    call_command("migrate", "--noinput", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)  # production pages need the manifest
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_one_insert "
            "(id bigserial PRIMARY KEY, body text NOT NULL, created_at timestamptz NOT NULL)"
        )
    from portal.models import ApiKey

    _key, raw = ApiKey.issue(name="intake-profile", scopes=["requests:write", "requests:read"])
    return raw


def _csrf(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return client.cookies["csrftoken"].value


def endpoints(raw_key: str) -> dict:
    run = f"{os.getpid()}-{int(time.time())}"
    form_client = Client(enforce_csrf_checks=True)
    form_token = _csrf(form_client, "/requests/new/deletion/")
    abuse_client = Client(enforce_csrf_checks=True)
    abuse_token = _csrf(abuse_client, "/report/")
    plain = Client()

    def one_insert(i: int):
        return plain.post("/bench/one-insert", {"x": "1"}), 200

    def form(i: int):
        data = {"csrfmiddlewaretoken": form_token, "email": f"f{run}-{i}@example.com"}
        data.update(jurisdiction="gdpr", confirm="on")
        return form_client.post("/requests/new/deletion/", data), 302

    def api(i: int):
        body = {"kind": "access", "email": f"a{run}-{i}@example.com"}
        response = plain.post(
            "/api/v1/privacy-requests/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw_key}"
        )
        return response, 201

    def abuse(i: int):
        data = {
            "csrfmiddlewaretoken": abuse_token,
            "category": "privacy",
            "locations": f"https://app.example.com/photos/{run}-{i}/",
            "explanation": "My photo is used for face matching without my consent.",
            "reporter_name": "Alice",
            "reporter_email": f"r{run}-{i}@example.com",
            "good_faith": "on",
        }
        forwarded = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        return abuse_client.post("/report/", data, HTTP_X_FORWARDED_FOR=forwarded), 302

    return {"one-insert": one_insert, "form": form, "api": api, "abuse": abuse}


def _run(call, start: int, n: int) -> None:
    for i in range(start, start + n):
        response, expected = call(i)
        if response.status_code != expected:
            raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")


def main() -> None:
    args = sys.argv[1:]
    n = int(args[0]) if args and args[0].isdigit() else 200
    profile = args[args.index("--profile") + 1] if "--profile" in args else ""
    only = args[args.index("--only") + 1].split(",") if "--only" in args else []
    calls = endpoints(_prepare())
    serial = 1000
    for name, call in calls.items():
        if (profile and name != profile) or (only and name not in only):
            continue
        _run(call, serial, 20)  # warm-up: imports, connections, template and URL caches
        serial += 20
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(_run, call, serial, n)
            restrict = [a for a in args if a.startswith("~")]
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(*(r[1:] for r in restrict), 60)
            return
        started = time.process_time()
        _run(call, serial, n)
        serial += n
        print(f"{name:<12} {(time.process_time() - started) / n * 1000:6.2f} ms CPU/request")


if __name__ == "__main__":
    main()
