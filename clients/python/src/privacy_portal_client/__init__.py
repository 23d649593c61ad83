"""Privacy & Abuse Portal client: record what the host app sends to Azure, and check consent first.

    from privacy_portal_client import PortalClient

    portal = PortalClient("https://privacy.example.com", api_key, "var/portal-outbox.sqlite3")
    blobs = BlobServiceClient(url, credential, per_call_policies=[portal.azure_policy()])
    with portal.subject(user_id=user.id, purpose="face-verification"):
        blobs.get_blob_client("photos", f"{user.id}/1.jpg").upload_blob(data)

Needs no Django; azure-core, requests and httpx are imported only by their integration.
See docs/host-app.md.
"""

from __future__ import annotations

from privacy_portal_client.client import ConsentRefused, NoSubject, PortalClient, Refused
from privacy_portal_client.context import Subject, bind, current, subject
from privacy_portal_client.outbox import FlushResult, backoff_delay
from privacy_portal_client.portal_api import PortalError, PortalUnavailable
from privacy_portal_client.routes import ROUTES, Match, Route, match

__all__ = [
    "ROUTES",
    "ConsentRefused",
    "FlushResult",
    "Match",
    "NoSubject",
    "PortalClient",
    "PortalError",
    "PortalUnavailable",
    "Refused",
    "Route",
    "Subject",
    "backoff_delay",
    "bind",
    "current",
    "match",
    "subject",
]
