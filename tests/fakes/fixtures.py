"""Pytest fixtures for the Azure fakes and Azurite: ``fake_face``, ``fake_vi``, ``fake_speech``, ``azurite``.

Registered for every test by ``pytest_plugins`` in tests/conftest.py: ask for them by name.
Every test starts with a fresh in-process Azure rate limiter (``_fresh_rate_limiter``).
"""

from __future__ import annotations

import pytest

from requests_app.stores.azure import ratelimit
from requests_app.stores.azure.fakes.face import FakeFace
from requests_app.stores.azure.fakes.speech import FakeSpeech
from requests_app.stores.azure.fakes.video_indexer import FakeVideoIndexer
from tests.conftest import service_unavailable
from tests.fakes import azurite as azurite_module


@pytest.fixture(autouse=True)
def _fresh_rate_limiter():
    """Each test gets its own in-process limiter unless it asks for Redis."""
    ratelimit.reset_for_tests(local=True)
    yield
    ratelimit.reset_for_tests()


@pytest.fixture
def fake_face():
    with FakeFace() as fake:
        yield fake


@pytest.fixture
def fake_vi():
    with FakeVideoIndexer() as fake:
        yield fake


@pytest.fixture
def fake_speech():
    with FakeSpeech() as fake:
        yield fake


@pytest.fixture(scope="session")
def azurite():
    try:
        server = azurite_module.start()
    except azurite_module.AzuriteUnavailable as exc:
        service_unavailable(f"Azurite ({exc})")
        return
    yield server
    server.stop()
