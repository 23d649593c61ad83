"""The access package: staged per store while exporting, assembled into one ZIP at finish.

Memory stays flat however large the subject: every export task streams its
records into JSON files under ``PORTAL_PRIVATE_ROOT/staging/<request>/<store>/``
(``StagingSink``), and ``build_package`` copies those files into the ZIP in
chunks. Nothing holds a list of rows.

ZIP layout::

    index.html                 readable summary, plain words
    <store>/<table>.json       one JSON array per store table (rows with column names)
    <store>/files/...          files found for the subject
    <section>/...              extra sections (see PACKAGE_SECTIONS)

Extension point — ``PACKAGE_SECTIONS``: a list of callables
``section(request, sink) -> dict | None`` appended to by other parts of the app
(the Azure ledger adds "what this app sent to Microsoft"). ``sink`` is an
``ExportSink`` writing under the section's folder in the ZIP (``sink.records(name)``
and ``sink.add_file(arcname, fileobj)``, streaming). Return
``{"title": ..., "text": ..., "count": n}`` to get a paragraph in index.html
(``text`` is plain words for the requester), or None to add nothing. Set a
``folder`` attribute on the callable to choose the folder name (default: its
``__name__``). Example::

    from requests_app.engine.package import PACKAGE_SECTIONS

    def sent_to_microsoft(request, sink):
        with sink.records("transmissions") as out:
            for row in ledger_rows(request):
                out.write(row)
        return {"title": "What this app sent to Microsoft", "text": "...", "count": n}

    sent_to_microsoft.folder = "microsoft"
    PACKAGE_SECTIONS.append(sent_to_microsoft)
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

PackageSection = Callable[[Any, Any], "dict[str, Any] | None"]
PACKAGE_SECTIONS: list[PackageSection] = []

CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "data"


def safe_arcname(arcname: str) -> str:
    parts = [
        safe_name(p) for p in PurePosixPath(arcname.replace("\\", "/")).parts if p not in ("", ".", "..", "/")
    ]
    return "/".join(parts) or "file"


def staging_root(request_id: int) -> Path:
    return Path(settings.PORTAL_PRIVATE_ROOT) / "staging" / str(int(request_id))


class _JsonArrayWriter:
    def __init__(self, handle):
        self.handle = handle
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self.handle.write(("[\n" if self.count == 0 else ",\n").encode())
        self.handle.write(json.dumps(record, ensure_ascii=False, default=str).encode())
        self.count += 1

    def close(self) -> None:
        self.handle.write(b"[]\n" if self.count == 0 else b"\n]\n")


class StagingSink:
    """ExportSink writing one store's part of the package to its staging folder.

    Starting an export clears the folder, so a re-run after a crash never duplicates records.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.counts: dict[str, int] = {}
        self.files = 0

    @classmethod
    @contextmanager
    def for_task(cls, task) -> Iterator[StagingSink]:
        folder = staging_root(task.request_id) / safe_name(task.store)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        yield cls(folder)

    @contextmanager
    def records(self, name: str) -> Iterator[_JsonArrayWriter]:
        path = self.folder / f"{safe_name(name)}.json"
        with open(path, "wb") as handle:
            writer = _JsonArrayWriter(handle)
            yield writer
            writer.close()
        self.counts[name] = writer.count

    def add_file(self, arcname: str, fileobj: BinaryIO) -> None:
        target = self.folder / "files" / safe_arcname(arcname)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            shutil.copyfileobj(fileobj, out, CHUNK)
        self.files += 1


class ZipSink:
    """ExportSink writing straight into an open ZIP under ``prefix/`` (for PACKAGE_SECTIONS)."""

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


def build_package(request, tasks) -> tuple[Path, int, str]:
    """Assemble the ZIP from the staging folders; returns (path, size, sha256)."""
    root = Path(settings.PORTAL_PRIVATE_ROOT)
    folder = root / "packages"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{request.reference}-{timezone.now():%Y%m%d%H%M%S%f}.zip"
    partial = final.with_suffix(".partial")
    staging = staging_root(request.pk)
    stores: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for task in tasks:
            if task.phase != "export":
                continue
            store_dir = staging / safe_name(task.store)
            entry: dict[str, Any] = {
                "name": task.store,
                "kind": task.store_kind,
                "tables": [],
                "files": 0,
                "manual_steps": (task.detail or {}).get("manual_steps", []),
            }
            if store_dir.exists():
                for path in sorted(store_dir.rglob("*")):
                    if not path.is_file():
                        continue
                    relative = path.relative_to(store_dir).as_posix()
                    with (
                        open(path, "rb") as src,
                        archive.open(f"{safe_name(task.store)}/{relative}", "w", force_zip64=True) as dst,
                    ):
                        shutil.copyfileobj(src, dst, CHUNK)
                    if relative.startswith("files/"):
                        entry["files"] += 1
            tables = (task.detail or {}).get("tables", {})
            for table, count in tables.items():
                entry["tables"].append(
                    {"name": table, "rows": count, "file": f"{safe_name(task.store)}/{safe_name(table)}.json"}
                )
            stores.append(entry)
        for section in PACKAGE_SECTIONS:
            folder_name = getattr(section, "folder", getattr(section, "__name__", "section"))
            summary = section(request, ZipSink(archive, folder_name))
            if summary:
                sections.append({**summary, "folder": safe_name(folder_name)})
        with translation.override(request.language or settings.LANGUAGE_CODE):
            index = render_to_string(
                "requests_app/package_index.html",
                {
                    "request": request,
                    "stores": stores,
                    "sections": sections,
                    "generated_at": timezone.now(),
                    "app_name": settings.PORTAL_APP_NAME,
                    "operator_name": settings.PORTAL_OPERATOR_NAME,
                    "operator_contact": settings.PORTAL_OPERATOR_CONTACT,
                },
            )
        archive.writestr("index.html", index)
    digest = hashlib.sha256()
    with open(partial, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    partial.rename(final)
    return final, final.stat().st_size, digest.hexdigest()


def remove_staging(request_id: int) -> None:
    shutil.rmtree(staging_root(request_id), ignore_errors=True)
