"""The store contract stands alone: a new kind is a module and a registry line, nothing else."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from requests_app import ledger
from requests_app.engine import dispatch, execute
from requests_app.stores import registry
from requests_app.stores.base import Discovery, ExportSink, Outcome, Store, Subject
from tests.requests_app.azure_helpers import purpose

pytestmark = pytest.mark.django_db


class TranslatorStore(Store):
    """A made-up Azure kind: it declares its ledger service and queue, and nothing else is touched."""

    kind = "azure_translator"
    queue: ClassVar[str] = "azure"
    services: ClassVar[frozenset[str]] = frozenset({"translator"})

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return []

    def discover(self, subject: Subject) -> Discovery:
        return Discovery(found=len(subject.ledger))

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        return Outcome()

    def erase(self, subject: Subject) -> Outcome:
        outcome = Outcome(erased=len(subject.ledger))
        outcome.ledger.erased = [row.id for row in subject.ledger]
        return outcome


@pytest.fixture
def translator_kind(monkeypatch):
    monkeypatch.setitem(registry.KINDS, "azure_translator", f"{__name__}.TranslatorStore")
    return TranslatorStore("translator", {})


def test_a_new_kind_gets_its_ledger_rows_queue_and_tombstones_without_other_changes(translator_kind):
    purpose("texts", requires_consent=False)
    [recorded] = ledger.record_many(
        [
            {
                "client_id": "t-1",
                "service": "translator",
                "account": "westeurope",
                "resource_kind": "document",
                "resource_id": "doc-1",
                "subject_value": "42",
                "purpose": "texts",
                "payload_kind": "text",
            }
        ]
    )
    store = translator_kind
    catch_all = registry.store_class("azure_ledger")("azure-ledger", {})
    subject = execute.with_ledger(store, Subject(identities={"user_id": {"42"}}), [store, catch_all])
    assert [row.resource_id for row in subject.ledger] == ["doc-1"]
    assert execute.with_ledger(catch_all, Subject(identities={"user_id": {"42"}}), [store, catch_all]).ledger == []
    assert dispatch.queue_for("azure_translator") == "azure"
    ledger.record_result(store.erase(subject).ledger, None)
    recorded.transmission.refresh_from_db()
    assert recorded.transmission.deleted_at is not None


def test_an_unknown_service_is_refused_naming_the_known_ones():
    with pytest.raises(ledger.LedgerError) as caught:
        ledger.record_many(
            [
                {
                    "client_id": "t-2",
                    "service": "translator",
                    "account": "x",
                    "resource_kind": "document",
                    "resource_id": "d",
                    "subject_value": "42",
                    "purpose": "texts",
                    "payload_kind": "text",
                }
            ]
        )
    assert "face" in caught.value.fields["items[0].service"][0]
