"""Fixtures for the client package's tests: the creating fakes, and a client whose consent gate is open."""

from __future__ import annotations

import uuid

import pytest

from tests.clients.creating_fakes import CreatingFace, CreatingSpeech, CreatingVideoIndexer


@pytest.fixture
def creating_face():
    with CreatingFace() as fake:
        fake.add_group("app-users")
        fake.add_group("big-users", large=True)
        fake.lists["facelists"]["album"] = {}
        fake.lists["largefacelists"]["big-album"] = {}
        yield fake


@pytest.fixture
def creating_speech():
    with CreatingSpeech() as fake:
        yield fake


@pytest.fixture
def creating_vi():
    # A real Video Indexer account id is a GUID.
    with CreatingVideoIndexer(account_id=str(uuid.uuid4())) as fake:
        yield fake


@pytest.fixture
def open_client(tmp_path, monkeypatch):
    """A PortalClient that records into a fresh outbox, with consent granted for everything (no portal)."""
    from privacy_portal_client import PortalClient

    client = PortalClient("http://127.0.0.1:9", "pk_unused", tmp_path / "outbox.sqlite3", autoflush=False)
    monkeypatch.setattr(client, "may_send", lambda subject: True)
    yield client
    client.outbox.close()


def outbox_records(client) -> list[dict]:
    return [record for _, record in client.outbox.due(10_000)]
