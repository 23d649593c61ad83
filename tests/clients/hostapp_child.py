"""A host-app process for the SIGKILL test: one upload through the package, then it waits to be killed.

    python hostapp_child.py <outbox> <portal_url> <api_key> <azurite_connection_string> <container>

No Django here: the package must work in a host app that does not use it.
"""

from __future__ import annotations

import sys
import threading

from azure.storage.blob import BlobServiceClient
from privacy_portal_client import PortalClient

outbox, portal_url, api_key, connection_string, container = sys.argv[1:6]
assert "django" not in sys.modules
client = PortalClient(portal_url, api_key, outbox, autoflush=False)
blobs = BlobServiceClient.from_connection_string(
    connection_string, _additional_pipeline_policies=[client.azure_policy()]
)
with client.subject(user_id="42", purpose="profile-photos"):
    blobs.get_blob_client(container, "users/42/killed.jpg").upload_blob(b"photo")
print("uploaded", flush=True)  # the Azure call has returned; nothing was flushed
threading.Event().wait()  # until SIGKILL
