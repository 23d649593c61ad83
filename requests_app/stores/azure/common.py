"""What the Azure store kinds share: ledger rows, coverage check, tombstones, config helpers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from requests_app import ledger
from requests_app.models import Transmission
from requests_app.stores.azure import ratelimit
from requests_app.stores.base import PermanentStoreError, Store, Subject

PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def placeholders(patterns: Iterable[str]) -> set[str]:
    return {kind for pattern in patterns for kind in PLACEHOLDER_RE.findall(pattern)}


def expand(pattern: str, subject: Subject) -> Iterator[str]:
    """Every string a pattern gives for the subject's identities ("users/{user_id}/" × user ids)."""
    kinds = PLACEHOLDER_RE.findall(pattern)
    if not kinds:
        yield pattern
        return
    choices = [sorted(subject.values(kind)) for kind in kinds]
    for combination in itertools.product(*choices):
        value = pattern
        for kind, item in zip(kinds, combination, strict=True):
            if not item or "/" in item and kind != "blob_name":
                break  # an identity value must not widen a prefix
            value = value.replace("{" + kind + "}", item, 1)
        else:
            yield value


def str_list(config: dict[str, Any], field: str, errors: list[tuple[str, str]]) -> list[str]:
    value = config.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append((field, "must be a list of non-empty strings"))
        return []
    return value


def positive_number(
    config: dict[str, Any], field: str, default: float, errors: list[tuple[str, str]]
) -> float:
    value = config.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        errors.append((field, f"must be a number above 0 (default {default})"))
        return default
    return float(value)


class AzureStore(Store):
    """Base for the Azure kinds. Subclasses set ``services`` and ``account_label``."""

    services: ClassVar[set[str]]
    service_label: ClassVar[str]

    # --- the account this store covers -------------------------------------------------
    def account_values(self) -> list[str]:
        """Config values naming the account (endpoint, storage account, VI account id)."""
        raise NotImplementedError

    def accounts(self) -> set[str]:
        names = [*self.account_values(), *self.config.get("ledger_accounts", [])]
        return {ledger.normalise_account(name) for name in names if name}

    def bucket(self, default_tps: float) -> ratelimit.Bucket:
        tps = float(self.config.get("max_tps", default_tps))
        return ratelimit.bucket_for(
            self.kind, sorted(self.accounts())[0] if self.accounts() else self.name, tps
        )

    # --- ledger ------------------------------------------------------------------------------
    def ledger_rows(self, subject: Subject) -> list[Transmission]:
        """Live ledger rows of the subject that this store deletes; raise for rows no store covers."""
        rows = list(ledger.live_rows(subject.identities, self.services, subject.purpose))
        mine = self.accounts()
        covered = mine | _covered_by_registry(self.kind)
        uncovered = [row for row in rows if ledger.normalise_account(row.account) not in covered]
        if uncovered:
            accounts = sorted({row.account for row in uncovered})
            raise PermanentStoreError(
                f'store "{self.name}" ({self.kind}): {len(uncovered)} ledger item(s) of this subject were '
                f"sent to {self.service_label} account(s) {', '.join(accounts)} that no store covers. "
                f'Add a [[store]] with kind = "{self.kind}" for that account (or list it in '
                '"ledger_accounts" of this store) to the stores file, then retry the request.'
            )
        return [row for row in rows if ledger.normalise_account(row.account) in mine]

    def tombstoned_rows(self, subject: Subject) -> list[Transmission]:
        """Rows of the subject already deleted (their identity is pseudonymised): for verify_gone."""
        pseudonyms = {
            ledger.TOMBSTONE_PREFIX + ledger.tokens.pseudonymise(value)
            for values in subject.identities.values()
            for value in values
        }
        rows = Transmission.objects.filter(
            subject_value__in=list(pseudonyms), service__in=list(self.services), deleted_at__isnull=False
        )
        if subject.request_id:
            rows = rows.filter(deleted_by_task__request_id=subject.request_id)
        if subject.purpose:
            rows = rows.filter(purpose=subject.purpose)
        mine = self.accounts()
        return [row for row in rows.order_by("id") if ledger.normalise_account(row.account) in mine]


def _covered_by_registry(kind: str) -> set[str]:
    from requests_app.stores import registry

    try:
        loaded = registry.load()
    except Exception:  # a broken stores file is reported by check_stores; coverage falls back to this store
        return set()
    covered: set[str] = set()
    for store in loaded.stores:
        if store.kind == kind and isinstance(store, AzureStore):
            covered |= store.accounts()
    return covered
