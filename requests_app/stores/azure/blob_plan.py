"""Azure Blob Storage: what to delete (``Plan``), a ledger row's problems, the call counter, the API
versions this portal speaks, and the store's configuration check.

Moved out of ``blob.py`` as it was (the store class stays there).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from requests_app.stores.azure import ids
from requests_app.stores.azure.auth import auth_config_errors
from requests_app.stores.azure.common import (
    placeholders,
    str_list,
)
from requests_app.stores.base import (
    LedgerRow,
)


def _supported_api_versions() -> list[str]:
    """The versions the installed azure-storage-blob accepts (it refuses others with a bare ValueError)."""
    try:
        from azure.storage.blob._serialize import _SUPPORTED_API_VERSIONS
    except ImportError:  # pragma: no cover - a future release moved it: the SDK will judge
        return []
    return list(_SUPPORTED_API_VERSIONS)


SUPPORTED_API_VERSIONS = _supported_api_versions()

BATCH = 256  # the Blob service's limit of sub-requests per batch
LIST_PAGE = 5000  # the most names List Blobs returns per call


@dataclass
class Plan:
    """Where to look for the subject's blobs, and which ledger rows each one settles."""

    exact: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    prefixes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    containers: set[str] = field(default_factory=set)
    rows_by_blob: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    rows_by_container: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    unsafe: list[tuple[LedgerRow, str]] = field(default_factory=list)  # rows never sent to Azure


def row_problem(row: LedgerRow, default_container: str) -> str | None:
    """Why a blob/container row cannot be sent (a name Azure refuses, or one that climbs); None if fine."""
    if row.resource_kind == "blob":
        return ids.container_problem(row.parent_ids.get("container", default_container)) or ids.blob_name_problem(
            row.resource_id
        )
    return ids.container_problem(row.resource_id)


class CallCounter:
    """Counts HTTP calls (each retry too) — for the receipt detail and the benchmark."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: object) -> None:  # azure-storage's raw_request_hook: once per attempt
        self.calls += 1


def config_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    version = config.get("api_version")
    if version is not None and SUPPORTED_API_VERSIONS and version not in SUPPORTED_API_VERSIONS:
        errors.append(
            (
                "api_version",
                f"{version!r} is not a storage API version this portal's azure-storage-blob speaks; "
                f"use one of {', '.join(SUPPORTED_API_VERSIONS[-6:])} (newest last; older ones back to "
                f"{SUPPORTED_API_VERSIONS[0]} work too), or leave it out for the newest",
            )
        )
    if not config.get("connection_string") and not config.get("account_url"):
        errors.append(("connection_string", 'set connection_string, or account_url with auth = "entra"'))
    if config.get("account_url") and not config.get("connection_string"):
        errors += [e for e in auth_config_errors({**config, "auth": "entra"}) if e[0] != "key"]
    if (
        config.get("connection_string")
        and "AccountName=" not in config["connection_string"]
        and "BlobEndpoint=" not in config["connection_string"]
    ):
        errors.append(("connection_string", "not a storage connection string (AccountName=...;AccountKey=...)"))
    if not isinstance(config.get("container", ""), str) or (
        config.get("container") and ids.container_problem(config["container"])
    ):
        errors.append(("container", "must be a container name (3-63 lower-case letters, digits, '-')"))
    blobs = str_list(config, "blobs", errors)
    containers = str_list(config, "containers", errors)
    str_list(config, "ledger_accounts", errors)
    if blobs and not config.get("container"):
        errors.append(("container", "required when blobs are listed"))
    tags = config.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        errors.append(("tags", 'must be a table of tag name = pattern, e.g. { owner = "{user_id}" }'))
    for name, patterns in (("blobs", blobs), ("containers", containers)):
        for pattern in patterns:
            if not placeholders([pattern]):
                errors.append((name, f"{pattern!r} names no identity (e.g. {{user_id}}); it would match everyone"))
    if not isinstance(config.get("versions", False), bool):
        errors.append(("versions", "must be true or false"))
    return errors
