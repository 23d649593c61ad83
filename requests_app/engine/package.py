"""The access package: staged per store while exporting, assembled into one ZIP at finish.

Memory stays flat however large the subject: every export task streams its
records into JSON files under ``PORTAL_PRIVATE_ROOT/staging/<request>/<store>/``
(``StagingSink``), and ``build_package`` copies those files into the ZIP in
chunks. Nothing holds a list of rows.

ZIP layout::

    index.html                 readable summary, plain words: by data category, per store,
                               images shown inline, tables the stores file does not cover
    <store>/<table>.html       the rows as a page a person can read (column labels from the stores file)
    <store>/<table>.csv        the same rows for a spreadsheet
    <store>/<table>.json       the same rows, machine-readable (GDPR Art. 20): one JSON array
    <store>/files/...          files found for the subject
    <section>/...              extra sections (see register_section)

The HTML and CSV copies are written from the staged JSON while it is copied,
one line (one record) at a time: memory stays flat for them too.

Extension point — ``register_section(folder, build)``: other parts of the app
add a section from their ``AppConfig.ready()`` (the ledger adds "what this app
sent to Microsoft"); the engine owns the registry and imports none of them.
``build(request, sink) -> dict | None`` gets an ``ExportSink`` writing under
``folder`` in the ZIP (``sink.records(name)`` and ``sink.add_file(arcname,
fileobj)``, streaming). Return ``{"title": ..., "text": ..., "count": n}`` to
get a paragraph in index.html (``text`` is plain words for the requester), or
None to add nothing. Example::

    def sent_to_microsoft(request, sink):
        with sink.records("transmissions") as out:
            for row in ledger_rows(request):
                out.write(row)
        return {"title": "What this app sent to Microsoft", "text": "...", "count": n}

    # in the app's AppConfig.ready():
    package.register_section("microsoft", sent_to_microsoft)
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from requests_app.engine.package_readable import CHUNK, IMAGE_SUFFIXES, META, safe_name, write_readable_copies
from requests_app.engine.package_sinks import ZipSink, staging_root, store_meta, table_meta
from requests_app.stores.base import CATEGORIES, ExportSink, humanise

SectionBuilder = Callable[[Any, ExportSink], "dict[str, Any] | None"]
_SECTIONS: dict[str, SectionBuilder] = {}  # folder → builder, in the order registered


def register_section(folder: str, build: SectionBuilder) -> None:
    """Add a section to every access package, under ``folder`` (once per folder: a second call replaces it)."""
    _SECTIONS[safe_name(folder)] = build


def unregister_section(folder: str) -> None:
    """Leave a section out of the packages built from now on (benchmarks measuring the stores alone)."""
    _SECTIONS.pop(safe_name(folder), None)


def sections() -> list[tuple[str, SectionBuilder]]:
    """The registered sections: (folder, builder)."""
    return list(_SECTIONS.items())


IMAGES_SHOWN_PER_STORE = 60
# Kinds whose data has an obvious category when the stores file declares none.
KIND_CATEGORIES = {"azure_face": "biometric", "azure_speech": "voice"}


def build_package(request: Any, tasks: list[Any]) -> tuple[Path, int, str]:
    """Assemble the ZIP from the staging folders; returns (path, size, sha256)."""
    folder = Path(settings.PORTAL_PRIVATE_ROOT) / "packages"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{request.reference}-{timezone.now():%Y%m%d%H%M%S%f}.zip"
    partial = final.with_suffix(".partial")
    staging = staging_root(request.pk)
    categories: dict[str, list[dict[str, Any]]] = {}
    not_covered = {t.store: (t.detail or {}).get("not_covered", []) for t in tasks if t.phase == "discover"}
    language = request.language or settings.LANGUAGE_CODE
    with (
        zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        translation.override(language),
    ):
        stores = [
            _add_store(archive, staging, task, not_covered.get(task.store, []), categories)
            for task in tasks
            if task.phase == "export"
        ]
        sections = []
        for folder_name, build in _SECTIONS.items():
            summary = build(request, ZipSink(archive, folder_name))
            if summary:
                sections.append({**summary, "folder": folder_name})
        archive.writestr("index.html", _index(request, stores, sections, categories, not_covered))
    digest = hashlib.sha256()
    with open(partial, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    partial.rename(final)
    return final, final.stat().st_size, digest.hexdigest()


def _add_store(
    archive: zipfile.ZipFile,
    staging: Path,
    task: Any,
    gaps: list[dict[str, Any]],
    categories: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """Copy one store's staged files into the ZIP; its entry for index.html (and its categories)."""
    configured = store_meta(task.store)
    folder_name = safe_name(task.store)
    entry: dict[str, Any] = {
        "name": task.store,
        "label": configured.label if configured is not None else humanise(task.store),
        "kind": task.store_kind,
        "tables": [],
        "files": 0,
        "images": [],
        "links": [],  # the other files, to open from the index (first IMAGES_SHOWN_PER_STORE)
        "manual_steps": (task.detail or {}).get("manual_steps", []),
        "not_covered": [g for g in gaps if g.get("rows") != 0],
    }
    _copy_staged_files(archive, staging / folder_name, folder_name, entry)
    for table, count in (task.detail or {}).get("tables", {}).items():
        meta = table_meta(configured, table)
        base = f"{folder_name}/{safe_name(table)}"
        staged = staging / folder_name / f"{safe_name(table)}.json"
        if staged.exists():
            write_readable_copies(archive, staged, base, meta)
        entry["tables"].append(
            {
                "name": table,
                "label": meta["label"] or humanise(table),
                "describe": meta["describe"],
                "rows": count,
                "file": f"{base}.json",
                "html": f"{base}.html" if staged.exists() else "",
                "csv": f"{base}.csv" if staged.exists() else "",
            }
        )
        category = meta["category"] or KIND_CATEGORIES.get(task.store_kind, "")
        if category and count:
            categories.setdefault(category, []).append(
                {"what": meta["label"] or humanise(table), "count": count, "link": f"{base}.html"}
            )
    store_category = getattr(configured, "category", "") or KIND_CATEGORIES.get(task.store_kind, "")
    if store_category and entry["files"]:
        categories.setdefault(store_category, []).append({"what": entry["label"], "count": entry["files"], "link": ""})
    return entry


def _copy_staged_files(archive: zipfile.ZipFile, store_dir: Path, folder_name: str, entry: dict[str, Any]) -> None:
    """The store's staged JSON and files, in chunks; the first images and files listed for the index."""
    if not store_dir.exists():
        return
    for path in sorted(store_dir.rglob("*")):
        relative = path.relative_to(store_dir).as_posix()
        if not path.is_file() or relative.startswith(META + "/"):
            continue
        with open(path, "rb") as src, archive.open(f"{folder_name}/{relative}", "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        if not relative.startswith("files/"):
            continue
        entry["files"] += 1
        if path.suffix.lower() in IMAGE_SUFFIXES and len(entry["images"]) < IMAGES_SHOWN_PER_STORE:
            entry["images"].append(f"{folder_name}/{relative}")
        elif len(entry["links"]) < IMAGES_SHOWN_PER_STORE:
            entry["links"].append({"href": f"{folder_name}/{relative}", "name": relative.removeprefix("files/")})


def _index(
    request: Any,
    stores: list[dict[str, Any]],
    sections: list[dict[str, Any]],
    categories: dict[str, list[dict[str, Any]]],
    not_covered: dict[str, list[dict[str, Any]]],
) -> str:
    """index.html: the readable summary, by data category and per store."""
    now = timezone.localtime(timezone.now())
    return render_to_string(
        "requests_app/package_index.html",
        {
            "request": request,
            "stores": stores,
            "sections": sections,
            "categories": [
                {"name": _(CATEGORIES[key]), "items": items}
                for key, items in sorted(categories.items(), key=lambda kv: list(CATEGORIES).index(kv[0]))
                if key in CATEGORIES
            ],
            "not_covered": [
                {"store": store, **gap} for store, gaps in not_covered.items() for gap in gaps if gap.get("rows") != 0
            ],
            "generated_at": now,
            "generated_on": now.date(),
            "generated_time": now.strftime("%H:%M"),
            "time_zone": now.tzname() or "UTC",
            "app_name": settings.PORTAL_APP_NAME,
            "operator_name": settings.PORTAL_OPERATOR_NAME,
            "operator_contact": settings.PORTAL_OPERATOR_CONTACT,
        },
    )
