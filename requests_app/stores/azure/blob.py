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
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar, cast

from azure.core.exceptions import (
    ResourceNotFoundError,
)
from azure.storage.blob import BlobServiceClient, ContainerClient

from requests_app.stores.azure import blob_plan, ids
from requests_app.stores.azure.auth import entra_credential
from requests_app.stores.azure.blob_delete import azure_errors, delete_batch, soft_delete_retention
from requests_app.stores.azure.blob_plan import (
    BATCH,
    LIST_PAGE,
    CallCounter,
    Plan,
    row_problem,
)
from requests_app.stores.azure.client import MetricsPolicy
from requests_app.stores.azure.common import (
    AzureStore,
    expand,
    placeholders,
    report_unsafe,
    template_identity,
)
from requests_app.stores.base import (
    Discovery,
    ExportSink,
    LedgerRow,
    Outcome,
    Retention,
    ScanHit,
    Subject,
    batched,
)


class AzureBlobStore(AzureStore):
    kind = "azure_blob"
    services: ClassVar[frozenset[str]] = frozenset({"blob", "media_services"})
    resource_kinds: ClassVar[dict[str, frozenset[str]]] = {
        "blob": frozenset({"blob", "container"}),
        "media_services": frozenset({"asset", "container"}),
    }
    service_label = "Azure Blob Storage"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        return blob_plan.config_errors(config)

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
            options: dict[str, Any] = {
                "raw_request_hook": self.counter,
                "per_retry_policies": [MetricsPolicy("blob")],
            }
            if self.config.get("api_version"):
                options["api_version"] = self.config["api_version"]
            if self.config.get("connection_string"):
                self._service = BlobServiceClient.from_connection_string(self.config["connection_string"], **options)
            else:
                self._service = BlobServiceClient(
                    self.config["account_url"], credential=entra_credential(self.config), **options
                )
        return self._service

    def container(self, name: str) -> ContainerClient:
        return self.service_client.get_container_client(name)

    @classmethod
    def ledger_id_errors(cls, resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
        """Blob names by Azure's naming rules (never climbing out of the container); container names."""
        if resource_kind == "blob":
            errors = ids.problems({"resource_id": ids.blob_name_problem}, {"resource_id": resource_id})
            if "container" in parent_ids:
                errors.update(
                    ids.problems(
                        {"parent_ids.container": ids.container_problem},
                        {"parent_ids.container": parent_ids["container"]},
                    )
                )
            return errors
        return ids.problems({"resource_id": ids.container_problem}, {"resource_id": resource_id})

    def check_connection(self) -> None:
        with azure_errors(self.name, "check"):
            self.service_client.get_service_properties()

    # --- finding -------------------------------------------------------------------------
    def _plan(self, subject: Subject) -> Plan:
        """Exact names and prefixes by container, whole containers, ledger rows by blob and by container."""
        plan = Plan()
        default = self.config.get("container", "")
        if not subject.purpose:  # a consent withdrawal erases what the ledger says was sent under it, no more
            for pattern in self.config.get("blobs", []):
                for value in expand(pattern, subject):
                    # An identity that makes no valid blob name (a "../" in it) names no blob of anyone's.
                    if value.endswith("/") and not ids.blob_name_problem(value[:-1]):
                        plan.prefixes[default].add(value)
                    elif not ids.blob_name_problem(value):
                        plan.exact[default].add(value)
            for pattern in self.config.get("containers", []):
                plan.containers.update(c for c in expand(pattern, subject) if not ids.container_problem(c))
        for row in subject.ledger:
            problem = row_problem(row, default)
            if problem:
                plan.unsafe.append((row, problem))
            elif row.resource_kind == "blob":
                container = row.parent_ids.get("container", default)
                plan.exact[container].add(row.resource_id)
                plan.rows_by_blob[(container, row.resource_id)].append(row.id)
            else:  # container / Media Services asset
                plan.containers.add(row.resource_id)
                plan.rows_by_container[row.resource_id].append(row.id)
        return plan

    def _tag_queries(self, subject: Subject) -> list[str]:
        if subject.purpose or not self.config.get("tags"):
            return []
        queries = []
        for tag, pattern in self.config["tags"].items():
            for value in expand(pattern, subject):
                queries.append(f"\"{tag}\" = '{value.replace(chr(39), chr(39) * 2)}'")
        return queries

    def _listing(
        self, plan: Plan, subject: Subject, *, exact_by_listing: bool, erased: list[LedgerRow] | None = None
    ) -> dict[str, dict[str, list[Any]]]:
        """container → blob name → [BlobProperties of the current blob and its versions].

        Exact names are found by listing, not one call each: the names of a
        container are grouped by folder ("users/42/a.jpg" → "users/42/") and
        each folder is listed once (5,000 names per call), unless a configured
        prefix or a whole container already covers it. So n ledgered blobs under
        one prefix cost ceil(n/5000) calls, not n.
        """
        include = ["versions", "tags"] if self.config.get("versions") else ["tags"]
        found: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        default = self.config.get("container", "")
        exact = blob_plan.exact_to_list(plan, erased or [], default, by_listing=exact_by_listing)
        with azure_errors(self.name, "list"):
            for container_name, prefix, wanted in blob_plan.listings(plan, exact):
                self._collect(found, container_name, prefix, include, wanted)
            for query in self._tag_queries(subject):
                try:
                    for blob in self.container(default).find_blobs_by_tags(query):
                        found[default].setdefault(blob.name, [])
                except ResourceNotFoundError:
                    pass
        return found

    def _collect(
        self,
        found: dict[str, dict[str, list[Any]]],
        container_name: str,
        prefix: str,
        include: list[str],
        only: set[str] | None,
    ) -> None:
        try:
            for blob in self.container(container_name).list_blobs(
                name_starts_with=prefix or None, include=include, results_per_page=LIST_PAGE
            ):
                if only is None or blob.name in only:
                    found[container_name][blob.name].append(blob)
        except ResourceNotFoundError:
            pass  # the container is gone: nothing in it

    def scan(self) -> Iterator[ScanHit]:
        """Blobs and containers the ``blobs``/``containers`` patterns point at, for everyone (listings only)."""
        default = self.config.get("container", "")
        with azure_errors(self.name, "scan"):
            for pattern in self.config.get("blobs", []):
                if len(placeholders([pattern])) != 1 or not default:
                    continue
                prefix = pattern.split("{", 1)[0]
                template = pattern + "*" if pattern.endswith("/") else pattern
                try:
                    for blob in self.container(default).list_blobs(
                        name_starts_with=prefix or None, results_per_page=LIST_PAGE
                    ):
                        identity = template_identity(template, blob.name)
                        if identity:
                            yield ScanHit("blob", f"{default}/{blob.name}", *identity)
                except ResourceNotFoundError:
                    pass
            for pattern in self.config.get("containers", []):
                if len(placeholders([pattern])) != 1:
                    continue
                prefix = pattern.split("{", 1)[0]
                for container in self.service_client.list_containers(name_starts_with=prefix or None):
                    identity = template_identity(pattern, container.name)
                    if identity:
                        yield ScanHit("container", container.name, *identity)

    # --- the contract --------------------------------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        plan = self._plan(subject)
        found = self._listing(plan, subject, exact_by_listing=True)
        blobs = sum(len(names) for names in found.values()) + len(plan.unsafe)
        versions = sum(max(0, len(entries) - 1) for names in found.values() for entries in names.values())
        names = {f"{c}/{n}" for c, ns in found.items() for n in ns}
        detail = {"blobs": blobs, "containers": len(found), "versions": versions, "calls": self.counter.calls}
        return Discovery(
            found=blobs,
            provides={"blob_name": {n.split("/", 1)[1] for n in names}} if names else {},
            counts=detail,
        )

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        found = self._listing(self._plan(subject), subject, exact_by_listing=True)
        count = 0
        with sink.records("blobs") as writer, azure_errors(self.name, "export"):
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
        plan = self._plan(subject)
        # Exact names need no listing (a batch answers 404 for a missing blob) unless versions must go too.
        found = self._listing(plan, subject, exact_by_listing=bool(self.config.get("versions")))
        outcome = Outcome()
        report_unsafe(outcome, plan.unsafe)
        with azure_errors(self.name, "delete"):
            self._delete_blobs(plan, blob_plan.delete_targets(plan, found), outcome)
            self._delete_containers(plan, outcome)
        if outcome.erased:  # one more call: the account's soft-delete policy
            outcome.retention.append(soft_delete_retention(self.service_client, outcome.erased))
        if plan.containers:
            outcome.retention.append(Retention("container_soft_delete", count=len(plan.containers)))
        outcome.detail = {
            **outcome.detail,
            "blobs_deleted": outcome.erased,
            "containers_deleted": len(plan.containers),
            "calls": self.counter.calls,
        }
        return outcome

    def _delete_blobs(self, plan: Plan, targets: dict[str, list[tuple[str, str | None]]], outcome: Outcome) -> None:
        """Blobs (and versions) by batch; the ledger rows of each current blob settled as erased or gone."""
        for container_name, items in targets.items():
            container = self.container(container_name)
            for chunk in batched(items, BATCH):
                for (name, version), deleted in delete_batch(self.name, container, container_name, chunk):
                    outcome.erased += deleted
                    if version is None:
                        row_ids = plan.rows_by_blob.get((container_name, name), [])
                        (outcome.ledger.erased if deleted else outcome.ledger.gone).extend(row_ids)

    def _delete_containers(self, plan: Plan, outcome: Outcome) -> None:
        """Whole containers, with the ledger rows of the container and of the blobs in it."""
        for container_name in sorted(plan.containers):
            row_ids = plan.rows_by_container.get(container_name, [])
            try:
                self.container(container_name).delete_container()
                outcome.ledger.erased += row_ids
            except ResourceNotFoundError:
                outcome.ledger.gone += row_ids
            for (c, _name), row_ids in plan.rows_by_blob.items():
                if c == container_name:
                    outcome.ledger.erased += row_ids  # deleted with their container

    def verify_gone(self, subject: Subject) -> Discovery:
        # What the configuration and the live ledger still find, plus the blobs this request
        # deleted (they must not be listed any more) — by listing, not one call per blob.
        # Rows with unsafe names were never sent; erase reported them as left (not counted again here).
        found = self._listing(self._plan(subject), subject, exact_by_listing=True, erased=subject.erased_ledger)
        still = sum(len(names) for names in found.values())
        return Discovery(found=still, counts={"blobs": still, "calls": self.counter.calls})
