"""Load the operator's stores file (TOML), interpolate ``${VAR}``, validate, build stores.

Errors name the file, the store and the field::

    stores.toml: store "app-db" (sql): field "url": ${APP_DATABASE_URL} is not set

The file is re-read when it changes (mtime), so ``check_stores`` and
``/healthz`` always judge what is on disk.
"""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from requests_app.stores.base import Store

# kind → "module.Class"; one module per kind.
KINDS: dict[str, str] = {
    "sql": "requests_app.stores.sql.SqlStore",
    "files": "requests_app.stores.files.FilesStore",
    "webhook": "requests_app.stores.webhook.WebhookStore",
    "azure_blob": "requests_app.stores.azure.blob.AzureBlobStore",
    "azure_face": "requests_app.stores.azure.face.AzureFaceStore",
    "azure_video_indexer": "requests_app.stores.azure.video_indexer.AzureVideoIndexerStore",
    "azure_speech": "requests_app.stores.azure.speech.AzureSpeechStore",
    "azure_ledger": "requests_app.stores.azure.ledger.AzureLedgerStore",
}

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,62}$")
VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class StoresConfigError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Loaded:
    stores: list[Store]
    errors: list[str]
    extra: dict[str, Any]  # other top-level tables (e.g. [[retention]]) for the engine


_cache: dict[str, tuple[float, Loaded]] = {}


def store_class(kind: str) -> type[Store]:
    module_name, _, class_name = KINDS[kind].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Store)):
        raise TypeError(f'store kind "{kind}": {KINDS[kind]} is not a Store subclass')
    return cls


def kind_for_service() -> dict[str, str]:
    """Ledger service → the store kind that deletes its rows (each kind declares its ``services``)."""
    found: dict[str, str] = {}
    for kind in KINDS:
        cls = store_class(kind)
        if not cls.ledger_catch_all:
            found.update(dict.fromkeys(cls.services, kind))
    return found


def resource_kinds() -> dict[str, frozenset[str]]:
    """Ledger service → the resource kinds its rows may have, as the store kinds declare them."""
    found: dict[str, frozenset[str]] = {}
    for kind in KINDS:
        for service, kinds in store_class(kind).resource_kinds.items():
            found[service] = found.get(service, frozenset()) | kinds
    return found


def retention_kinds() -> list[str]:
    """The store kinds that can run ``[[retention]]`` policies (``Store.runs_retention``)."""
    return sorted(kind for kind in KINDS if store_class(kind).runs_retention)


LEDGER_KIND = "azure_ledger"
LEDGER_NAME = "azure-ledger"


def with_ledger_store(stores: list[Store]) -> list[Store]:
    """The stores plus the catch-all ledger store when the file names none: ledger rows are always honoured."""
    if any(store.ledger_catch_all for store in stores):
        return stores
    names = {store.name for store in stores}
    name = LEDGER_NAME if LEDGER_NAME not in names else LEDGER_NAME + "-auto"
    return [*stores, store_class(LEDGER_KIND)(name, {})]


def _interpolate(value: Any, missing: list[str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name: str = match.group(1)
            default: str | None = match.group(2)
            whole: str = match.group(0)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            missing.append(name)
            return whole

        return VAR_RE.sub(replace, value)
    if isinstance(value, list):
        return [_interpolate(item, missing) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, missing) for key, item in value.items()}
    return value


def parse(text: str, source: str) -> Loaded:
    """Parse and validate stores-file text; ``source`` is the file name used in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Loaded([], [f"{source}: not valid TOML: {exc}"], {})
    errors: list[str] = []
    stores: list[Store] = []
    tables = data.pop("store", [])
    if not isinstance(tables, list):
        return Loaded([], [f"{source}: 'store' must be an array of tables: write [[store]], not [store]"], {})
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        store, problems = _store_from_table(table, index, source, seen)
        errors += problems
        if store is not None:
            stores.append(store)
    errors.extend(_dependency_errors(stores, source))
    return Loaded(with_ledger_store(stores), errors, data)


def _store_from_table(table: Any, index: int, source: str, seen: set[str]) -> tuple[Store | None, list[str]]:
    """One [[store]] table as a store, or the messages that say why it is not one (``seen``: names so far)."""
    if not isinstance(table, dict):
        return None, [f"{source}: store #{index}: must be a table: write [[store]] with name = … and kind = …"]
    name = table.get("name")
    label = f'store "{name}"' if isinstance(name, str) and name else f"store #{index}"
    kind = table.get("kind")
    if not isinstance(name, str) or not NAME_RE.match(name):
        return None, [f'{source}: {label}: field "name": required; lowercase letters, digits, - and _']
    if name in seen:
        return None, [f'{source}: {label}: field "name": used by another store; names must be unique']
    seen.add(name)
    if kind not in KINDS:
        return None, [f'{source}: {label}: field "kind": {kind!r} is not one of {", ".join(sorted(KINDS))}']
    label = f'store "{name}" ({kind})'
    missing: list[str] = []
    config = _interpolate({k: v for k, v in table.items() if k not in ("name", "kind")}, missing)
    if missing:
        return None, [
            f'{source}: {label}: field "{_field_using(table, var)}": ${{{var}}} is not set in the environment'
            for var in dict.fromkeys(missing)
        ]
    cls = store_class(kind)
    # Every kind takes ``label``: the words of the access package for this store.
    words = config.pop("label", None)
    if words is not None and (not isinstance(words, str) or not words.strip() or len(words) > 200):
        return None, [f'{source}: {label}: field "label": a short text (at most 200 characters)']
    try:
        problems = cls.config_errors(config)
    except Exception:  # a kind's validator tripping over a value of the wrong type (a number for a URL)
        odd = [key for key, value in config.items() if not isinstance(value, str | list | dict)]
        problems = [
            (
                odd[0] if odd else "?",
                "has the wrong type; write text in quotes (see the example stores file in docs/examples/stores.toml)",
            )
        ]
    if problems:
        return None, [f'{source}: {label}: field "{field}": {message}' for field, message in problems]
    return cls(name, {**config, "label": words.strip()} if words else config), []


def _field_using(table: dict[str, Any], var: str, prefix: str = "") -> str:
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, str) and "${" + var in value:
            return path
        if isinstance(value, dict):
            found = _field_using(value, var, path + ".")
            if found:
                return found
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str) and "${" + var in item:
                    return f"{path}[{i}]"
                if isinstance(item, dict):
                    found = _field_using(item, var, f"{path}[{i}].")
                    if found:
                        return found
    return prefix.rstrip(".") or "?"


def identity_kinds_from_requests() -> set[str]:
    """What every request can bring: the e-mail, and each identifier the form asks for."""
    return {"email", *getattr(settings, "PORTAL_EXTRA_IDENTIFIERS", [])}


def _dependency_errors(stores: list[Store], source: str) -> list[str]:
    available = identity_kinds_from_requests() | set().union(*(s.provides for s in stores))
    errors = []
    for store in stores:
        unknown = store.needs - available
        if unknown:
            errors.append(
                f'{source}: store "{store.name}" ({store.kind}): needs identity kind(s) '
                f"{', '.join(sorted(unknown))} that no store provides and the request form does not ask "
                f'for (add a "provides" mapping, add the kind to PORTAL_EXTRA_IDENTIFIERS, or fix the name)'
            )
    return errors


def discovery_dependencies(stores: Iterable[Store]) -> dict[str, set[str]]:
    """Store name → the other stores whose discovery must come first.

    A store waits for the providers of the kinds it uses. A store that is handed ledger rows
    also waits for every other store that provides identities: the ledger names subjects by
    any kind (user_id, email...), so its discovery counts what the request will erase.
    The engine hands out a store's discovery once these are done; ``discovery_order`` lines the
    stores up for a run in one process. Pure: no I/O.
    """
    stores = list(stores)
    providers: dict[str, set[str]] = {}
    for store in stores:
        for kind in store.provides:
            providers.setdefault(kind, set()).add(store.name)

    def reads_ledger(store: Store) -> bool:
        return bool(store.services) or store.ledger_catch_all

    identity_sources = {store.name for store in stores if store.provides and not reads_ledger(store)}
    return {
        store.name: (
            set[str]().union(*(providers.get(kind, set()) for kind in store.uses))
            | (identity_sources if reads_ledger(store) else set())
        )
        - {store.name}
        for store in stores
    }


def discovery_order(stores: list[Store]) -> list[Store]:
    """The stores, each after those it depends on; a circle is broken at the first store left."""
    dependencies = discovery_dependencies(stores)
    pending = list(stores)
    ordered: list[Store] = []
    while pending:
        waiting = {store.name for store in pending}
        ready = [store for store in pending if not dependencies[store.name] & waiting] or pending[:1]
        for store in ready:
            pending.remove(store)
            ordered.append(store)
    return ordered


def load(path: str | os.PathLike[str] | None = None) -> Loaded:
    path = Path(path or settings.PORTAL_STORES_FILE)
    # The identifiers the form asks for are part of what makes a file valid.
    key = f"{path}|{','.join(sorted(identity_kinds_from_requests()))}"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return Loaded([], [f"{path}: stores file not found (set PORTAL_STORES_FILE)"], {})
    cached = _cache.get(key)
    if cached and cached[0] == mtime:
        return cached[1]
    loaded = parse(path.read_text(encoding="utf-8"), path.name)
    _cache[key] = (mtime, loaded)
    return loaded


def coverage_warnings(loaded: Loaded) -> list[str]:
    """Tables that may hold personal data but are in no store (connects to every sql store).

    ``store "app-db" (sql): billing_invoice.user_id references accounts_user.id but is not declared``
    A store that cannot be reached gives no warning here: check_connection reports it.
    """
    warnings: list[str] = []
    for store in loaded.stores:
        gaps = getattr(store, "coverage_messages", None)
        if gaps is None:
            continue
        try:
            warnings.extend(f'store "{store.name}" ({store.kind}): {message}' for message in gaps())
        except Exception:  # noqa: S112 - unreachable stores are check_connection's to report
            continue
    return warnings


_coverage_cache: dict[str, tuple[float, float, list[str]]] = {}
COVERAGE_CACHE_SECONDS = 300


def cached_coverage_warnings(path: str | os.PathLike[str] | None = None) -> list[str]:
    """coverage_warnings for /healthz: at most one look at the databases every five minutes."""
    import time

    path = Path(path or settings.PORTAL_STORES_FILE)
    loaded = load(path)
    if loaded.errors:
        return []
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return []
    now = time.monotonic()
    cached = _coverage_cache.get(str(path))
    if cached and cached[0] == mtime and now - cached[1] < COVERAGE_CACHE_SECONDS:
        return cached[2]
    warnings = coverage_warnings(loaded)
    _coverage_cache[str(path)] = (mtime, now, warnings)
    return warnings


def config_errors(path: str | os.PathLike[str] | None = None) -> list[str]:
    return load(path).errors


def stores(path: str | os.PathLike[str] | None = None) -> list[Store]:
    loaded = load(path)
    if loaded.errors:
        raise StoresConfigError(loaded.errors)
    return loaded.stores


def get(name: str) -> Store:
    for store in stores():
        if store.name == name:
            return store
    raise KeyError(f'no store named "{name}" in {settings.PORTAL_STORES_FILE}')
