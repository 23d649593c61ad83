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

import csv
import hashlib
import json
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape as _escape
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from requests_app.stores.base import CATEGORIES, ExportSink, humanise
from requests_app.stores.sql_export import WITHHELD

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

CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
META = ".meta"  # staging-only folder (column lists, scratch copies); never copied into the ZIP
HTML_ROWS_MAX = 5000  # a page with more rows is not readable; the CSV and JSON have them all
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp")
IMAGES_SHOWN_PER_STORE = 60
# Kinds whose data has an obvious category when the stores file declares none.
KIND_CATEGORIES = {"azure_face": "biometric", "azure_speech": "voice"}


def safe_name(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "data"


def safe_arcname(arcname: str) -> str:
    parts = [
        safe_name(p) for p in PurePosixPath(arcname.replace("\\", "/")).parts if p not in ("", ".", "..", "/")
    ]
    return "/".join(parts) or "file"


def staging_root(request_id: int) -> Path:
    return Path(settings.PORTAL_PRIVATE_ROOT) / "staging" / str(int(request_id))


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


class _JsonArrayWriter:
    """One JSON array, one record per line; with ``readable`` (a staging sink), the CSV and HTML
    rows are written in the same pass once the exporter ``declare``s its columns."""

    def __init__(self, handle, readable: Callable[[list[str]], ReadableWriter] | None = None):
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
        if self.readable is None:
            self.columns.update(dict.fromkeys(record))
        self.handle.write(("[\n" if self.count == 0 else ",\n").encode())
        self.handle.write(_ENCODER.encode(record).encode())
        if self.readable is not None:
            self.readable.write(record)
        self.count += 1

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
    def for_task(cls, task, store: Any = None) -> Iterator[StagingSink]:
        """The sink of an export task; ``store`` (the configured store, looked up if not given)
        lends its table words to the CSV and HTML written in the same pass."""
        folder = staging_root(task.request_id) / safe_name(task.store)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        language = getattr(getattr(task, "request", None), "language", "") or ""
        yield cls(folder, store if store is not None else _store_meta(task.store), language)

    @contextmanager
    def records(self, name: str) -> Iterator[_JsonArrayWriter]:
        stem = safe_name(name)
        path = self.folder / f"{stem}.json"
        scratch = self.folder / META
        scratch.mkdir(exist_ok=True)
        (scratch / f"{stem}.readable.json").unlink(missing_ok=True)

        def readable(columns: list[str]) -> ReadableWriter:
            with translation.override(self.language):
                return ReadableWriter(scratch, stem, _table_meta(self.store, name), columns)

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


def _store_meta(name: str) -> Any:
    """The configured store (for labels and categories), or None if the file no longer has it."""
    from requests_app.stores import registry

    try:
        return registry.get(name)
    except Exception:
        return None


def _table_meta(store: Any, table: str) -> dict[str, Any]:
    describe = getattr(store, "table_meta", None)
    meta = describe(table) if describe else {}
    return {"label": "", "describe": "", "category": "", "columns": {}, "people": [], "hidden": [], **meta}


def column_label(name: str, meta: dict[str, Any]) -> str:
    """The header a person reads: the stores file's label, else the name in words.

    A column holding people's ids loses its "id": "followee_id" → "Followee".
    """
    given = meta.get("columns", {}).get(name, {}).get("label")
    if given:
        return given
    if name in meta.get("people", ()) and name.lower().endswith("_id") and len(name) > 3:
        return humanise(name[:-3])
    return humanise(name)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """Read back a staged JSON array written by _JsonArrayWriter: one record per line."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line in ("", "[", "]", "[]"):
                continue
            record = json.loads(line[:-1] if line.endswith(",") else line)
            if isinstance(record, dict):
                yield record


def _cell(value: Any) -> str:
    if type(value) is str:  # the usual case first: called once per cell
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


_FORMULA_START = frozenset("=+@-\t\r")


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to spreadsheet programs; a leading ' keeps it text.
    if not text or text[0] not in _FORMULA_START:
        return text
    if text[0] != "-" or not _NUMBER.match(text):
        return "'" + text
    return text


_NUMBER = re.compile(r"^-?[0-9]+([.,][0-9]+)?$")


class ReadableWriter:
    """The CSV and the HTML table rows of one table, written record by record to scratch files.

    Used while exporting (the same pass that writes the JSON, see ``_JsonArrayWriter.declare``)
    or, for a sink that did not declare its columns, in one pass over the staged JSON.
    Translated words are looked up once, not per cell.
    """

    def __init__(self, scratch: Path, stem: str, meta: dict[str, Any], names: list[str]):
        hidden = set(meta.get("hidden", ()))
        # The readable copies leave out the table's own internal id; the JSON keeps every column.
        self.names = [n for n in names if n not in hidden]
        self.people = frozenset(meta.get("people", ()))
        self.you, self.other = _("you"), _("another member")
        # Columns naming a file another store carries (``file = "<store>[/folder]"``): the copies
        # point at the file in the package, never at where the host app stores it.
        self.files = {
            name: column["file"]
            for name, column in meta.get("columns", {}).items()
            if isinstance(column, dict) and column.get("file") and name in self.names
        }
        self.csv_path, self.rows_path = scratch / f"{stem}.csv", scratch / f"{stem}.rows.html"
        self.total = 0
        # utf-8 plus one BOM by hand: the utf-8-sig codec runs Python code on every write.
        self._csv_file = open(self.csv_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv_file.write("\ufeff")
        self._rows_file = open(self.rows_path, "w", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow([column_label(name, meta) for name in self.names])

    def _cell(self, name: str, record: dict[str, Any]) -> str:
        if name in self.people:  # a person column left out of the record is the subject
            if name not in record:
                return self.you
            if record[name] == WITHHELD:
                return self.other
        return _cell(record.get(name))

    def write(self, record: dict[str, Any]) -> None:
        people, get = self.people, record.get
        cells = [self._cell(name, record) if name in people else _cell(get(name)) for name in self.names]
        if self.files:
            cells = [self._in_package(name, cell) if name in self.files else cell
                     for name, cell in zip(self.names, cells, strict=True)]
        self._csv.writerow([_spreadsheet_safe(cell) for cell in cells])
        if self.total < HTML_ROWS_MAX:
            # html.escape, not Django's lazy-aware escape: same output, a third of the cost per cell.
            self._rows_file.write("<tr>" + "".join(
                self._file_cell(cell) if name in self.files and cell else f"<td>{_escape(cell)}</td>"
                for name, cell in zip(self.names, cells, strict=True)
            ) + "</tr>\n")
        self.total += 1

    def _in_package(self, name: str, value: str) -> str:
        """Where the file of a ``file`` column is in the ZIP: ``<store>/files/[folder/]<value>``."""
        if not value:
            return ""
        store, _slash, folder = self.files[name].partition("/")
        return f"{safe_name(store)}/files/" + safe_arcname(f"{folder}/{value}" if folder else value)

    @staticmethod
    def _file_cell(path: str) -> str:
        href = _escape("../" + path)
        name = _escape(PurePosixPath(path).name)
        if PurePosixPath(path).suffix.lower() in IMAGE_SUFFIXES:
            return f'<td><a href="{href}"><img src="{href}" alt="{name}" loading="lazy"></a></td>'
        return f'<td><a href="{href}">{name}</a></td>'


    def close(self) -> None:
        self._csv_file.close()
        self._rows_file.close()


def _write_readable_copies(archive: zipfile.ZipFile, source: Path, arcbase: str, meta: dict[str, Any]) -> None:
    """``<arcbase>.csv`` and ``<arcbase>.html`` into the ZIP.

    Usually the export wrote their rows already (``.readable.json`` says so); otherwise one
    streaming pass over the staged JSON writes them. Either way they are scratch files copied
    in chunks (a ZIP takes one open entry at a time).
    """
    scratch = source.parent / META
    scratch.mkdir(exist_ok=True)
    done = scratch / f"{source.stem}.readable.json"
    csv_path, rows_path = scratch / f"{source.stem}.csv", scratch / f"{source.stem}.rows.html"
    if done.exists() and csv_path.exists() and rows_path.exists():
        written = json.loads(done.read_text(encoding="utf-8"))
        names, total = list(written["names"]), int(written["total"])
    else:
        sidecar = scratch / f"{source.stem}.columns.json"
        if sidecar.exists():
            columns = json.loads(sidecar.read_text(encoding="utf-8"))
        else:  # staged by an older version: one extra pass for the header
            seen: dict[str, None] = {}
            for record in _records(source):
                seen.update(dict.fromkeys(record))
            columns = list(seen)
        readable = ReadableWriter(scratch, source.stem, meta, columns)
        try:
            for record in _records(source):
                readable.write(record)
        finally:
            readable.close()
        names, total = readable.names, readable.total
    labels = meta.get("columns", {})
    archive.write(csv_path, f"{arcbase}.csv")
    title = meta.get("label") or humanise(PurePosixPath(arcbase).name)
    head = [
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;line-height:1.5}"
        "table{border-collapse:collapse}th,td{border:1px solid #d6dbe1;padding:.3rem .6rem;"
        "text-align:left;vertical-align:top}td{white-space:pre-wrap}dt{font-weight:600}"
        "td img{max-width:8rem;max-height:8rem}</style>",
        f'</head><body><p><a href="../index.html">← {escape(_("Back to the overview"))}</a></p>',
        f"<h1>{escape(title)}</h1>",
    ]
    if meta.get("describe"):
        head.append(f"<p>{escape(meta['describe'])}</p>")
    described = [(n, labels[n]) for n in names if labels.get(n, {}).get("describe")]
    if described:
        head.append("<dl>")
        for name, column in described:
            head.append(f"<dt>{escape(column_label(name, meta))}</dt><dd>{escape(column['describe'])}</dd>")
        head.append("</dl>")
    if total > HTML_ROWS_MAX:
        head.append(
            "<p>"
            + escape(
                _("This page shows the first %(shown)s of %(total)s entries; the CSV and JSON files have all of them.")
                % {"shown": HTML_ROWS_MAX, "total": total}
            )
            + "</p>"
        )
    head.append("<table><thead><tr>")
    for name in names:
        label = column_label(name, meta)
        head.append(f'<th scope="col" title="{escape(name)}">{escape(label)}</th>')
    head.append("</tr></thead><tbody>\n")
    with archive.open(f"{arcbase}.html", "w", force_zip64=True) as out, open(rows_path, "rb") as rows:
        out.write("".join(head).encode())
        shutil.copyfileobj(rows, out, CHUNK)
        out.write(b"</tbody></table></body></html>\n")
    csv_path.unlink()
    rows_path.unlink()


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
    categories: dict[str, list[dict[str, Any]]] = {}
    not_covered = {
        t.store: (t.detail or {}).get("not_covered", []) for t in tasks if t.phase == "discover"
    }
    language = request.language or settings.LANGUAGE_CODE
    with (
        zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        translation.override(language),
    ):
        for task in tasks:
            if task.phase != "export":
                continue
            configured = _store_meta(task.store)
            folder_name = safe_name(task.store)
            store_dir = staging / folder_name
            entry: dict[str, Any] = {
                "name": task.store,
                "label": configured.label if configured is not None else humanise(task.store),
                "kind": task.store_kind,
                "tables": [],
                "files": 0,
                "images": [],
                "links": [],  # the other files, to open from the index (first IMAGES_SHOWN_PER_STORE)
                "manual_steps": (task.detail or {}).get("manual_steps", []),
                "not_covered": [g for g in not_covered.get(task.store, []) if g.get("rows") != 0],
            }
            if store_dir.exists():
                for path in sorted(store_dir.rglob("*")):
                    if not path.is_file():
                        continue
                    relative = path.relative_to(store_dir).as_posix()
                    if relative.startswith(META + "/"):
                        continue
                    with (
                        open(path, "rb") as src,
                        archive.open(f"{folder_name}/{relative}", "w", force_zip64=True) as dst,
                    ):
                        shutil.copyfileobj(src, dst, CHUNK)
                    if relative.startswith("files/"):
                        entry["files"] += 1
                        if (
                            path.suffix.lower() in IMAGE_SUFFIXES
                            and len(entry["images"]) < IMAGES_SHOWN_PER_STORE
                        ):
                            entry["images"].append(f"{folder_name}/{relative}")
                        elif len(entry["links"]) < IMAGES_SHOWN_PER_STORE:
                            entry["links"].append(
                                {"href": f"{folder_name}/{relative}", "name": relative.removeprefix("files/")}
                            )
            tables = (task.detail or {}).get("tables", {})
            for table, count in tables.items():
                meta = _table_meta(configured, table)
                base = f"{folder_name}/{safe_name(table)}"
                staged = store_dir / f"{safe_name(table)}.json"
                if staged.exists():
                    _write_readable_copies(archive, staged, base, meta)
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
                categories.setdefault(store_category, []).append(
                    {
                        "what": entry["label"],
                        "count": entry["files"],
                        "link": "",
                    }
                )
            stores.append(entry)
        for folder_name, build in _SECTIONS.items():
            summary = build(request, ZipSink(archive, folder_name))
            if summary:
                sections.append({**summary, "folder": folder_name})
        now = timezone.localtime(timezone.now())
        index = render_to_string(
            "requests_app/package_index.html",
            {
                "request": request,
                "stores": stores,
                "sections": sections,
                "categories": [
                    {"name": _(CATEGORIES[key]), "items": items}
                    for key, items in sorted(
                        categories.items(), key=lambda kv: list(CATEGORIES).index(kv[0])
                    )
                    if key in CATEGORIES
                ],
                "not_covered": [
                    {"store": store, **gap}
                    for store, gaps in not_covered.items()
                    for gap in gaps
                    if gap.get("rows") != 0
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
        archive.writestr("index.html", index)
    digest = hashlib.sha256()
    with open(partial, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    partial.rename(final)
    return final, final.stat().st_size, digest.hexdigest()


def remove_staging(request_id: int) -> None:
    shutil.rmtree(staging_root(request_id), ignore_errors=True)
