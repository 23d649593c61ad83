"""Azure Blob Storage: the files the host app uploaded (and legacy Media Services assets).

Found by exact names and prefixes built from the subject's identities
(``blobs = ["{blob_name}", "users/{user_id}/"]``), by blob index tags
(``tags = {owner = "{user_id}"}``), by whole containers (``containers =
["asset-{ams_asset_id}"]``: an Azure Media Services asset lives on as a
container in its storage account since AMS was retired on 30 June 2024), and
always by the ledger (``resource_kind`` blob with ``parent_ids.container``, or
container/asset).

Erased with blob batch deletes (at most 256 blobs per call, snapshots
included): a listing plus ceil(n/256) calls for n blobs. With ``versions =
true`` (the account keeps blob versions) earlier versions are listed and
deleted too. Soft-deleted copies cannot be removed before the account's
retention ends; verify reports how many wait for it (``soft_deleted``).

```toml
[[store]]
name = "media-blobs"
kind = "azure_blob"
connection_string = "${AZURE_STORAGE_CONNECTION_STRING}"   # or account_url + auth = "entra"
container = "media"
blobs = ["{blob_name}", "users/{user_id}/"]
tags = { owner = "{user_id}" }
containers = []
versions = false
```
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, BinaryIO, ClassVar, cast

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient

from requests_app import ledger
from requests_app.azure.auth import auth_config_errors, entra_credential
from requests_app.azure.store import AzureStore, expand, placeholders, str_list
from requests_app.models import Transmission
from requests_app.stores.base import (
    Discovery,
    ExportSink,
    Outcome,
    PermanentStoreError,
    Subject,
    TransientStoreError,
    batched,
)

BATCH = 256  # the Blob service's limit of sub-requests per batch


class CallCounter:
    """Counts HTTP calls (each retry too) — for the receipt detail and the benchmark."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request) -> None:  # azure-storage's raw_request_hook: once per attempt
        self.calls += 1


class AzureBlobStore(AzureStore):
    kind = "azure_blob"
    services: ClassVar[set[str]] = {Transmission.Service.BLOB, Transmission.Service.MEDIA_SERVICES}
    service_label = "Azure Blob Storage"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if not config.get("connection_string") and not config.get("account_url"):
            errors.append(("connection_string", 'set connection_string, or account_url with auth = "entra"'))
        if config.get("account_url") and not config.get("connection_string"):
            errors += [e for e in auth_config_errors({**config, "auth": "entra"}) if e[0] != "key"]
        if (
            config.get("connection_string")
            and "AccountName=" not in config["connection_string"]
            and "BlobEndpoint=" not in config["connection_string"]
        ):
            errors.append(
                ("connection_string", "not a storage connection string (AccountName=...;AccountKey=...)")
            )
        if not isinstance(config.get("container", ""), str):
            errors.append(("container", "must be a container name"))
        blobs = str_list(config, "blobs", errors)
        containers = str_list(config, "containers", errors)
        str_list(config, "ledger_accounts", errors)
        if blobs and not config.get("container"):
            errors.append(("container", "required when blobs are listed"))
        tags = config.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            errors.append(("tags", 'must be a table of tag name = pattern, e.g. { owner = "{user_id}" }'))
        for field, patterns in (("blobs", blobs), ("containers", containers)):
            for pattern in patterns:
                if not placeholders([pattern]):
                    errors.append(
                        (field, f"{pattern!r} names no identity (e.g. {{user_id}}); it would match everyone")
                    )
        if not isinstance(config.get("versions", False), bool):
            errors.append(("versions", "must be true or false"))
        return errors

    def __init__(self, name: str, config: dict[str, Any]):
        super().__init__(name, config)
        self.counter = CallCounter()
        self._service: BlobServiceClient | None = None

    @property
    def needs(self) -> set[str]:
        return placeholders(
            [
                *self.config.get("blobs", []),
                *self.config.get("containers", []),
                *self.config.get("tags", {}).values(),
            ]
        )

    def account_values(self) -> list[str]:
        return [self.service_client.account_name or self.service_client.url]

    @property
    def service_client(self) -> BlobServiceClient:
        if self._service is None:
            from requests_app.azure.client import MetricsPolicy

            options: dict[str, Any] = {"raw_request_hook": self.counter, "per_retry_policies": [MetricsPolicy("blob")]}
            if self.config.get("api_version"):
                options["api_version"] = self.config["api_version"]
            if self.config.get("connection_string"):
                self._service = BlobServiceClient.from_connection_string(
                    self.config["connection_string"], **options
                )
            else:
                self._service = BlobServiceClient(
                    self.config["account_url"], credential=entra_credential(self.config), **options
                )
        return self._service

    def container(self, name: str) -> ContainerClient:
        return self.service_client.get_container_client(name)

    def check_connection(self) -> None:
        with self._errors("check"):
            self.service_client.get_service_properties()

    # --- finding -------------------------------------------------------------------------
    def _plan(
        self, subject: Subject
    ) -> tuple[
        dict[str, set[str]],
        dict[str, set[str]],
        set[str],
        dict[tuple[str, str], list[int]],
        dict[str, list[int]],
    ]:
        """Exact names and prefixes by container, whole containers, ledger rows by blob and by container."""
        exact: dict[str, set[str]] = defaultdict(set)
        prefixes: dict[str, set[str]] = defaultdict(set)
        containers: set[str] = set()
        rows_by_blob: dict[tuple[str, str], list[int]] = defaultdict(list)
        rows_by_container: dict[str, list[int]] = defaultdict(list)
        default = self.config.get("container", "")
        if not subject.purpose:  # a consent withdrawal erases what the ledger says was sent under it, no more
            for pattern in self.config.get("blobs", []):
                for value in expand(pattern, subject):
                    (prefixes if value.endswith("/") else exact)[default].add(value)
            for pattern in self.config.get("containers", []):
                containers.update(expand(pattern, subject))
        for row in self.ledger_rows(subject):
            if row.resource_kind == "blob":
                container = row.parent_ids.get("container", default)
                exact[container].add(row.resource_id)
                rows_by_blob[(container, row.resource_id)].append(row.pk)
            else:  # container / Media Services asset
                containers.add(row.resource_id)
                rows_by_container[row.resource_id].append(row.pk)
        return exact, prefixes, containers, rows_by_blob, rows_by_container

    def _tag_queries(self, subject: Subject) -> list[str]:
        if subject.purpose or not self.config.get("tags"):
            return []
        queries = []
        for tag, pattern in self.config["tags"].items():
            for value in expand(pattern, subject):
                queries.append(f"\"{tag}\" = '{value.replace(chr(39), chr(39) * 2)}'")
        return queries

    def _listing(self, subject: Subject, *, exact_by_listing: bool) -> dict[str, dict[str, list[Any]]]:
        """container → blob name → [BlobProperties of the current blob and its versions]."""
        exact, prefixes, containers, _, _ = self._plan(subject)
        include = ["versions", "tags"] if self.config.get("versions") else ["tags"]
        found: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        with self._errors("list"):
            for container_name, names in prefixes.items():
                for prefix in sorted(names):
                    self._collect(found, container_name, prefix, include, None)
            if exact_by_listing:
                for container_name, names in exact.items():
                    for name in sorted(names):
                        self._collect(found, container_name, name, include, {name})
            for container_name in sorted(containers):
                self._collect(found, container_name, "", include, None)
            default = self.config.get("container", "")
            for query in self._tag_queries(subject):
                try:
                    for blob in self.container(default).find_blobs_by_tags(query):
                        found[default].setdefault(blob.name, [])
                except ResourceNotFoundError:
                    pass
        return found

    def _collect(
        self, found, container_name: str, prefix: str, include: list[str], only: set[str] | None
    ) -> None:
        try:
            for blob in self.container(container_name).list_blobs(
                name_starts_with=prefix or None, include=include, results_per_page=5000
            ):
                if only is None or blob.name in only:
                    found[container_name][blob.name].append(blob)
        except ResourceNotFoundError:
            pass  # the container is gone: nothing in it

    # --- the contract --------------------------------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        found = self._listing(subject, exact_by_listing=True)
        blobs = sum(len(names) for names in found.values())
        versions = sum(max(0, len(entries) - 1) for names in found.values() for entries in names.values())
        names = {f"{c}/{n}" for c, ns in found.items() for n in ns}
        detail = {"blobs": blobs, "containers": len(found), "versions": versions}
        return Discovery(
            found=blobs,
            provides={"blob_name": {n.split("/", 1)[1] for n in names}} if names else {},
            detail=detail,
        )

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        found = self._listing(subject, exact_by_listing=True)
        count = 0
        with sink.records("blobs") as writer, self._errors("export"):
            for container_name, names in sorted(found.items()):
                for name in sorted(names):
                    client = self.container(container_name).get_blob_client(name)
                    try:
                        props = client.get_blob_properties()
                        sink.add_file(f"{container_name}/{name}", cast(BinaryIO, client.download_blob()))
                    except ResourceNotFoundError:
                        continue
                    writer.write(
                        {
                            "container": container_name,
                            "name": name,
                            "size_bytes": props.size,
                            "content_type": props.content_settings.content_type,
                            "last_modified": props.last_modified.isoformat() if props.last_modified else None,
                        }
                    )
                    count += 1
        return Outcome(exported=count, detail={"blobs": count})

    def erase(self, subject: Subject) -> Outcome:
        exact, _, containers, rows_by_blob, rows_by_container = self._plan(subject)
        # Exact names need no listing (a batch answers 404 for a missing blob) unless versions must go too.
        found = self._listing(subject, exact_by_listing=bool(self.config.get("versions")))
        targets: dict[str, dict[tuple[str, str | None], None]] = defaultdict(dict)
        for container_name, names in exact.items():
            for name in names:
                targets[container_name][(name, None)] = None
        for container_name, listed in found.items():
            for name, entries in listed.items():
                targets[container_name][(name, None)] = None
                for entry in entries:
                    version = getattr(entry, "version_id", None)
                    if version and not getattr(entry, "is_current_version", True):
                        targets[container_name][(name, version)] = None
        erased = 0
        with self._errors("delete"):
            for container_name, items in targets.items():
                container = self.container(container_name)
                for chunk in batched(list(items), BATCH):
                    erased += self._delete_batch(container, container_name, chunk)
                    done_rows = [
                        pk
                        for name, version in chunk
                        if version is None
                        for pk in rows_by_blob.get((container_name, name), [])
                    ]
                    ledger.tombstone(done_rows, subject.task_id)
            for container_name in sorted(containers):
                try:
                    self.container(container_name).delete_container()
                except ResourceNotFoundError:
                    pass
                ledger.tombstone(rows_by_container.get(container_name, []), subject.task_id)
        return Outcome(
            erased=erased,
            detail={
                "blobs_deleted": erased,
                "containers_deleted": len(containers),
                "calls": self.counter.calls,
            },
        )

    def _delete_batch(
        self, container: ContainerClient, container_name: str, chunk: list[tuple[str, str | None]]
    ) -> int:
        requests = [{"name": name, "version_id": version} if version else name for name, version in chunk]
        responses = list(
            container.delete_blobs(*requests, delete_snapshots="include", raise_on_any_failure=False)
        )
        erased = 0
        for response in responses:
            status = response.status_code
            if status == 202:
                erased += 1
            elif status == 404:
                continue  # already gone (or the container is): success
            elif status == 429 or status >= 500:
                raise TransientStoreError(
                    f'store "{self.name}" (azure_blob): container "{container_name}": '
                    f"a batch delete answered {status}; retrying later"
                )
            elif status == 400 and len(responses) == 1:
                raise PermanentStoreError(
                    f'store "{self.name}" (azure_blob): container "{container_name}": '
                    f"the batch delete was refused (400): {response.reason}"
                )
            elif status in (401, 403):
                raise PermanentStoreError(
                    f'store "{self.name}" (azure_blob): not allowed to delete in container '
                    f'"{container_name}" ({status}); grant "Storage Blob Data Contributor" or '
                    "fix the connection string"
                )
            elif status == 409:
                raise TransientStoreError(
                    f'store "{self.name}" (azure_blob): container "{container_name}": a blob is '
                    "leased or busy (409); retrying later",
                    retry_after=60,
                )
            else:
                raise PermanentStoreError(
                    f'store "{self.name}" (azure_blob): container "{container_name}": '
                    f"delete answered {status} {response.reason}"
                )
        return erased

    def verify_gone(self, subject: Subject) -> Discovery:
        found = self._listing(subject, exact_by_listing=True)
        still = sum(len(names) for names in found.values())
        # Tombstoned ledger blobs must not be readable either.
        for row in self.tombstoned_rows(subject):
            if row.resource_kind != "blob":
                continue
            client = self.container(row.parent_ids.get("container", self.config.get("container", "")))
            with self._errors("verify"):
                if client.get_blob_client(row.resource_id).exists():
                    still += 1
        return Discovery(found=still, detail={"blobs": still})

    # --- errors -----------------------------------------------------------------------------------
    def _errors(self, what: str):
        store = self

        class _Mapper:
            def __enter__(self):
                return self

            def __exit__(self, exc_type, exc, tb):
                if exc is None or isinstance(exc, TransientStoreError | PermanentStoreError):
                    return False
                where = f'store "{store.name}" (azure_blob: {what})'
                if isinstance(exc, ClientAuthenticationError):
                    raise PermanentStoreError(
                        f"{where}: Azure refused the credentials; check connection_string or "
                        "the role assignment, then retry"
                    ) from exc
                if isinstance(exc, ServiceRequestError | ServiceResponseError):
                    raise TransientStoreError(
                        f"{where}: the storage account did not answer; retrying later"
                    ) from exc
                if isinstance(exc, HttpResponseError):
                    status = exc.status_code or 0
                    code = getattr(exc, "error_code", "") or ""
                    if status in (401, 403):
                        raise PermanentStoreError(
                            f"{where}: not allowed ({status} {code}); check the credentials "
                            "and the role assignment, then retry"
                        ) from exc
                    if status == 429 or status >= 500 or status in (408, 409):
                        raise TransientStoreError(
                            f"{where}: Azure answered {status} {code}; retrying later"
                        ) from exc
                    raise PermanentStoreError(f"{where}: Azure answered {status} {code}") from exc
                return False

        return _Mapper()
