"""The readable copies of a package's tables: a CSV and an HTML page per table, from its records.

Written while exporting (a sink that declares its columns) or in one pass over the
staged JSON; one record at a time, so memory stays flat. Also the package's small
naming helpers (``safe_name``, ``safe_arcname``) every part of it uses.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from html import escape as _escape
from itertools import islice
from operator import methodcaller
from pathlib import Path, PurePosixPath
from typing import Any

from django.utils.html import escape
from django.utils.translation import gettext as _

from requests_app.stores.base import humanise
from requests_app.stores.sql_export import WITHHELD

CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
META = ".meta"  # staging-only folder (column lists, scratch copies); never copied into the ZIP
HTML_ROWS_MAX = 5000  # a page with more rows is not readable; the CSV and JSON have them all
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".bmp")


def safe_name(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "data"


def safe_arcname(arcname: str) -> str:
    parts = [safe_name(p) for p in PurePosixPath(arcname.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    return "/".join(parts) or "file"


def column_label(name: str, meta: dict[str, Any]) -> str:
    """The header a person reads: the stores file's label, else the name in words.

    A column holding people's ids loses its "id": "followee_id" → "Followee".
    """
    given = meta.get("columns", {}).get(name, {}).get("label")
    if given:
        return str(given)
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
_starts_formula = methodcaller("startswith", tuple(_FORMULA_START))


def _spreadsheet_safe_column(cells: list[str]) -> list[str]:
    """``_spreadsheet_safe`` over a column, called per cell only when some cell needs a look."""
    if any(map(_starts_formula, cells)):
        return [_spreadsheet_safe(cell) for cell in cells]
    return cells


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
        self.write_many([record])

    def write_many(self, records: list[dict[str, Any]]) -> None:
        """A chunk of records, column by column: their CSV rows in one call, their HTML rows while
        the page has room."""
        if not records:
            return
        columns = [self._column(name, records) for name in self.names]
        self._csv.writerows(zip(*(_spreadsheet_safe_column(cells) for cells in columns), strict=True))
        room = max(0, HTML_ROWS_MAX - self.total)
        if room:
            self._rows_file.write("".join(map(self._html_row, islice(zip(*columns, strict=True), room))))
        self.total += len(records)

    def _column(self, name: str, records: list[dict[str, Any]]) -> list[str]:
        """One column of a chunk as text (the usual all-text or all-integer column without a call per cell)."""
        if name in self.people:
            cells = [self._cell(name, record) for record in records]
        else:
            values = list(map(methodcaller("get", name), records))
            kinds = set(map(type, values))
            if kinds == {str}:
                cells = values
            elif kinds == {int}:
                cells = list(map(str, values))
            else:
                cells = list(map(_cell, values))
        if name in self.files:
            cells = [self._in_package(name, cell) for cell in cells]
        return cells

    def _html_row(self, cells: Sequence[str]) -> str:
        # html.escape, not Django's lazy-aware escape: same output, a third of the cost per cell.
        return (
            "<tr>"
            + "".join(
                self._file_cell(cell) if name in self.files and cell else f"<td>{_escape(cell)}</td>"
                for name, cell in zip(self.names, cells, strict=True)
            )
            + "</tr>\n"
        )

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


def write_readable_copies(archive: zipfile.ZipFile, source: Path, arcbase: str, meta: dict[str, Any]) -> None:
    """``<arcbase>.csv`` and ``<arcbase>.html`` into the ZIP.

    Usually the export wrote their rows already (``.readable.json`` says so); otherwise one
    streaming pass over the staged JSON writes them. Either way they are scratch files copied
    in chunks (a ZIP takes one open entry at a time).
    """
    scratch = source.parent / META
    scratch.mkdir(exist_ok=True)
    csv_path, rows_path = scratch / f"{source.stem}.csv", scratch / f"{source.stem}.rows.html"
    names, total = _scratch_rows(source, scratch, meta, csv_path, rows_path)
    archive.write(csv_path, f"{arcbase}.csv")
    head = _page_head(arcbase, meta, names, total)
    with archive.open(f"{arcbase}.html", "w", force_zip64=True) as out, open(rows_path, "rb") as rows:
        out.write("".join(head).encode())
        shutil.copyfileobj(rows, out, CHUNK)
        out.write(b"</tbody></table></body></html>\n")
    csv_path.unlink()
    rows_path.unlink()


def _scratch_rows(
    source: Path, scratch: Path, meta: dict[str, Any], csv_path: Path, rows_path: Path
) -> tuple[list[str], int]:
    """The scratch CSV and HTML rows (written by the export, or now from the JSON): (columns, rows)."""
    done = scratch / f"{source.stem}.readable.json"
    if done.exists() and csv_path.exists() and rows_path.exists():
        written = json.loads(done.read_text(encoding="utf-8"))
        return list(written["names"]), int(written["total"])
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
    return readable.names, readable.total


def _page_head(arcbase: str, meta: dict[str, Any], names: list[str], total: int) -> list[str]:
    """The HTML page up to its first row: title, descriptions, the note on long tables, the header."""
    labels = meta.get("columns", {})
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
    return head
