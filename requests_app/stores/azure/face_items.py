"""Azure AI Face items: where each ledger resource kind lives, its ids, and the store's configuration check.

Moved out of ``face.py`` as it was (the store class stays there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from requests_app.stores.azure import ids
from requests_app.stores.azure.auth import auth_config_errors
from requests_app.stores.azure.client import AzureRestClient
from requests_app.stores.azure.common import (
    positive_number,
    str_list,
    template_errors,
)
from requests_app.stores.base import (
    LedgerRow,
    TransientStoreError,
)

PAGE = 1000
GROUP_PATHS = {"person": "persongroups", "large_person": "largepersongroups"}
LIST_PATHS = {"face_list_face": "facelists", "large_face_list_face": "largefacelists"}


# resource kind → (path template, parent_ids keys in template order); the resource id fills the last {}.
ROW_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "person": ("persongroups/{}/persons/{}", ("person_group",)),
    "large_person": ("largepersongroups/{}/persons/{}", ("large_person_group",)),
    "persisted_face": ("persongroups/{}/persons/{}/persistedfaces/{}", ("person_group", "person")),
    "large_persisted_face": (
        "largepersongroups/{}/persons/{}/persistedfaces/{}",
        ("large_person_group", "person"),
    ),
    "face_list_face": ("facelists/{}/persistedfaces/{}", ("face_list",)),
    "large_face_list_face": ("largefacelists/{}/persistedfaces/{}", ("large_face_list",)),
    "directory_person": ("persons/{}", ()),
}
# Host apps may name a large group/list by the plain key (kept for rows recorded that way).
PARENT_ALIASES = {"large_person_group": "person_group", "large_face_list": "face_list"}


def parent(parent_ids: dict[str, str], key: str) -> str | None:
    value = parent_ids.get(key)
    if value is None and key in PARENT_ALIASES:
        value = parent_ids.get(PARENT_ALIASES[key])
    return value


def id_errors(resource_kind: str, resource_id: str, parent_ids: dict[str, str]) -> dict[str, list[str]]:
    """What is wrong with a Face ledger row's ids (Face v1.2: GUIDs; group/list ids ``^[a-z0-9-_]{1,64}$``)."""
    errors = ids.problems({"resource_id": ids.guid_problem}, {"resource_id": resource_id})
    _, keys = ROW_PATHS.get(resource_kind, ("", ()))
    for key in keys:
        check = ids.guid_problem if key == "person" else ids.face_container_problem
        value = parent(parent_ids, key)
        errors.update(ids.problems({f"parent_ids.{key}": check}, {f"parent_ids.{key}": value or ""}))
    return errors


@dataclass(frozen=True)
class FaceItem:
    """One thing in Face that can be read and deleted."""

    kind: str
    path: str  # relative to {endpoint}/face/v1.2, every id one quoted segment

    @classmethod
    def from_row(cls, row: LedgerRow) -> FaceItem | None:
        """The row's item; None for a detection (nothing stored); ``UnsafeIdError`` if an id would climb."""
        if row.resource_kind not in ROW_PATHS:
            return None  # "detection": nothing stored
        template, keys = ROW_PATHS[row.resource_kind]
        parents = [parent(row.parent_ids, key) or "" for key in keys]
        return cls(row.resource_kind, ids.item_path(template, *parents, row.resource_id, what="Face id"))


def _safe(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """What Face holds about the person: ids, name and userData (no face images exist to export)."""
    if data is None:
        return None
    return {
        k: v for k, v in data.items() if k in ("personId", "persistedFaceId", "name", "userData", "persistedFaceIds")
    }


def _path(template: str, *values: str) -> str:
    return ids.item_path(template, *values, what="Face id")


def config_errors(config: dict[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    endpoint = config.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        errors.append(
            (
                "endpoint",
                "required: the resource endpoint, e.g. https://<name>.cognitiveservices.azure.com",
            )
        )
    errors += auth_config_errors(config)
    for field in (
        "person_groups",
        "large_person_groups",
        "face_lists",
        "large_face_lists",
        "ledger_accounts",
    ):
        for group in str_list(config, field, errors):
            problem = ids.face_container_problem(group)
            if problem and field != "ledger_accounts":
                errors.append((field, f"{group[:80]!r}: {problem}"))
    if not isinstance(config.get("person_directory", False), bool):
        errors.append(("person_directory", "must be true or false"))
    if not isinstance(config.get("match", "user_id"), str):
        errors.append(("match", "must be an identity kind, e.g. user_id"))
    template_errors("user_data", config.get("user_data"), errors, "user:{user_id}")
    positive_number(config, "max_tps", 10, errors)
    return errors


def wait_operation(client: AzureRestClient, store: str, location: str) -> None:
    """Poll a PersonDirectory deletion (202 + Operation-Location) briefly; still running → retry later."""
    if not location:
        return
    if location.startswith("/face/"):
        location = location.split("/", 3)[3]
    elif location.startswith("/"):
        location = location.lstrip("/")
    for attempt in range(10):
        response = client.send("GET", location, what="deletion status")
        if response.status_code == 404:
            return
        status = str(client.json(response).get("status", "")).lower()
        if status == "succeeded":
            return
        if status == "failed":
            raise TransientStoreError(
                f'store "{store}" (azure_face): Face reported the deletion of a '
                "directory person as failed; retrying later"
            )
        time.sleep(min(0.05 * 2**attempt, 2.0))
    raise TransientStoreError(
        f'store "{store}" (azure_face): a directory person deletion is still running; checking again later',
        retry_after=30,
    )
