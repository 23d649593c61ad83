"""Recording transmissions: what the host app sent to Azure, checked and consent-bound.

Host apps that install our Django apps call ``record_transmission(...)``;
others call ``POST /api/v1/transmissions/`` (``record_many``). Both check
consent: a purpose that ``requires_consent`` needs an active consent of the
subject, otherwise the record is refused (``ConsentRequired``), audited and
logged — without the subject's identity. Which services and resource kinds
exist, and what their ids look like, the store kinds say (``stores.registry``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from portal import audit
from requests_app.models import Consent, ConsentPurpose, Transmission
from requests_app.stores.registry import kind_for_service, resource_kinds, store_class

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SUBJECT_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
Errors = dict[str, list[str]]


class LedgerError(Exception):
    """A record the ledger refuses; ``fields`` says which field and why (for the API's error shape)."""

    code = "invalid"

    def __init__(self, message: str, fields: Errors | None = None):
        super().__init__(message)
        self.fields = fields or {}


class ConsentRequired(LedgerError):
    code = "consent_required"


class ClientIdConflict(LedgerError):
    code = "client_id_conflict"


def known_services() -> set[str]:
    """Ledger services: the model's, plus any a store kind declares (a new Azure kind needs no model change)."""
    return set(Transmission.Service.values) | set(kind_for_service())


@dataclass
class Recorded:
    transmission: Transmission
    created: bool


# --- checking one item ------------------------------------------------------------
def _clean(item: dict[str, Any]) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}

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
    _clean_service(item, data, errors)
    _clean_subject_and_parents(item, data, errors)
    _clean_file_facts(item, data, errors)
    data["sent_at"] = _clean_sent_at(item.get("sent_at"), errors)
    return data, errors


def _clean_service(item: dict[str, Any], data: dict[str, Any], errors: Errors) -> None:
    """The service, the payload kind, and the resource kind and id the service's store kind accepts."""
    services = known_services()
    service = item.get("service")
    if service not in services:
        errors["service"] = [_("Use one of: %(choices)s.") % {"choices": ", ".join(sorted(services))}]
    data["service"] = service
    payload = item.get("payload_kind")
    if payload not in Transmission.PayloadKind.values:
        errors["payload_kind"] = [
            _("Use one of: %(choices)s.") % {"choices": ", ".join(Transmission.PayloadKind.values)}
        ]
    data["payload_kind"] = payload
    kinds = resource_kinds().get(service or "")
    if kinds and data["resource_kind"] and data["resource_kind"] not in kinds:
        errors["resource_kind"] = [
            _("For %(service)s use one of: %(choices)s.") % {"service": service, "choices": ", ".join(sorted(kinds))}
        ]
    if service in services and data["resource_id"] and "resource_kind" not in errors:
        for name, messages in _id_errors(service, data["resource_kind"], data["resource_id"], item).items():
            errors.setdefault(name, []).extend(messages)


def _clean_subject_and_parents(item: dict[str, Any], data: dict[str, Any], errors: Errors) -> None:
    subject_kind = item.get("subject_kind", "user_id")
    if not isinstance(subject_kind, str) or not SUBJECT_KIND_RE.match(subject_kind):
        errors["subject_kind"] = [_("A short identity kind such as user_id or email.")]
    data["subject_kind"] = subject_kind
    parent_ids = item.get("parent_ids") or {}
    if not isinstance(parent_ids, dict) or not all(isinstance(v, str) for v in parent_ids.values()):
        errors["parent_ids"] = [_('An object of strings, e.g. {"person_group": "app-users"}.')]
    data["parent_ids"] = parent_ids if isinstance(parent_ids, dict) else {}


def _clean_file_facts(item: dict[str, Any], data: dict[str, Any], errors: Errors) -> None:
    size = item.get("size_bytes")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        errors["size_bytes"] = [_("A whole number of bytes, 0 or more.")]
    data["size_bytes"] = size
    sha = (item.get("sha256") or "").lower()
    if sha and not SHA256_RE.match(sha):
        errors["sha256"] = [_("64 hexadecimal characters.")]
    data["sha256"] = sha


def _clean_sent_at(sent_at: Any, errors: Errors) -> datetime:
    if isinstance(sent_at, str):
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
    return sent_at or timezone.now()


def _id_errors(service: str, resource_kind: str, resource_id: str, item: dict[str, Any]) -> Errors:
    """The store kind that deletes this service's rows judges its ids (formats Azure documents)."""
    parent_ids = item.get("parent_ids") or {}
    if not isinstance(parent_ids, dict) or not all(isinstance(v, str) for v in parent_ids.values()):
        return {}  # reported as parent_ids below
    kind = kind_for_service().get(service)
    if kind is None:
        return {}  # no deletion API: the id never goes into a URL
    if resource_id != item.get("resource_id"):
        return {"resource_id": [_("Must not start or end with spaces.")]}
    return store_class(kind).ledger_id_errors(resource_kind, resource_id, parent_ids)


# --- recording a batch ------------------------------------------------------------
def record_many(items: object, *, actor: audit.Actor = None) -> list[Recorded]:
    """Record up to 1,000 transmissions at once, all or nothing (``items`` as the API got it: checked here).

    Idempotent on ``client_id``: sending the same record again returns the
    existing row (``created=False``); the same ``client_id`` with different
    content is a conflict. A query for existing ids, one for purposes, one for
    consents, one ``bulk_create`` — whatever the batch size.
    """
    cleaned, seen = _checked_batch(items)
    with transaction.atomic():
        by_client, created_ids, refused = _insert(cleaned, seen)
    if refused:
        _audit_refusal(refused, actor)
        raise ConsentRequired(
            _(
                "The subject has not consented to this purpose (or withdrew consent); nothing was recorded. "
                "Ask for consent first, or mark the purpose as not needing consent if another legal basis "
                "applies."
            ),
            {f"items[{seen[d['client_id']]}].purpose": [_("No active consent of this subject.")] for d in refused},
        )
    return [Recorded(by_client[data["client_id"]], data["client_id"] in created_ids) for data in cleaned]


def _checked_batch(items: Any) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every item cleaned, and client_id → its index; ``LedgerError`` naming each bad field."""
    if not isinstance(items, list) or not items:
        raise LedgerError(_("Send a non-empty list of transmissions."), {"items": [_("Must not be empty.")]})
    if len(items) > MAX_BATCH:
        raise LedgerError(
            _("At most %(n)d transmissions per call; split the batch.") % {"n": MAX_BATCH},
            {"items": [_("Too many items.")]},
        )
    cleaned: list[dict[str, Any]] = []
    errors: Errors = {}
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
    return cleaned, seen


def _same(row: Transmission, data: dict[str, Any]) -> bool:
    return all(
        getattr(row, name) == data[name]
        for name in ("service", "resource_kind", "resource_id", "purpose", "subject_kind")
    ) and (row.subject_value == data["subject_value"] or row.deleted_at is not None)


def _insert(
    cleaned: list[dict[str, Any]], seen: dict[str, int]
) -> tuple[dict[str, Transmission], set[str], list[dict[str, Any]]]:
    """Insert the new rows unless one lacks consent: (rows by client_id, ids created, items refused)."""
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
    by_client = dict(existing)
    if refused:
        return by_client, set(), refused
    rows = [
        Transmission(consent_id=consents.get((d["subject_kind"], d["subject_value"], d["purpose"])), **d) for d in new
    ]
    Transmission.objects.bulk_create(rows)
    created_ids = {d["client_id"] for d in new}
    by_client.update({row.client_id: row for row in Transmission.objects.filter(client_id__in=list(created_ids))})
    return by_client, created_ids, []


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
    actor: audit.Actor = None,
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


def _audit_refusal(refused: list[dict[str, Any]], actor: audit.Actor) -> None:
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
