"""The Azure transmission ledger (what the host app sent to Microsoft) and the orphan scans of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from requests_app.models.consent import Consent
from requests_app.models.execution import StoreTask


class Transmission(models.Model):
    """One thing the host app sent to Azure (the ledger). Erasure deletes exactly these.

    After erasure the row stays as a tombstone: ``subject_value`` is replaced by
    a keyed hash, ``deleted_at`` and ``deleted_by_task`` say when and how.
    """

    class Service(models.TextChoices):
        FACE = "face", "Azure AI Face"
        BLOB = "blob", "Azure Blob Storage"
        VIDEO_INDEXER = "video_indexer", "Azure AI Video Indexer"
        SPEECH = "speech", "Azure AI Speech"
        SPEAKER_RECOGNITION = "speaker_recognition", "Speaker Recognition (retired)"
        MEDIA_SERVICES = "media_services", "Azure Media Services (retired; storage containers)"
        OTHER = "other", "Other Azure AI service"

    class PayloadKind(models.TextChoices):
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        VIDEO = "video", "Video"
        TEXT = "text", "Text"
        OTHER = "other", "Other"

    client_id = models.CharField(
        max_length=128, unique=True, help_text="The host app's id for this record (idempotency)."
    )
    service = models.CharField(max_length=24, choices=Service.choices)
    account = models.CharField(max_length=300, help_text="Endpoint, storage account or Video Indexer account.")
    resource_kind = models.CharField(
        max_length=40, help_text="e.g. person, persisted_face, blob, video, transcription."
    )
    resource_id = models.CharField(max_length=512)
    parent_ids = models.JSONField(default=dict, blank=True, help_text="e.g. {'person_group': 'app-users'}.")
    subject_kind = models.CharField(max_length=64, default="user_id")
    subject_value = models.CharField(max_length=512, db_index=True)
    purpose = models.CharField(max_length=64, db_index=True)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="transmissions")
    payload_kind = models.CharField(max_length=8, choices=PayloadKind.choices)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by_task = models.ForeignKey(StoreTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deletion_note = models.CharField(
        max_length=300, blank=True, help_text="e.g. 'no deletion API: request through Microsoft support'."
    )

    class Meta:
        indexes = [models.Index(fields=["subject_kind", "subject_value", "deleted_at"])]

    def __str__(self) -> str:
        return f"{self.service}:{self.resource_kind}:{self.resource_id}"


class AzureScan(models.Model):
    """One orphan scan of the Azure stores (``manage.py azure_scan``, weekly beat).

    Lists Azure resources that a configured subject pattern points at (userData,
    externalId, customProperties, blob names) whose subject has no live ledger row
    or was already erased. The scan only reads; staff decide what to do.
    """

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    scanned = models.PositiveIntegerField(default=0, help_text="Resources matching a subject pattern.")
    orphans = models.JSONField(
        default=list, blank=True, help_text="[{store, what, where, identity_kind, identity_value, why}]"
    )
    errors = models.JSONField(default=list, blank=True, help_text="[{store, error}] for stores that failed.")

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "Azure orphan scan"

    def __str__(self) -> str:
        return f"Azure scan {self.started_at:%Y-%m-%d %H:%M}: {len(self.orphans)} orphan(s)"
