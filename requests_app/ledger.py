"""The transmission ledger: what the host app sent to Azure, and proof of its deletion.

Host apps that install our Django apps call ``record_transmission(...)``;
others call ``POST /api/v1/transmissions/`` (``record_many``). Both check
consent: a purpose that ``requires_consent`` needs an active consent of the
subject, otherwise the record is refused (``ConsentRequired``), audited and
logged — without the subject's identity.

Erasure (the Azure store kinds) deletes every live row of the subject through
the matching store, confirms each resource is gone, then turns the row into a
tombstone: ``deleted_at``, ``deleted_by_task`` and ``subject_value`` replaced
by a keyed hash (``portal.tokens.pseudonymise``), so the row proves *that*
something was deleted and when, but no longer says whose it was.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit, tokens
from requests_app.models import Consent, ConsentPurpose, Transmission
from requests_app.stores.azure.common import normalise_account
from requests_app.stores.base import LedgerResult, LedgerRow, Store, Subject

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
TOMBSTONE_PREFIX = "pseudonym:"
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

RESOURCE_KINDS: dict[str, set[str]] = {
    Transmission.Service.FACE: {
        "person",
        "persisted_face",
        "large_person",
        "large_persisted_face",
        "face_list_face",
        "large_face_list_face",
        "directory_person",
        "detection",
    },
    Transmission.Service.BLOB: {"blob", "container"},
    Transmission.Service.MEDIA_SERVICES: {"asset", "container"},
    Transmission.Service.VIDEO_INDEXER: {"video"},
    Transmission.Service.SPEECH: {"transcription", "dataset"},
}


class LedgerError(Exception):
    """A record the ledger refuses; ``fields`` says which field and why (for the API's error shape)."""

    code = "invalid"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class ConsentRequired(LedgerError):
    code = "consent_required"


class ClientIdConflict(LedgerError):
    code = "client_id_conflict"


def known_services() -> set[str]:
    """Ledger services: the model's, plus any a store kind declares (a new Azure kind needs no model change)."""
    from requests_app.stores.registry import kind_for_service

    return set(Transmission.Service.values) | set(kind_for_service())


# --- recording ------------------------------------------------------------------
@dataclass
class Recorded:
    transmission: Transmission
    created: bool


def _clean(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}

    def need(name: str, max_len: int) -> str:
        value = item.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.setdefault(name, []).append(_("This field is required."))
            return ""
        if len(value) > max_len:
            errors.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": max_len})
        return value.strip()

    data: dict[str, Any] = {
        "client_id": need("client_id", 128),
        "account": need("account", 300),
        "resource_kind": need("resource_kind", 40),
        "resource_id": need("resource_id", 512),
        "subject_value": need("subject_value", 512),
        "purpose": need("purpose", 64),
    }
    service = item.get("service")
    if service not in known_services():
        errors["service"] = [_("Use one of: %(choices)s.") % {"choices": ", ".join(sorted(known_services()))}]
    data["service"] = service
    payload = item.get("payload_kind")
    if payload not in Transmission.PayloadKind.values:
        errors["payload_kind"] = [
            _("Use one of: %(choices)s.") % {"choices": ", ".join(Transmission.PayloadKind.values)}
        ]
    data["payload_kind"] = payload
    kinds = RESOURCE_KINDS.get(service or "")
    if kinds and data["resource_kind"] and data["resource_kind"] not in kinds:
        errors["resource_kind"] = [
            _("For %(service)s use one of: %(choices)s.")
            % {"service": service, "choices": ", ".join(sorted(kinds))}
        ]
    if service in known_services() and data["resource_id"] and "resource_kind" not in errors:
        for name, messages in _id_errors(service, data["resource_kind"], data["resource_id"], item).items():
            errors.setdefault(name, []).extend(messages)
    subject_kind = item.get("subject_kind", "user_id")
    if not isinstance(subject_kind, str) or not re.match(r"^[a-z][a-z0-9_]{0,63}$", subject_kind):
        errors["subject_kind"] = [_("A short identity kind such as user_id or email.")]
    data["subject_kind"] = subject_kind
    parent_ids = item.get("parent_ids") or {}
    if not isinstance(parent_ids, dict) or not all(isinstance(v, str) for v in parent_ids.values()):
        errors["parent_ids"] = [_('An object of strings, e.g. {"person_group": "app-users"}.')]
    data["parent_ids"] = parent_ids if isinstance(parent_ids, dict) else {}
    size = item.get("size_bytes")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        errors["size_bytes"] = [_("A whole number of bytes, 0 or more.")]
    data["size_bytes"] = size
    sha = (item.get("sha256") or "").lower()
    if sha and not SHA256_RE.match(sha):
        errors["sha256"] = [_("64 hexadecimal characters.")]
    data["sha256"] = sha
    sent_at = item.get("sent_at")
    if isinstance(sent_at, str):
        from django.utils.dateparse import parse_datetime

        try:
            sent_at = parse_datetime(sent_at)
        except ValueError:
            sent_at = None
        if sent_at is None:
            errors["sent_at"] = [_("An ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z.")]
    if isinstance(sent_at, datetime):
        if timezone.is_naive(sent_at):
            sent_at = timezone.make_aware(sent_at, UTC)
        if sent_at > timezone.now() + timedelta(minutes=5):
            errors["sent_at"] = [_("Cannot be in the future.")]
    elif sent_at is not None and "sent_at" not in errors:
        errors["sent_at"] = [_("An ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z.")]
    data["sent_at"] = sent_at or timezone.now()
    return data, errors


def _id_errors(
    service: str, resource_kind: str, resource_id: str, item: dict[str, Any]
) -> dict[str, list[str]]:
    """The store kind that deletes this service's rows judges its ids (formats Azure documents)."""
    from requests_app.stores.registry import kind_for_service, store_class

    parent_ids = item.get("parent_ids") or {}
    if not isinstance(parent_ids, dict) or not all(isinstance(v, str) for v in parent_ids.values()):
        return {}  # reported as parent_ids below
    kind = kind_for_service().get(service)
    if kind is None:
        return {}  # no deletion API: the id never goes into a URL
    if resource_id != item.get("resource_id"):
        return {"resource_id": [_("Must not start or end with spaces.")]}
    return store_class(kind).ledger_id_errors(resource_kind, resource_id, parent_ids)


def _same(row: Transmission, data: dict[str, Any]) -> bool:
    return all(
        getattr(row, name) == data[name]
        for name in ("service", "resource_kind", "resource_id", "purpose", "subject_kind")
    ) and (row.subject_value == data["subject_value"] or row.deleted_at is not None)


def record_many(items: list[dict[str, Any]], *, actor: Any = None) -> list[Recorded]:
    """Record up to 1,000 transmissions at once, all or nothing.

    Idempotent on ``client_id``: sending the same record again returns the
    existing row (``created=False``); the same ``client_id`` with different
    content is a conflict. A query for existing ids, one for purposes, one for
    consents, one ``bulk_create`` — whatever the batch size.
    """
    if not isinstance(items, list) or not items:
        raise LedgerError(_("Send a non-empty list of transmissions."), {"items": [_("Must not be empty.")]})
    if len(items) > MAX_BATCH:
        raise LedgerError(
            _("At most %(n)d transmissions per call; split the batch.") % {"n": MAX_BATCH},
            {"items": [_("Too many items.")]},
        )
    cleaned: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors[f"items[{index}]"] = [_("Each item must be an object.")]
            continue
        data, item_errors = _clean(raw)
        for name, messages in item_errors.items():
            errors[f"items[{index}].{name}"] = messages
        if data["client_id"] in seen:
            errors[f"items[{index}].client_id"] = [
                _("Repeats item %(i)d in this batch.") % {"i": seen[data["client_id"]]}
            ]
        seen[data["client_id"]] = index
        cleaned.append(data)
    if errors:
        raise LedgerError(_("Some transmissions are not valid; nothing was recorded."), errors)

    with transaction.atomic():
        existing = {row.client_id: row for row in Transmission.objects.filter(client_id__in=list(seen))}
        conflicts = {
            f"items[{seen[cid]}].client_id": [_("Already recorded with different content.")]
            for cid, row in existing.items()
            if not _same(row, cleaned[seen[cid]])
        }
        if conflicts:
            raise ClientIdConflict(_("A client_id was already used for a different transmission."), conflicts)
        new = [data for data in cleaned if data["client_id"] not in existing]
        purposes = {p.slug: p for p in ConsentPurpose.objects.filter(slug__in={d["purpose"] for d in new})}
        unknown = {
            f"items[{seen[d['client_id']]}].purpose": [_("No such purpose; create it in the admin first.")]
            for d in new
            if d["purpose"] not in purposes
        }
        if unknown:
            raise LedgerError(_("Some purposes are not configured; nothing was recorded."), unknown)
        consents = _active_consents(new, purposes)
        refused = [
            d
            for d in new
            if purposes[d["purpose"]].requires_consent
            and (d["subject_kind"], d["subject_value"], d["purpose"]) not in consents
        ]
        created_ids: set[str] = set()
        by_client = dict(existing)
        if not refused:
            rows = [
                Transmission(
                    consent_id=consents.get((d["subject_kind"], d["subject_value"], d["purpose"])), **d
                )
                for d in new
            ]
            Transmission.objects.bulk_create(rows)
            created_ids = {d["client_id"] for d in new}
            by_client.update(
                {row.client_id: row for row in Transmission.objects.filter(client_id__in=list(created_ids))}
            )
    if refused:
        _audit_refusal(refused, actor)
        raise ConsentRequired(
            _(
                "The subject has not consented to this purpose (or withdrew consent); nothing was recorded. "
                "Ask for consent first, or mark the purpose as not needing consent if another legal basis "
                "applies."
            ),
            {
                f"items[{seen[d['client_id']]}].purpose": [_("No active consent of this subject.")]
                for d in refused
            },
        )
    return [Recorded(by_client[data["client_id"]], data["client_id"] in created_ids) for data in cleaned]


def record_transmission(
    *,
    client_id: str,
    service: str,
    account: str,
    resource_kind: str,
    resource_id: str,
    subject_value: str,
    purpose: str,
    payload_kind: str,
    subject_kind: str = "user_id",
    parent_ids: dict[str, str] | None = None,
    size_bytes: int | None = None,
    sha256: str = "",
    sent_at: datetime | None = None,
    actor: Any = None,
) -> Transmission:
    """Record one transmission (for host apps that install our Django apps). See ``record_many``."""
    item = {
        "client_id": client_id,
        "service": service,
        "account": account,
        "resource_kind": resource_kind,
        "resource_id": resource_id,
        "subject_kind": subject_kind,
        "subject_value": subject_value,
        "purpose": purpose,
        "payload_kind": payload_kind,
        "parent_ids": parent_ids or {},
        "size_bytes": size_bytes,
        "sha256": sha256,
        "sent_at": sent_at,
    }
    return record_many([item], actor=actor)[0].transmission


def _active_consents(
    items: list[dict[str, Any]], purposes: dict[str, ConsentPurpose]
) -> dict[tuple[str, str, str], int]:
    """(subject_kind, subject_value, purpose slug) → active consent id, in one query."""
    if not items:
        return {}
    wanted = {(d["subject_kind"], d["subject_value"], d["purpose"]) for d in items}
    slugs = {p.pk: slug for slug, p in purposes.items()}
    found: dict[tuple[str, str, str], int] = {}
    rows = (
        Consent.objects.filter(
            purpose_id__in=[purposes[d["purpose"]].pk for d in items],
            subject_kind__in={d["subject_kind"] for d in items},
            subject_value__in={d["subject_value"] for d in items},
            withdrawn_at__isnull=True,
        )
        .order_by("granted_at")
        .values_list("pk", "subject_kind", "subject_value", "purpose_id")
    )
    for pk, kind, value, purpose_id in rows:
        key = (kind, value, slugs[purpose_id])
        if key in wanted:
            found[key] = pk
    return found


def _audit_refusal(refused: list[dict[str, Any]], actor: Any) -> None:
    """Audit and log a refusal with purposes and counts only — never who the subject is."""
    by_purpose: dict[str, int] = {}
    for d in refused:
        by_purpose[d["purpose"]] = by_purpose.get(d["purpose"], 0) + 1
    logger.warning(
        "ledger: refused %d transmission(s) without consent (purposes: %s)",
        len(refused),
        ", ".join(f"{slug} x{n}" for slug, n in sorted(by_purpose.items())),
    )
    audit.record(
        subject_type="transmission",
        subject_id="-",
        action="transmission_refused",
        actor=actor,
        reason="no active consent for the purpose",
        data={"count": len(refused), "purposes": by_purpose},
    )


# --- erasure helpers for the Azure stores ----------------------------------------------------
def live_rows(
    identities: dict[str, set[str]], services: Iterable[str], purpose: str | None = None
) -> QuerySet:
    """Live (not yet deleted) ledger rows of the subject for these services."""
    condition = Q()
    for kind, values in identities.items():
        if values:
            condition |= Q(subject_kind=kind, subject_value__in=list(values))
    if not condition:
        return Transmission.objects.none()
    rows = Transmission.objects.filter(condition, service__in=list(services), deleted_at__isnull=True)
    if purpose:
        rows = rows.filter(purpose=purpose)
    return rows.order_by("id")


def subject_kinds() -> set[str]:
    """The identity kinds ledger rows name their subject by (user_id, email...): the engine keeps those."""
    return set(
        Transmission.objects.filter(deleted_at__isnull=True).values_list("subject_kind", flat=True).distinct()
    )


def as_row(row: Transmission, store_kind: str = "") -> LedgerRow:
    return LedgerRow(
        id=row.pk,
        service=row.service,
        account=row.account,
        resource_kind=row.resource_kind,
        resource_id=row.resource_id,
        parent_ids=dict(row.parent_ids or {}),
        purpose=row.purpose,
        sent_at=row.sent_at,
        store_kind=store_kind,
    )


def _covers(store: Store, row: Transmission) -> bool:
    if row.service not in store.services:
        return False
    accounts = store.accounts()
    return not accounts or normalise_account(row.account) in accounts


def rows_for(store: Store, subject: Subject, stores: list[Store]) -> list[LedgerRow]:
    """The live ledger rows of the subject that ``store`` must delete (the engine hands them in).

    A store gets the rows of its ``services`` and accounts. The catch-all
    (``ledger_catch_all``) gets the rows of its own services (no deletion API)
    and every row no other configured store covers.
    """
    if not store.services and not store.ledger_catch_all:
        return []
    if store.ledger_catch_all:
        from requests_app.stores.registry import kind_for_service

        kinds = kind_for_service()
        others = [s for s in stores if not s.ledger_catch_all]
        return [
            as_row(row, kinds.get(row.service, ""))
            for row in live_rows(subject.identities, known_services(), subject.purpose)
            if row.service in store.services or not any(_covers(other, row) for other in others)
        ]
    return [
        as_row(row, store.kind)
        for row in live_rows(subject.identities, store.services, subject.purpose)
        if _covers(store, row)
    ]


def erased_rows_for(store: Store, subject: Subject) -> list[LedgerRow]:
    """Rows this request already deleted through ``store``: ``verify_gone`` checks they are gone."""
    if not subject.request_id or not store.services or store.ledger_catch_all:
        return []
    rows = Transmission.objects.filter(
        deleted_by_task__request_id=subject.request_id,
        deleted_by_task__store=store.name,
        service__in=list(store.services),
        deleted_at__isnull=False,
    )
    if subject.purpose:
        rows = rows.filter(purpose=subject.purpose)
    return [as_row(row, store.kind) for row in rows.order_by("id") if _covers(store, row)]


def record_result(result: LedgerResult, task_id: int | None) -> dict[str, int]:
    """Write what a store did with its ledger rows: tombstones for erased/gone rows, notes for manual ones."""
    by_note: dict[str, list[int]] = {}
    for row_id in [*result.erased, *result.gone]:
        by_note.setdefault(result.notes.get(row_id, ""), []).append(row_id)
    tombstoned = sum(tombstone(ids, task_id, note) for note, ids in by_note.items())
    by_manual: dict[str, list[int]] = {}
    for row_id, note in result.manual.items():
        by_manual.setdefault(note, []).append(row_id)
    for note, ids in by_manual.items():
        note_manual(ids, note)
    return {
        "ledger_erased": len(result.erased),
        "ledger_already_gone": len(result.gone),
        "ledger_not_erased": len(result.failed),
        "ledger_manual": len(result.manual),
        "ledger_tombstoned": tombstoned,
    }


def tombstone(row_ids: Iterable[int], task_id: int | None, note: str = "") -> int:
    """Mark rows deleted; replace the subject's identity by its keyed hash. Idempotent."""
    ids = list(row_ids)
    if not ids:
        return 0
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for row in Transmission.objects.select_for_update().filter(pk__in=ids, deleted_at__isnull=True):
            row.subject_value = TOMBSTONE_PREFIX + tokens.pseudonymise(row.subject_value)
            row.deleted_at = now
            row.deleted_by_task_id = task_id
            if note:
                row.deletion_note = note[:300]
            row.save(update_fields=["subject_value", "deleted_at", "deleted_by_task", "deletion_note"])
            count += 1
    return count


def note_manual(row_ids: Iterable[int], note: str) -> None:
    Transmission.objects.filter(pk__in=list(row_ids), deleted_at__isnull=True).update(
        deletion_note=note[:300]
    )


# --- plain words for access packages ------------------------------------------------------------
RESOURCE_WORDS = {
    "person": _("a person entry (with face templates) in a Face person group"),
    "large_person": _("a person entry (with face templates) in a Face large person group"),
    "persisted_face": _("a face template stored with a person in Azure AI Face"),
    "large_persisted_face": _("a face template stored with a person in Azure AI Face"),
    "face_list_face": _("a face template in a Face list"),
    "large_face_list_face": _("a face template in a Face large list"),
    "directory_person": _("a person entry in the Face person directory"),
    "detection": _("a photo checked once by Azure AI Face (not stored by Microsoft beyond 24 hours)"),
    "blob": _("a file stored in Azure Blob Storage"),
    "container": _("a folder of files stored in Azure Blob Storage"),
    "asset": _("a media asset in the storage account of Azure Media Services (retired)"),
    "video": _("a video analysed and stored by Azure AI Video Indexer"),
    "transcription": _("a recording transcribed by Azure AI Speech (batch transcription)"),
    "dataset": _("a recording used to train a custom Azure AI Speech model"),
}
PAYLOAD_WORDS = {
    "image": _("an image"),
    "audio": _("an audio recording"),
    "video": _("a video"),
    "text": _("text"),
    "other": _("data"),
}


def describe(row: Transmission) -> str:
    what = RESOURCE_WORDS.get(row.resource_kind, row.resource_kind.replace("_", " "))
    service = (
        Transmission.Service(row.service).label if row.service in Transmission.Service.values else row.service
    )
    sent = timezone.localtime(row.sent_at).strftime("%Y-%m-%d %H:%M")
    text = _(
        "On %(date)s this app sent %(payload)s to Microsoft (%(service)s) for the purpose “%(purpose)s”; "
        "Microsoft keeps it as %(what)s."
    ) % {
        "date": sent,
        "payload": PAYLOAD_WORDS.get(row.payload_kind, "data"),
        "service": service,
        "purpose": row.purpose,
        "what": what,
    }
    if row.deleted_at:
        text += " " + _("It was deleted on %(date)s.") % {
            "date": timezone.localtime(row.deleted_at).strftime("%Y-%m-%d")
        }
    return text


def ledger_records(identities: dict[str, set[str]]) -> Iterable[dict[str, Any]]:
    """What this app sent to Microsoft about the subject, one plain record per item (for access packages)."""
    condition = Q()
    for kind, values in identities.items():
        if values:
            condition |= Q(subject_kind=kind, subject_value__in=list(values))
    if not condition:
        return
    purposes = dict(ConsentPurpose.objects.values_list("slug", "title"))
    for row in Transmission.objects.filter(condition).order_by("sent_at").iterator(chunk_size=500):
        yield {
            "what_happened": describe(row),
            "service": row.get_service_display(),
            "purpose": purposes.get(row.purpose, row.purpose),
            "payload": row.get_payload_kind_display(),
            "size_bytes": row.size_bytes,
            "sha256": row.sha256,
            "sent_at": row.sent_at.isoformat(),
            "resource": {"kind": row.resource_kind, "id": row.resource_id, "parents": row.parent_ids},
            "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
        }


def _request_identities(request: Any) -> dict[str, set[str]]:
    identities: dict[str, set[str]] = {}
    if getattr(request, "email", ""):
        identities.setdefault("email", set()).add(request.email)
    for kind, value in (getattr(request, "identifiers", None) or {}).items():
        identities.setdefault(kind, set()).update(
            str(v) for v in (value if isinstance(value, list) else [value])
        )
    for kind, value in request.identities.values_list("kind", "value"):
        identities.setdefault(kind, set()).add(value)
    return identities


def sent_to_microsoft(request: Any, sink: Any) -> dict[str, Any] | None:
    """Access-package section: what this app sent to Microsoft about the requester, plain words per item."""
    count = 0
    with sink.records("what-this-app-sent-to-microsoft") as writer:
        for record in ledger_records(_request_identities(request)):
            writer.write(record)
            count += 1
    if not count:
        text = _("Our records show nothing this app sent about you to Microsoft's AI services.")
    else:
        text = _(
            "This app sent %(n)d item(s) about you to Microsoft's AI services. The file lists each one: "
            "what was sent, when, why, and whether it has been deleted."
        ) % {"n": count}
    return {"title": _("What this app sent to Microsoft"), "text": text, "count": count}


sent_to_microsoft.folder = "microsoft"  # type: ignore[attr-defined]


def register_package_section() -> None:
    """Add the ledger to every access package (called once from the app config)."""
    from requests_app.engine.package import PACKAGE_SECTIONS

    if sent_to_microsoft not in PACKAGE_SECTIONS:
        PACKAGE_SECTIONS.append(sent_to_microsoft)
