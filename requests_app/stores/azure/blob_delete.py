"""Azure Blob Storage deletion calls: one batch of up to 256 blobs, and what soft delete keeps.

Moved out of ``blob.py`` as they were (the store class stays there); the store's name
is handed in for the error messages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient
from django.utils import timezone

from requests_app.stores.base import PermanentStoreError, Retention, TransientStoreError


def soft_delete_retention(service_client: BlobServiceClient, count: int) -> Retention:
    """What the account's blob soft delete keeps of ``count`` deleted blobs, and until when.

    Read from the blob service properties (``DeleteRetentionPolicy``): a
    soft-deleted blob is purged when its retention days have passed, so
    the last day Microsoft holds it is today + days. An identity that may
    not read the properties (a data-only role) gets the honest "up to 365
    days if soft delete is on".
    """
    try:
        policy = service_client.get_service_properties().get("delete_retention_policy")
    except (HttpResponseError, ServiceRequestError, ServiceResponseError):
        return Retention("soft_delete_unknown", count=count)
    if policy is None or not policy.enabled or not policy.days:
        return Retention("deleted_no_soft_delete", count=count)
    days = int(policy.days)
    return Retention("soft_deleted", count=count, until=timezone.now().date() + timedelta(days=days), days=days)


def delete_batch(
    store_name: str, container: ContainerClient, container_name: str, chunk: list[tuple[str, str | None]]
) -> list[tuple[tuple[str, str | None], int]]:
    """Delete up to 256 blobs in one call: [(item, 1 if deleted now / 0 if already gone)]."""
    requests = [{"name": name, "version_id": version} if version else name for name, version in chunk]
    responses = list(container.delete_blobs(*requests, delete_snapshots="include", raise_on_any_failure=False))
    results: list[tuple[tuple[str, str | None], int]] = []
    for item, response in zip(chunk, responses, strict=False):  # sub-responses come in request order
        status = response.status_code
        if status == 202:
            results.append((item, 1))
        elif status == 404:
            results.append((item, 0))  # already gone (or the container is): success
        elif status == 429 or status >= 500:
            raise TransientStoreError(
                f'store "{store_name}" (azure_blob): container "{container_name}": '
                f"a batch delete answered {status}; retrying later"
            )
        elif status == 400 and len(responses) == 1:
            raise PermanentStoreError(
                f'store "{store_name}" (azure_blob): container "{container_name}": '
                f"the batch delete was refused (400): {response.reason}"
            )
        elif status in (401, 403):
            raise PermanentStoreError(
                f'store "{store_name}" (azure_blob): not allowed to delete in container '
                f'"{container_name}" ({status}); grant "Storage Blob Data Contributor" or '
                "fix the connection string"
            )
        elif status == 409:
            raise TransientStoreError(
                f'store "{store_name}" (azure_blob): container "{container_name}": a blob is '
                "leased or busy (409); retrying later",
                retry_after=60,
            )
        else:
            raise PermanentStoreError(
                f'store "{store_name}" (azure_blob): container "{container_name}": '
                f"delete answered {status} {response.reason}"
            )
    return results


@contextlib.contextmanager
def azure_errors(store: str, what: str) -> Iterator[None]:
    """Turn the storage SDK's errors into the store contract's: transient ones retry, the rest stop."""
    where = f'store "{store}" (azure_blob: {what})'
    try:
        yield
    except (TransientStoreError, PermanentStoreError):
        raise
    except ClientAuthenticationError as exc:
        raise PermanentStoreError(
            f"{where}: Azure refused the credentials; check connection_string or the role assignment, then retry"
        ) from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise TransientStoreError(f"{where}: the storage account did not answer; retrying later") from exc
    except HttpResponseError as exc:
        status = exc.status_code or 0
        code = getattr(exc, "error_code", "") or ""
        if status in (401, 403):
            raise PermanentStoreError(
                f"{where}: not allowed ({status} {code}); check the credentials and the role assignment, then retry"
            ) from exc
        if status == 429 or status >= 500 or status in (408, 409):
            raise TransientStoreError(f"{where}: Azure answered {status} {code}; retrying later") from exc
        raise PermanentStoreError(f"{where}: Azure answered {status} {code}") from exc
