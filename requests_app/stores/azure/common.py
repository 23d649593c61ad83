"""What the Azure store kinds share: account names, the rate-limit bucket, config and pattern helpers."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from requests_app.stores.azure import ids, ratelimit
from requests_app.stores.base import LedgerRow, LeftItem, Outcome, Store, Subject

T = TypeVar("T")

PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
TEMPLATE_PIECE_RE = re.compile(r"(\{[a-z][a-z0-9_]*\}|\*)")


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


def template_matches(template: str, value: str | None, subject: Subject) -> bool:
    """Whether ``value`` is what ``template`` gives for one of the subject's identities.

    Templates are the host app's own formats: ``{kind}`` stands for an identity
    of the subject, ``*`` for any text (``"user:{user_id}"`` matches
    ``user:42``; ``"user-{user_id}-*"`` matches ``user-42-holiday.mp4``, never
    ``user-420-…``).
    """
    if not value:
        return False
    pieces = TEMPLATE_PIECE_RE.split(template)
    kinds = PLACEHOLDER_RE.findall(template)
    for combination in itertools.product(*(sorted(subject.values(kind)) for kind in kinds)):
        values = iter(combination)
        regex = ""
        for piece in pieces:
            if piece == "*":
                regex += ".*"
            elif PLACEHOLDER_RE.fullmatch(piece):
                item = next(values)
                if not item:
                    break
                regex += re.escape(item)  # an identity is matched literally, "*" in it included
            else:
                regex += re.escape(piece)
        else:
            if re.fullmatch(regex, value, re.S):
                return True
    return False


def template_identity(template: str, value: str | None) -> tuple[str, str] | None:
    """The (identity kind, value) a template reads out of ``value``, e.g. ("user_id", "42") from "user:42"."""
    if not value:
        return None
    kinds = PLACEHOLDER_RE.findall(template)
    if len(kinds) != 1:
        return None  # a scan reads one identity per pattern
    regex = ""
    for piece in TEMPLATE_PIECE_RE.split(template):
        if piece == "*":
            regex += ".*"
        elif PLACEHOLDER_RE.fullmatch(piece):
            regex += "(?P<identity>[^/]+?)"
        else:
            regex += re.escape(piece)
    match = re.fullmatch(regex, value, re.S)
    return (kinds[0], match.group("identity")) if match else None


def template_errors(field: str, value: Any, errors: list[tuple[str, str]], example: str) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not placeholders([value]):
        errors.append((field, f"must be a template naming an identity, e.g. {example!r}"))


def str_list(config: dict[str, Any], field: str, errors: list[tuple[str, str]]) -> list[str]:
    value = config.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors.append((field, "must be a list of non-empty strings"))
        return []
    return value


def positive_number(config: dict[str, Any], field: str, default: float, errors: list[tuple[str, str]]) -> float:
    value = config.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        errors.append((field, f"must be a number above 0 (default {default})"))
        return default
    return float(value)


def normalise_account(value: str) -> str:
    """Compare accounts loosely: ``https://x.example.com/`` is ``x.example.com``.

    Storage accounts: ``https://acct.blob.core.windows.net`` → ``acct``; Azurite's
    ``http://127.0.0.1:10000/devstoreaccount1`` → ``devstoreaccount1``.
    """
    value = (value or "").strip().lower()
    if "://" not in value:
        value = "//" + value
    parts = urlsplit(value)
    host = parts.netloc
    if ".blob.core." in host:
        return host.split(".", 1)[0]
    path = parts.path.strip("/")
    if path and parts.hostname in ("127.0.0.1", "localhost") and not path.startswith(("face", "speechtotext")):
        return path.split("/")[0]
    return host or path


class AzureStore(Store):
    """Base for the Azure kinds. Subclasses set ``services`` (ledger services) and ``service_label``.

    The engine hands every Azure store the live ledger rows of the subject for
    its services and accounts (``Subject.ledger``) and writes the tombstones
    from ``Outcome.ledger``; rows of an account no store covers go to the
    catch-all ledger store, which reports them as left.
    """

    queue: ClassVar[str] = "azure"
    service_label: ClassVar[str]

    # --- the account this store covers -------------------------------------------------
    def account_values(self) -> list[str]:
        """Config values naming the account (endpoint, storage account, VI account id)."""
        raise NotImplementedError

    def accounts(self) -> set[str]:
        names = [*self.account_values(), *self.config.get("ledger_accounts", [])]
        return {normalise_account(name) for name in names if name}

    def bucket(self, default_tps: float) -> ratelimit.Bucket:
        tps = float(self.config.get("max_tps", default_tps))
        return ratelimit.bucket_for(self.kind, sorted(self.accounts())[0] if self.accounts() else self.name, tps)


UNSAFE_WHY = (
    "the ledger row's id would reach outside its item in Azure (or is not an id Azure issues), so no "
    "request was sent for it; check what the host app recorded, correct or delete the row, then retry"
)


def split_unsafe(
    rows: Iterable[LedgerRow], build: Callable[[LedgerRow], T]
) -> tuple[list[tuple[LedgerRow, T]], list[tuple[LedgerRow, str]]]:
    """Build each row's item; rows whose ids cannot stay inside their item are set apart with why."""
    safe: list[tuple[LedgerRow, T]] = []
    unsafe: list[tuple[LedgerRow, str]] = []
    for row in rows:
        try:
            safe.append((row, build(row)))
        except ids.UnsafeIdError as exc:
            unsafe.append((row, str(exc)))
    return safe, unsafe


def report_unsafe(outcome: Outcome, unsafe: list[tuple[LedgerRow, str]]) -> None:
    """Ledger rows never sent to Azure: failed (kept live) and left, so the request is never "completed"."""
    if not unsafe:
        return
    for row, reason in unsafe:
        outcome.ledger.failed[row.id] = f"{UNSAFE_WHY} ({reason})"
    outcome.left.append(
        LeftItem(
            what=f"{len(unsafe)} ledger item(s) with an id that is not safe to send",
            ids=tuple(f"{row.resource_kind} {row.resource_id[:80]!r}" for row, _ in unsafe),
            why=UNSAFE_WHY,
        )
    )
    outcome.detail["ledger_unsafe_ids"] = len(unsafe)


def without_unsafe(subject: Subject, build: Callable[[LedgerRow], Any]) -> Subject:
    """The subject for ``verify_gone``: rows with unsafe ids were never sent, and erase reported them as left.

    Counting them again as "still there" would only turn the clear "left: ids not safe to send"
    into a vaguer verify failure.
    """
    return dataclasses.replace(
        subject,
        ledger=[row for row, _ in split_unsafe(subject.ledger, build)[0]],
        erased_ledger=[row for row, _ in split_unsafe(subject.erased_ledger, build)[0]],
    )
