"""The ledger's section of an access package: what this app sent to Microsoft, in plain words.

``RequestsAppConfig.ready()`` registers ``sent_to_microsoft`` with the engine's
package (``engine.package.register_section``); the ledger never imports the engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.ledger.erasure import subject_condition
from requests_app.models import ConsentPurpose, Transmission
from requests_app.stores.base import ExportSink

FOLDER = "microsoft"

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
    service = Transmission.Service(row.service).label if row.service in Transmission.Service.values else row.service
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
    condition = subject_condition(identities)
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
        identities.setdefault(kind, set()).update(str(v) for v in (value if isinstance(value, list) else [value]))
    for kind, value in request.identities.values_list("kind", "value"):
        identities.setdefault(kind, set()).add(value)
    return identities


def sent_to_microsoft(request: Any, sink: ExportSink) -> dict[str, Any] | None:
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
