"""Azure Blob Storage: what to delete (``Plan``), what to list and delete for it, a ledger row's
problems, the call counter, the API versions this portal speaks, and the store's configuration check.

Moved out of ``blob.py`` (the store class and its calls to Azure stay there).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
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


def exact_to_list(
    plan: Plan, erased: list[LedgerRow], default_container: str, *, by_listing: bool
) -> dict[str, set[str]]:
    """container → exact blob names to find by listing: the plan's (when listed), and blobs already erased."""
    exact: dict[str, set[str]] = defaultdict(set)
    if by_listing:
        for container_name, names in plan.exact.items():
            exact[container_name] |= names
    for row in erased:
        if row.resource_kind == "blob" and not row_problem(row, default_container):
            exact[row.parent_ids.get("container", default_container)].add(row.resource_id)
    return exact


def listings(plan: Plan, exact: dict[str, set[str]]) -> Iterator[tuple[str, str, set[str] | None]]:
    """(container, prefix, only these names or None for all) of each List Blobs to run, in order.

    Whole containers, then configured prefixes, then the folders of exact names ("users/42/a.jpg" →
    "users/42/"), each listed once unless a prefix or whole container of the plan covers it.
    """
    for container_name in sorted(plan.containers):
        yield container_name, "", None
    for container_name, names in plan.prefixes.items():
        if container_name not in plan.containers:
            yield from ((container_name, prefix, None) for prefix in sorted(names))
    for container_name, names in exact.items():
        if container_name in plan.containers:
            continue
        covered = tuple(plan.prefixes.get(container_name, ()))
        folders: dict[str, set[str]] = defaultdict(set)
        for name in names:
            if covered and name.startswith(covered):
                continue  # listed with its configured prefix
            folders[name.rsplit("/", 1)[0] + "/" if "/" in name else name].add(name)
        for folder, wanted in sorted(folders.items()):
            yield container_name, folder, wanted


def delete_targets(plan: Plan, found: dict[str, dict[str, list[Any]]]) -> dict[str, list[tuple[str, str | None]]]:
    """container → (blob name, version or None for the current blob) to delete, outside whole containers.

    Exact names need no listing (a batch answers 404 for a missing blob); listed blobs bring their
    earlier versions.
    """
    targets: dict[str, dict[tuple[str, str | None], None]] = defaultdict(dict)
    for container_name, names in plan.exact.items():
        if container_name in plan.containers:
            continue  # the whole container goes
        for name in names:
            targets[container_name][(name, None)] = None
    for container_name, listed in found.items():
        if container_name in plan.containers:
            continue
        for name, entries in listed.items():
            targets[container_name][(name, None)] = None
            for entry in entries:
                version = getattr(entry, "version_id", None)
                if version and not getattr(entry, "is_current_version", True):
                    targets[container_name][(name, version)] = None
    return {container_name: list(items) for container_name, items in targets.items()}


class CallCounter:
    """Counts HTTP calls (each retry too) — for the receipt detail and the benchmark."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: object) -> None:  # azure-storage's raw_request_hook: once per attempt
        self.calls += 1


def config_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    errors = _connection_errors(config)
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


def _connection_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The API version, and how the store reaches the account (connection string, or Entra ID)."""
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
    return errors
