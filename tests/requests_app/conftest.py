"""Fixtures of the privacy-request tests.

The demo host app (``sqlite_host``, ``pg_host``, ``host_db``, ``media_root``,
``stores_file``, ``approved_request``) and the Azure fakes (``fake_face``,
``fake_vi``, ``fake_speech``, ``azurite``) are shared with other packages and
registered in tests/conftest.py; helpers to call are in ``intake_helpers``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live in the shared cache; start each test from zero."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_hostapp(tmp_path, monkeypatch, settings) -> Iterator[None]:
    """The demo host app of `make run` (manage.py demo_hostapp) behind docs/examples/stores.toml."""
    from pathlib import Path

    from django.core.management import call_command

    from requests_app.stores import registry

    monkeypatch.setenv("PORTAL_DEMO_DIR", str(tmp_path / "demo"))
    call_command("demo_hostapp")
    registry._cache.clear()
    settings.PORTAL_STORES_FILE = str(Path(settings.BASE_DIR) / "docs" / "examples" / "stores.toml")
    yield
    registry._cache.clear()
