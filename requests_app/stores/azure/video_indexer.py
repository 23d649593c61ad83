"""Azure AI Video Indexer: uploaded videos, their insights and source files.

Found by video id (ledger rows with ``resource_kind = "video"``, and a
``video_id`` identity another store provides) and by ``externalId``
(``external_ids = ["{user_id}"]`` patterns, looked up with
``Videos/GetIdByExternalId``; a pattern with ``*``, e.g. ``"user-{user_id}-*"``,
is matched against the externalId of every video in one paged listing). Deleting a video removes its insights and
source file (204; 404 = already gone); with ``delete = "source_file"`` only the
source file goes and the insights stay (for apps that must keep them).

Auth: an access token generated through ARM (``subscription_id``,
``resource_group``, ``account_name``; Entra ID via azure-identity), renewed
before its hour ends and after a 401. Every call passes the shared token bucket
(``max_tps``, default 10 = Video Indexer's 10 requests per second).

```toml
[[store]]
name = "videos"
kind = "azure_video_indexer"
location = "westeurope"
account_id = "${VI_ACCOUNT_ID}"
subscription_id = "${AZURE_SUBSCRIPTION_ID}"
resource_group = "media"
account_name = "app-vi"
external_ids = ["{user_id}"]
delete = "video"          # or "source_file"
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from azure.core.rest import HttpResponse

from requests_app.stores.azure import ids
from requests_app.stores.azure.client import AzureRestClient
from requests_app.stores.azure.common import (
    AzureStore,
    expand,
    placeholders,
    positive_number,
    report_unsafe,
    split_unsafe,
    str_list,
    template_identity,
    template_matches,
    without_unsafe,
)
from requests_app.stores.azure.video_indexer_token import AccessTokenPolicy, AccessTokenProvider
from requests_app.stores.base import (
    Discovery,
    ExportSink,
    LedgerRow,
    Outcome,
    PermanentStoreError,
    Retention,
    ScanHit,
    StoreError,
    Subject,
)

PAGE = 100
ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,64}$")
LOCATION_RE = re.compile(r"^[a-z0-9]{1,40}$")
ARM_NAME_RE = re.compile(r"^[A-Za-z0-9_().-]{1,90}$")  # ARM names: no '/', nothing that climbs
LIST_PAGE = 1000  # the most videos List Videos returns per call


def _arm_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The Azure Resource Manager names that generate access tokens: required without ``access_token``."""
    errors: list[tuple[str, str]] = []
    if not config.get("access_token"):
        for field in ("subscription_id", "resource_group", "account_name"):
            if not config.get(field):
                errors.append((field, "required to generate access tokens through ARM"))
    for field in ("subscription_id", "resource_group", "account_name"):
        value = config.get(field)
        if value and (not isinstance(value, str) or not ARM_NAME_RE.fullmatch(value)):
            errors.append((field, "must be an Azure resource name (letters, digits, '-', '_', '.', '(', ')')"))
    return errors


class AzureVideoIndexerStore(AzureStore):
    kind = "azure_video_indexer"
    services: ClassVar[frozenset[str]] = frozenset({"video_indexer"})
    resource_kinds: ClassVar[dict[str, frozenset[str]]] = {"video_indexer": frozenset({"video"})}
    service_label = "Azure AI Video Indexer"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        for field, what in (
            ("location", "the account's region, e.g. westeurope (or trial)"),
            ("account_id", "the Video Indexer account id (a GUID)"),
        ):
            if not isinstance(config.get(field), str) or not config.get(field):
                errors.append((field, f"required: {what}"))
        errors += _arm_errors(config)
        if isinstance(config.get("location"), str) and not LOCATION_RE.fullmatch(config["location"]):
            errors.append(("location", "must be an Azure region name such as westeurope (or trial)"))
        if isinstance(config.get("account_id"), str) and not ACCOUNT_ID_RE.fullmatch(config["account_id"]):
            errors.append(("account_id", "must be the Video Indexer account id (a GUID: letters, digits, '-')"))
        str_list(config, "external_ids", errors)
        str_list(config, "ledger_accounts", errors)
        if config.get("delete", "video") not in ("video", "source_file"):
            errors.append(("delete", 'must be "video" or "source_file"'))
        positive_number(config, "max_tps", 10, errors)
        return errors

    def __init__(self, name: str, config: dict[str, Any]):
        super().__init__(name, config)
        self.tokens = AccessTokenProvider(config, name)
        self._client: AzureRestClient | None = None

    @property
    def needs(self) -> set[str]:
        return placeholders(self.config.get("external_ids", []))

    def account_values(self) -> list[str]:
        return [self.config.get("account_id", "")]

    @property
    def client(self) -> AzureRestClient:
        if self._client is None:
            base = self.config.get("endpoint", "https://api.videoindexer.ai").rstrip("/")
            self._client = AzureRestClient(
                base_url=f"{base}/{ids.segment(self.config['location'], 'location')}/Accounts/"
                f"{ids.segment(self.config['account_id'], 'account_id')}",
                store=self.name,
                service=self.service_label,
                auth_policy=AccessTokenPolicy(self.tokens),
                bucket=self.bucket(10),
                backoff=float(self.config.get("retry_backoff", 0.5)),
            )
        return self._client

    def _send(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        """A call; on 401 the access token is renewed once (it may have expired)."""
        try:
            return self.client.send(method, path, **kwargs)
        except PermanentStoreError as exc:
            if getattr(exc, "status", None) != 401:
                raise
            self.tokens.token(force=True)
            return self.client.send(method, path, **kwargs)

    @classmethod
    def ledger_id_errors(cls, resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
        """Video Indexer video ids are 10 letters or digits (e.g. ``3a2e55f3d8``)."""
        return ids.problems({"resource_id": ids.video_id_problem}, {"resource_id": resource_id})

    def check_connection(self) -> None:
        self._send("GET", "Videos", params={"pageSize": 1}, what="check")

    # --- finding -------------------------------------------------------------------------------
    def _video_ids(self, subject: Subject) -> tuple[dict[str, list[int]], set[str], list[tuple[LedgerRow, str]]]:
        """(ledger video id → row ids, other video ids found for the subject, rows with unsafe ids)."""
        rows: dict[str, list[int]] = {}
        safe, unsafe = split_unsafe(subject.ledger, _video_of)
        for row, video in safe:
            rows.setdefault(video, []).append(row.id)
        others: set[str] = set()
        if not subject.purpose:
            others |= subject.values("video_id")
            patterns = self.config.get("external_ids", [])
            wildcards = [pattern for pattern in patterns if "*" in pattern]
            if wildcards:
                others |= self._listed_by_external_id(wildcards, subject)
            for pattern in patterns:
                if "*" in pattern:
                    continue
                for external_id in expand(pattern, subject):
                    response = self._send(
                        "GET",
                        "Videos/GetIdByExternalId",
                        params={"externalId": external_id},
                        what="find by externalId",
                    )
                    if response.status_code == 200:
                        others.add(str(self.client.json(response)))
        return rows, others - set(rows), unsafe

    def _listed_by_external_id(self, templates: list[str], subject: Subject) -> set[str]:
        """Videos whose externalId fits a wildcard template ("user-{user_id}-*"): one listing, paged.

        ``GET /Videos?pageSize=&skip=`` (Video Indexer "List Videos") pages until ``nextPage.done``.
        """
        return {
            str(video["id"])
            for video in self._all_videos()
            if any(template_matches(t, video.get("externalId"), subject) for t in templates)
        }

    def _all_videos(self) -> Iterator[dict[str, Any]]:
        """Every video of the account: ``GET /Videos?pageSize=&skip=`` (List Videos) until ``nextPage.done``."""
        skip = 0
        while True:
            response = self._send("GET", "Videos", params={"pageSize": LIST_PAGE, "skip": skip}, what="list videos")
            body = self.client.json(response)
            yield from body.get("results", [])
            page = body.get("nextPage") or {}
            if page.get("done", True) or not body.get("results"):
                return
            skip = int(page.get("skip", skip + LIST_PAGE))

    def scan(self) -> Iterator[ScanHit]:
        """Videos whose externalId fits an ``external_ids`` template (one paged listing)."""
        templates = self.config.get("external_ids", [])
        if not templates:
            return
        for video in self._all_videos():
            for template in templates:
                identity = template_identity(template, video.get("externalId"))
                if identity:
                    yield ScanHit("video", _path("Videos/{}", str(video["id"])), *identity)
                    break

    def _exists(self, video_id: str) -> dict[str, Any] | None:
        response = self._send("GET", _path("Videos/{}/Index", video_id), what="read video")
        return self.client.json(response) if response.status_code == 200 else None

    def discover(self, subject: Subject) -> Discovery:
        rows, others, unsafe = self._video_ids(subject)
        present = {video for video in [*rows, *others] if self._exists(video) is not None}
        return Discovery(
            found=len(present) + len(unsafe),
            provides={"video_id": present} if present else {},
            counts={"videos": len(present)},
        )

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        rows, others, _ = self._video_ids(subject)
        count = 0
        with sink.records("videos") as writer:
            for video in sorted({*rows, *others}):
                index = self._exists(video)
                if index is None:
                    continue
                writer.write(
                    {
                        "video_id": video,
                        "name": index.get("name"),
                        "created": index.get("created"),
                        "insights": index.get("videos", []),
                    }
                )
                count += 1
        return Outcome(exported=count, detail={"videos": count})

    def erase(self, subject: Subject) -> Outcome:
        rows, others, unsafe = self._video_ids(subject)
        source_only = self.config.get("delete", "video") == "source_file"
        outcome = Outcome()
        report_unsafe(outcome, unsafe)
        for video in [*rows, *sorted(others)]:
            if source_only:
                response = self._send("DELETE", _path("Videos/{}/SourceFile", video), what="delete source file")
            else:  # Delete Video keeps the insights unless asked: deleteInsights=true removes them too
                response = self._send(
                    "DELETE",
                    _path("Videos/{}", video),
                    params={"deleteInsights": "true"},
                    what="delete video",
                )
            ids = rows.get(video, [])
            if response.status_code != 404:
                outcome.erased += 1
                outcome.ledger.erased += ids
            else:
                outcome.ledger.gone += ids
            if source_only:
                outcome.ledger.notes.update(dict.fromkeys(ids, "source file deleted; insights kept by configuration"))
        outcome.detail = {
            **outcome.detail,
            "videos": outcome.erased,
            "mode": "source_file" if source_only else "video",
            "token_renewals": self.tokens.generated,
        }
        if outcome.erased:
            code = "video_source_only" if source_only else "video_deleted"
            outcome.retention.append(Retention(code, count=outcome.erased))
        return outcome

    def verify_gone(self, subject: Subject) -> Discovery:
        if self.config.get("delete", "video") == "source_file":
            return Discovery(found=0, note="source files deleted; insights kept by configuration")
        subject = without_unsafe(subject, _video_of)
        found = self.discover(subject)
        found.found += sum(1 for row in subject.erased_ledger if self._exists(_video_of(row)) is not None)
        return found


def _path(template: str, video_id: str) -> str:
    return ids.item_path(template, video_id, what="Video Indexer video id")


def _video_of(row: LedgerRow) -> str:
    """A ledger row's video id; ``UnsafeIdError`` if it cannot be one path segment."""
    _path("Videos/{}", row.resource_id)
    return row.resource_id


__all__ = ["AzureVideoIndexerStore", "StoreError"]
