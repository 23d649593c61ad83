"""Where an export writes: a store's staging folder (``StagingSink``) or straight into the ZIP
(``ZipSink``, for registered package sections). Both stream: one record, one chunk at a time.

Records go into ``PORTAL_PRIVATE_ROOT/staging/<request>/<store>/<name>.json``; a sink
that knows its columns (a SQL cursor) also writes the readable CSV and HTML rows in the
same pass (``package_readable.ReadableWriter``).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.utils import translation

from requests_app.engine.package_readable import CHUNK, META, ReadableWriter, safe_arcname, safe_name
from requests_app.stores import registry


def staging_root(request_id: int) -> Path:
    return Path(settings.PORTAL_PRIVATE_ROOT) / "staging" / str(int(request_id))


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_encode: Callable[[Any], str] = _ENCODER.encode
if c_make_encoder is not None:
    # The C encoder behind _ENCODER.encode, made once (encode() builds a new one per record);
    # no circular check: exported records are flat rows. Same output as _ENCODER.encode.
    _encode_c = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", False, False, True)

    def _encode(record: Any) -> str:
        return "".join(_encode_c(record, 0))


class _JsonArrayWriter:
    """One JSON array, one record per line; with ``readable`` (a staging sink), the CSV and HTML
    rows are written in the same pass once the exporter ``declare``s its columns."""

    def __init__(self, handle: Any, readable: Callable[[list[str]], ReadableWriter] | None = None):
        self.handle = handle
        self.count = 0
        self.columns: dict[str, None] = {}  # every key seen, in order: the CSV/HTML header
        self._readable_factory = readable
        self.readable: ReadableWriter | None = None

    def declare(self, columns: list[str]) -> None:
        """Every key the records will have (a SQL cursor knows them): CSV/HTML are then written now."""
        self.columns.update(dict.fromkeys(columns))
        if self._readable_factory is not None and self.readable is None and self.count == 0:
            self.readable = self._readable_factory(list(columns))

    def write(self, record: dict[str, Any]) -> None:
        self.write_many([record])

    def write_many(self, records: list[dict[str, Any]]) -> None:
        """A chunk of records: one encode call each, one write for the chunk."""
        if not records:
            return
        if self.readable is None:
            for record in records:
                self.columns.update(dict.fromkeys(record))
        text = ",\n".join(map(_encode, records))
        self.handle.write((("[\n" if self.count == 0 else ",\n") + text).encode())
        if self.readable is not None:
            self.readable.write_many(records)
        self.count += len(records)

    def close(self) -> None:
        self.handle.write(b"[]\n" if self.count == 0 else b"\n]\n")
        if self.readable is not None:
            self.readable.close()


class StagingSink:
    """ExportSink writing one store's part of the package to its staging folder.

    Starting an export clears the folder, so a re-run after a crash never duplicates records.
    """

    def __init__(self, folder: Path, store: Any = None, language: str = ""):
        self.folder = folder
        self.counts: dict[str, int] = {}
        self.files = 0
        self.store = store  # the configured store: its table words make the CSV/HTML in the same pass
        self.language = language or settings.LANGUAGE_CODE

    @classmethod
    @contextmanager
    def for_task(cls, task: Any, store: Any = None) -> Iterator[StagingSink]:
        """The sink of an export task; ``store`` (the configured store, looked up if not given)
        lends its table words to the CSV and HTML written in the same pass."""
        folder = staging_root(task.request_id) / safe_name(task.store)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        language = getattr(getattr(task, "request", None), "language", "") or ""
        yield cls(folder, store if store is not None else store_meta(task.store), language)

    @contextmanager
    def records(self, name: str) -> Iterator[_JsonArrayWriter]:
        stem = safe_name(name)
        path = self.folder / f"{stem}.json"
        scratch = self.folder / META
        scratch.mkdir(exist_ok=True)
        (scratch / f"{stem}.readable.json").unlink(missing_ok=True)

        def readable(columns: list[str]) -> ReadableWriter:
            with translation.override(self.language):
                return ReadableWriter(scratch, stem, table_meta(self.store, name), columns)

        with open(path, "wb") as handle:
            writer = _JsonArrayWriter(handle, readable if self.store is not None else None)
            try:
                yield writer
            finally:
                writer.close()
        self.counts[name] = writer.count
        (scratch / f"{stem}.columns.json").write_text(json.dumps(list(writer.columns)), encoding="utf-8")
        if writer.readable is not None:
            # Written last: build_package trusts the scratch CSV/HTML rows only when this is there.
            (scratch / f"{stem}.readable.json").write_text(
                json.dumps({"names": writer.readable.names, "total": writer.readable.total}), encoding="utf-8"
            )

    def add_file(self, arcname: str, fileobj: BinaryIO) -> None:
        target = self.folder / "files" / safe_arcname(arcname)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(fileobj, out, CHUNK)
        self.files += 1


class ZipSink:
    """ExportSink writing straight into an open ZIP under ``prefix/`` (for registered sections)."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str):
        self.archive, self.prefix = archive, safe_name(prefix)

    @contextmanager
    def records(self, name: str) -> Iterator[_JsonArrayWriter]:
        with self.archive.open(f"{self.prefix}/{safe_name(name)}.json", "w", force_zip64=True) as handle:
            writer = _JsonArrayWriter(handle)
            yield writer
            writer.close()

    def add_file(self, arcname: str, fileobj: BinaryIO) -> None:
        with self.archive.open(f"{self.prefix}/files/{safe_arcname(arcname)}", "w", force_zip64=True) as out:
            shutil.copyfileobj(fileobj, out, CHUNK)


def store_meta(name: str) -> Any:
    """The configured store (for labels and categories), or None if the file no longer has it."""
    try:
        return registry.get(name)
    except Exception:
        return None


def table_meta(store: Any, table: str) -> dict[str, Any]:
    describe = getattr(store, "table_meta", None)
    meta = describe(table) if describe else {}
    return {"label": "", "describe": "", "category": "", "columns": {}, "people": [], "hidden": [], **meta}


def remove_staging(request_id: int) -> None:
    shutil.rmtree(staging_root(request_id), ignore_errors=True)
