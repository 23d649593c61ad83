"""Moderators protected from needless exposure: blurred previews, audited reveals, daily counts.

An image of evidence is shown, by default, as a small greyscale and heavily blurred
rendering made on the server: the clear picture never reaches the browser until the
moderator clicks *Reveal* for that one item. A reveal is audited on the case
(``services.evidence_reveal``: ``abuse.evidence_revealed``) and lasts for the moderator's session; the dashboard counts
reveals and downloads per moderator and day, so leads can spread the load.
"""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from abuse_app.models import Evidence
from portal.models import AuditEvent

PREVIEW_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
PREVIEW_SIZE = 480
BLUR_RADIUS = 24
SESSION_KEY = "abuse_revealed_evidence"  # set by the case admin's reveal view
EXPOSURE_ACTIONS = ("abuse.evidence_revealed", "abuse.evidence_viewed")


def previewable(evidence: Evidence) -> bool:
    return evidence.content_type in PREVIEW_TYPES and bool(evidence.file) and not evidence.purged_at


def render_preview(evidence: Evidence, *, revealed: bool) -> bytes:
    """A PNG no larger than ``PREVIEW_SIZE``: always greyscale, blurred unless revealed."""
    from PIL import Image, ImageFilter

    with evidence.file.open("rb") as handle, Image.open(handle) as image:
        image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
        picture = image.convert("L")
        if not revealed:
            picture = picture.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
        out = io.BytesIO()
        picture.save(out, format="PNG")
    return out.getvalue()


def revealed_ids(session: Any) -> set[int]:
    return set(session.get(SESSION_KEY, []))


def exposure_by_moderator(day: datetime | None = None) -> list[dict[str, Any]]:
    """Reveals and downloads of evidence per staff member on one (local) day, most first."""
    local = timezone.localtime(day or timezone.now())
    start = timezone.make_aware(datetime.combine(local.date(), time.min))
    rows = (
        AuditEvent.objects.filter(action__in=EXPOSURE_ACTIONS, at__gte=start, at__lt=start + timedelta(days=1))
        .values("actor_label", "action")
        .annotate(n=Count("id"))
    )
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = people.setdefault(row["actor_label"], {"who": row["actor_label"], "revealed": 0, "downloaded": 0})
        entry["revealed" if row["action"] == "abuse.evidence_revealed" else "downloaded"] += row["n"]
    return sorted(people.values(), key=lambda e: (-(e["revealed"] + e["downloaded"]), e["who"]))
