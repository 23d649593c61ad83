"""Azure AI Speech: batch transcriptions and Custom Speech datasets.

Found by id (ledger rows ``resource_kind`` transcription/dataset) and by a
``customProperties`` tag the host app sets when it creates them
(``custom_property = "user_id"``: items whose ``customProperties.user_id`` is
the subject's user id; or templates of the host app's own format,
``custom_properties = { owner = "user:{user_id}" }``; the listing follows
``@nextLink``). Deleting answers 204,
also when the item is already gone.

```toml
[[store]]
name = "speech"
kind = "azure_speech"
endpoint = "${AZURE_SPEECH_ENDPOINT}"
key = "${AZURE_SPEECH_KEY}"
custom_property = "user_id"
collections = ["transcriptions", "datasets"]
api_version = "2024-11-15"   # or "v3.2"
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from requests_app.stores.azure import ids
from requests_app.stores.azure.auth import COGNITIVE_SCOPE, auth_config_errors, entra_credential
from requests_app.stores.azure.client import AzureRestClient
from requests_app.stores.azure.common import (
    AzureStore,
    placeholders,
    positive_number,
    report_unsafe,
    split_unsafe,
    str_list,
    template_errors,
    template_identity,
    template_matches,
    without_unsafe,
)
from requests_app.stores.base import Discovery, ExportSink, LedgerRow, Outcome, Retention, ScanHit, Subject

COLLECTION_OF = {"transcription": "transcriptions", "dataset": "datasets"}
MAX_PAGES = 10_000


class AzureSpeechStore(AzureStore):
    kind = "azure_speech"
    services: ClassVar[frozenset[str]] = frozenset({"speech"})
    resource_kinds: ClassVar[dict[str, frozenset[str]]] = {"speech": frozenset(COLLECTION_OF)}
    service_label = "Azure AI Speech"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        endpoint = config.get("endpoint")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            errors.append(("endpoint", "required: e.g. https://<region>.api.cognitive.microsoft.com"))
        errors += auth_config_errors(config)
        collections = str_list(config, "collections", errors)
        for name in collections:
            if name not in ("transcriptions", "datasets"):
                errors.append(("collections", f"{name!r} is not transcriptions or datasets"))
        str_list(config, "ledger_accounts", errors)
        props = config.get("custom_properties", {})
        if not isinstance(props, dict):
            errors.append(("custom_properties", 'must be a table, e.g. { owner = "user:{user_id}" }'))
        else:
            for key, template in props.items():
                template_errors(f"custom_properties.{key}", template, errors, "user:{user_id}")
        if config.get("api_version", "2024-11-15") not in ("2024-11-15", "v3.2"):
            errors.append(("api_version", 'use "2024-11-15" (or "v3.2" for older resources)'))
        positive_number(config, "max_tps", 20, errors)
        return errors

    def __init__(self, name: str, config: dict[str, Any]):
        super().__init__(name, config)
        self._client: AzureRestClient | None = None

    @property
    def needs(self) -> set[str]:
        return placeholders(self._property_templates().values())

    def _property_templates(self) -> dict[str, str]:
        """customProperties key → template: ``custom_property = "user_id"`` is ``{user_id = "{user_id}"}``."""
        templates = dict(self.config.get("custom_properties") or {})
        if self.config.get("custom_property"):
            templates[self.config["custom_property"]] = "{" + self.config["custom_property"] + "}"
        return templates

    def account_values(self) -> list[str]:
        return [self.config.get("endpoint", "")]

    @property
    def version(self) -> str:
        return str(self.config.get("api_version", "2024-11-15"))

    @property
    def client(self) -> AzureRestClient:
        if self._client is None:
            base = self.config["endpoint"].rstrip("/") + "/speechtotext"
            if self.version.startswith("v3"):
                base += "/" + self.version
            entra = self.config.get("auth") == "entra" or not self.config.get("key")
            self._client = AzureRestClient(
                base_url=base,
                store=self.name,
                service=self.service_label,
                key=None if entra else self.config["key"],
                credential=entra_credential(self.config) if entra else None,
                scopes=(COGNITIVE_SCOPE,),
                bucket=self.bucket(20),
                backoff=float(self.config.get("retry_backoff", 0.5)),
            )
        return self._client

    @classmethod
    def ledger_id_errors(cls, resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
        """Speech transcriptions and datasets are GUIDs (Speech to text REST 2024-11-15 / v3.2)."""
        return ids.problems({"resource_id": ids.guid_problem}, {"resource_id": resource_id})

    def _params(self, **extra: Any) -> dict[str, Any]:
        return extra if self.version.startswith("v3") else {"api-version": self.version, **extra}

    def check_connection(self) -> None:
        self.client.send("GET", "transcriptions", params=self._params(top=1), what="check")

    # --- finding -------------------------------------------------------------------------------
    def _tagged(self, subject: Subject) -> set[tuple[str, str]]:
        templates = self._property_templates()
        values = set().union(*(subject.values(kind) for kind in placeholders(templates.values())))
        if subject.purpose or not values:
            return set()
        return {
            (collection, item_id)
            for collection, item_id, props in self._listed()
            if any(template_matches(t, str(props.get(k, "")), subject) for k, t in templates.items())
        }

    def _listed(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(collection, id, customProperties) of every item, following ``@nextLink``."""
        for collection in self.config.get("collections", ["transcriptions", "datasets"]):
            url: str | None = collection
            params: dict[str, Any] | None = self._params(top=100)
            for _ in range(MAX_PAGES):
                if not url:
                    break
                response = self.client.send("GET", url, params=params, what=f"list {collection}")
                if response.status_code == 404:
                    break
                body = self.client.json(response)
                for item in body.get("values", []):
                    item_id = item["self"].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                    if ids.GUID_RE.fullmatch(item_id):  # Speech's own ids; anything else is not followed
                        yield collection, item_id, item.get("customProperties") or {}
                url, params = body.get("@nextLink"), None  # the next link carries its own query

    def scan(self) -> Iterator[ScanHit]:
        """Items whose customProperties fit a configured template (paged listings only)."""
        templates = self._property_templates()
        if not templates:
            return
        for collection, item_id, props in self._listed():
            for key, template in templates.items():
                identity = template_identity(template, str(props.get(key, "")))
                if identity:
                    yield ScanHit(collection.rstrip("s"), _path(collection, item_id), *identity)
                    break

    def _items(
        self, subject: Subject
    ) -> tuple[dict[tuple[str, str], list[int]], set[tuple[str, str]], list[tuple[LedgerRow, str]]]:
        """(ledger items → row ids, tagged items not in the ledger, rows with unsafe ids)."""
        rows: dict[tuple[str, str], list[int]] = {}
        safe, unsafe = split_unsafe(subject.ledger, _item_of)
        for row, key in safe:
            rows.setdefault(key, []).append(row.id)
        return rows, self._tagged(subject) - set(rows), unsafe

    def _read(self, collection: str, item_id: str) -> dict[str, Any] | None:
        response = self.client.send("GET", _path(collection, item_id), params=self._params(), what=f"read {collection}")
        return self.client.json(response) if response.status_code == 200 else None

    def discover(self, subject: Subject) -> Discovery:
        rows, tagged, unsafe = self._items(subject)
        present = [key for key in rows if self._read(*key) is not None] + sorted(tagged)
        detail: dict[str, int] = {"ledger_unsafe_ids": len(unsafe)} if unsafe else {}
        for collection, _ in present:
            detail[collection] = detail.get(collection, 0) + 1
        return Discovery(found=len(present) + len(unsafe), counts=detail)

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        rows, tagged, _ = self._items(subject)
        count = 0
        with sink.records("speech") as writer:
            for collection, item_id in sorted({*rows, *tagged}):
                item = self._read(collection, item_id)
                if item is None:
                    continue
                writer.write(
                    {
                        "collection": collection,
                        "id": item_id,
                        "displayName": item.get("displayName"),
                        "locale": item.get("locale"),
                        "created": item.get("createdDateTime"),
                        "status": item.get("status"),
                        "properties": item.get("properties"),
                    }
                )
                count += 1
        return Outcome(exported=count, detail={"items": count})

    def erase(self, subject: Subject) -> Outcome:
        rows, tagged, unsafe = self._items(subject)
        outcome = Outcome()
        for collection, item_id in [*rows, *sorted(tagged)]:
            # 204 also when the item is already gone: Speech does not say which
            self.client.send("DELETE", _path(collection, item_id), params=self._params(), what=f"delete {collection}")
            outcome.erased += 1
            outcome.ledger.erased += rows.get((collection, item_id), [])
        outcome.detail = {"items": outcome.erased}
        report_unsafe(outcome, unsafe)
        if outcome.erased:  # a transcription's deletion removes the result files Speech stored for it
            outcome.retention.append(Retention("speech_deleted", count=outcome.erased))
        return outcome

    def verify_gone(self, subject: Subject) -> Discovery:
        subject = without_unsafe(subject, _item_of)
        found = self.discover(subject)
        found.found += sum(1 for row in subject.erased_ledger if self._read(*_item_of(row)) is not None)
        return found


def _item_of(row: LedgerRow) -> tuple[str, str]:
    """(collection, id) of a ledger row; ``UnsafeIdError`` if the id cannot be one path segment."""
    collection = COLLECTION_OF.get(row.resource_kind, "transcriptions")
    _path(collection, row.resource_id)
    return collection, row.resource_id


def _path(collection: str, item_id: str) -> str:
    return ids.item_path(collection + "/{}", item_id, what=f"Speech {collection.rstrip('s')} id")
