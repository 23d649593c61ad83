"""Public pages: HTML + CSS weight and server time with the Django test client.

Figures per page: bytes of HTML, bytes of HTML + every stylesheet it links, and the
median and 95th-percentile server time over N GETs (PAGES_N, default 200) in one
process on a fresh SQLite test database (the shipped migrations, so the default
privacy policy is there). The budget from issue 7 is < 50 KB of HTML + CSS per page.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import time

PAGES = [
    "/",
    "/privacy/",
    "/privacy/v/1/",
    "/requests/new/access/",
    "/requests/new/deletion/",
    "/requests/find/",
    "/consent/",
    "/report/",
    "/transparency/",
]


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 429s from rate limits are expected here
    connection.creation.create_test_db(verbosity=0, autoclobber=True)


def _css_bytes(html: str) -> int:
    from django.contrib.staticfiles import finders

    total = 0
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        path = finders.find(href.removeprefix("/static/"))
        if path:
            total += os.path.getsize(path)
    return total


def run() -> dict:
    _setup()
    from django.test import Client

    n = int(os.environ.get("PAGES_N", "200"))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    figures: dict[str, object] = {"requests_per_page": n}
    worst = 0
    for path in PAGES:
        response = client.get(path)
        if response.status_code != 200:
            figures[f"{path} status"] = response.status_code
            continue
        html = response.content.decode()
        weight = len(response.content) + _css_bytes(html)
        worst = max(worst, weight)
        timings = []
        refused = 0
        for _ in range(n):
            started = time.perf_counter()
            refused += client.get(path).status_code != 200
            timings.append(time.perf_counter() - started)
        if refused:
            figures[f"{path} non_200_of_n (rate limit)"] = refused
        timings.sort()
        figures[f"{path} html_kb"] = round(len(response.content) / 1024, 1)
        figures[f"{path} html+css_kb"] = round(weight / 1024, 1)
        figures[f"{path} median_ms"] = round(statistics.median(timings) * 1000, 2)
        figures[f"{path} p95_ms"] = round(timings[int(len(timings) * 0.95) - 1] * 1000, 2)
    figures["heaviest_page_html+css_kb"] = round(worst / 1024, 1)
    figures["budget_kb"] = 50
    return figures
