"""Helpers for the Azure store, ledger and consent tests."""

from __future__ import annotations

import io
import itertools
from contextlib import contextmanager
from typing import Any

from django.utils import timezone

from requests_app.models import ConsentNotice, ConsentPurpose, Transmission
from requests_app.stores.base import Discovery, Outcome, Store, Subject, TransientStoreError

_ids = itertools.count(1)


def purpose(slug: str = "face-verification", requires_consent: bool = True, text: str = "") -> ConsentPurpose:
    found, created = ConsentPurpose.objects.get_or_create(
        slug=slug,
        defaults={
            "title": slug.replace("-", " ").title(),
            "services": ["face"],
            "requires_consent": requires_consent,
        },
    )
    if created:
        ConsentNotice.objects.create(
            purpose=found,
            version=1,
            text=text or "Your photo is sent to Microsoft Azure AI Face to check it is you.",
        )
    return found


def row(
    service: str,
    account: str,
    resource_kind: str,
    resource_id: str,
    subject: str = "42",
    *,
    purpose_slug: str = "face-verification",
    parents: dict[str, str] | None = None,
    subject_kind: str = "user_id",
    payload: str = "image",
) -> Transmission:
    """A ledger row written directly (the ledger API itself is tested in test_ledger*.py)."""
    purpose(purpose_slug, requires_consent=False)
    return Transmission.objects.create(
        client_id=f"c-{next(_ids)}-{resource_id}"[:128],
        service=service,
        account=account,
        resource_kind=resource_kind,
        resource_id=resource_id,
        parent_ids=parents or {},
        subject_kind=subject_kind,
        subject_value=subject,
        purpose=purpose_slug,
        payload_kind=payload,
        sent_at=timezone.now(),
    )


class MemorySink:
    """An ExportSink keeping records and files in memory."""

    def __init__(self) -> None:
        self.records_by_name: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}

    @contextmanager
    def records(self, name: str):
        out = self.records_by_name.setdefault(name, [])

        class Writer:
            def write(self, record: dict[str, Any]) -> None:
                out.append(record)

        yield Writer()

    def add_file(self, arcname: str, fileobj) -> None:
        buffer = io.BytesIO()
        while True:
            chunk = fileobj.read(65536)
            if not chunk:
                break
            buffer.write(chunk)
        self.files[arcname] = buffer.getvalue()


def subject(user_id: str = "42", purpose_slug: str | None = None, **more: set[str]) -> Subject:
    return Subject(identities={"user_id": {user_id}, **more}, purpose=purpose_slug)


def until_done(operation, attempts: int = 50) -> Any:
    """Call a store operation again after transient errors, like the engine's retries (minus the backoff)."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return operation()
        except TransientStoreError as exc:
            last = exc
    raise AssertionError(f"still failing after {attempts} attempts: {last}")


def handed(store: Store, subj: Subject) -> Subject:
    """The subject as the engine hands it to ``store``: with the ledger rows it must delete."""
    from requests_app.engine import execute

    return execute.with_ledger(store, subj, [store])


def erase_and_verify(store: Store, subj: Subject) -> tuple[Outcome, Discovery]:
    """Erase and verify like the engine: ledger rows handed in, tombstones written from the outcome."""
    from requests_app import ledger

    outcome = until_done(lambda: store.erase(handed(store, subj)))
    ledger.record_result(outcome.ledger, None)
    handed(store, subj)
    settled = [*outcome.ledger.erased, *outcome.ledger.gone]
    subj.erased_ledger = [ledger.as_row(row) for row in Transmission.objects.filter(pk__in=settled)]
    gone = until_done(lambda: store.verify_gone(subj))
    return outcome, gone


def video_indexer_config(fake: Any, **config: Any) -> dict[str, Any]:
    """A Video Indexer store table for the fake (ARM token generated against the fake too)."""
    return {
        "endpoint": fake.url,
        "arm_endpoint": fake.url,
        "location": fake.location,
        "account_id": fake.account_id,
        "subscription_id": "sub",
        "resource_group": "rg",
        "account_name": "vi",
        "bearer_token": fake.arm_token,
        "max_tps": 1000,
        **config,
    }


def face_store_toml(fake: Any, *, person_groups: str = '["app-users"]') -> str:
    """A stores-file table of an ``azure_face`` store on the Face fake, fast retries, matched by e-mail."""
    return f"""
[[store]]
name = "face"
kind = "azure_face"
endpoint = "{fake.url}"
key = "{fake.key}"
person_groups = {person_groups}
match = "email"  # the registry requires needed kinds to be provided; e-mail always is
max_tps = 1000
retry_backoff = 0.01
"""
