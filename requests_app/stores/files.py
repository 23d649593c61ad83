"""The ``files`` store kind: files and folders under a root, named after the subject's identities.

Configuration (see docs/stores.md)::

    [[store]]
    name = "uploads"
    kind = "files"
    root = "${APP_MEDIA_ROOT}"
    paths = ["avatars/{user_id}/", "voice/{user_id}.wav", "exports/{user_id}-*"]

Each path is relative to ``root`` and templated with identity kinds:

- ending in ``/``: a folder — everything inside it belongs to the subject;
  erasure removes the folder itself too;
- ending in ``*``: a prefix — every file in that folder whose name starts with it;
- otherwise: one file.

An identity value that would leave the root (``..``, ``/``, NUL) is refused:
nothing outside ``root`` is ever read or deleted.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from string import Formatter
from types import TracebackType
from typing import Any

from requests_app.stores.base import (
    CATEGORIES,
    Discovery,
    ExportSink,
    Outcome,
    PermanentStoreError,
    Store,
    Subject,
    TransientStoreError,
)

KIND_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name is not None]


def _safe_value(value: str) -> bool:
    return bool(value) and "/" not in value and "\\" not in value and "\x00" not in value and value not in (".", "..")


def _template_problems(template: Any) -> list[str]:
    """What is wrong with one entry of ``paths`` (nothing: an empty list)."""
    if not isinstance(template, str) or not template.strip():
        return ["must be a non-empty text"]
    try:
        names = _fields(template)
    except ValueError as exc:
        return [f"{template!r}: broken {{placeholder}}: {exc}"]
    problems = []
    if not names:
        problems.append(f"{template!r} names no identity, e.g. {{user_id}}; it would match everyone")
    problems += [
        f"{{{name}}} is not an identity kind (lowercase, e.g. {{user_id}})" for name in names if not KIND_RE.match(name)
    ]
    if template.startswith("/") or ".." in Path(template).parts:
        problems.append(f"{template!r} must stay inside root (no leading / and no ..)")
    if "*" in template[:-1]:
        problems.append("* is allowed only at the very end (a file-name prefix)")
    return problems


class FilesStore(Store):
    kind = "files"

    @classmethod
    def config_errors(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        root = config.get("root")
        if not isinstance(root, str) or not root.strip():
            errors.append(("root", "required: the folder the paths are relative to"))
        paths = config.get("paths")
        if not isinstance(paths, list) or not paths:
            errors.append(("paths", 'required: a list like ["avatars/{user_id}/", "voice/{user_id}.wav"]'))
            paths = []
        for i, template in enumerate(paths):
            errors += [(f"paths[{i}]", message) for message in _template_problems(template)]
        for text_field in ("label",):
            if text_field in config and (not isinstance(config[text_field], str) or len(config[text_field]) > 200):
                errors.append((text_field, "a short text (at most 200 characters)"))
        if "category" in config and (not isinstance(config["category"], str) or config["category"] not in CATEGORIES):
            errors.append(("category", f"{config['category']!r}: use one of {', '.join(CATEGORIES)}"))
        for extra in sorted(set(config) - {"root", "paths", "label", "category"}):
            errors.append((extra, "unknown field; expected root, paths, label, category"))
        return errors

    @property
    def category(self) -> str:
        return str(self.config.get("category", ""))

    @property
    def root(self) -> Path:
        return Path(self.config["root"]).resolve()

    @property
    def needs(self) -> set[str]:
        return {name for template in self.config["paths"] for name in _fields(template)}

    def check_connection(self) -> None:
        root = self.root
        if not root.is_dir():
            raise PermanentStoreError(f'store "{self.name}": root folder {root} does not exist')
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            raise PermanentStoreError(
                f'store "{self.name}": root folder {root} is not readable and writable by the worker\'s user'
            )

    # --- matching ----------------------------------------------------------------
    def _expand(self, subject: Subject) -> Iterator[tuple[str, Path]]:
        """(template, concrete path) for every combination of identity values."""
        root = self.root
        for template in self.config["paths"]:
            names = _fields(template)
            combos: list[dict[str, str]] = [{}]
            for name in names:
                values = sorted(v for v in subject.values(name) if _safe_value(v))
                combos = [{**c, name: v} for c in combos for v in values]
            for combo in combos:
                if len(combo) != len(set(names)):
                    continue
                relative = template.format(**combo)
                candidate = (
                    (root / relative.rstrip("*")).resolve()
                    if not relative.endswith("/")
                    else (root / relative).resolve()
                )
                if candidate != root and root not in candidate.parents:
                    continue
                yield relative, candidate

    def _matches(self, subject: Subject) -> Iterator[tuple[str, Path]]:
        """(kind, path) of everything that exists: "dir" or "file"."""
        seen: set[Path] = set()
        for relative, path in self._expand(subject):
            if relative.endswith("/"):
                if path.is_dir() and path != self.root and path not in seen:
                    seen.add(path)
                    yield "dir", path
            elif relative.endswith("*"):
                prefix = Path(relative[:-1]).name
                folder = path.parent if not relative[:-1].endswith("/") else path
                if folder.is_dir():
                    for entry in sorted(folder.iterdir()):
                        if entry.name.startswith(prefix) and entry not in seen and (entry.is_file() or entry.is_dir()):
                            seen.add(entry)
                            yield ("dir" if entry.is_dir() else "file"), entry
            elif path.is_file() and path not in seen:
                seen.add(path)
                yield "file", path

    def _files(self, subject: Subject) -> Iterator[Path]:
        for kind, path in self._matches(subject):
            if kind == "file":
                yield path
            else:
                for dirpath, _dirs, files in os.walk(path):
                    for name in sorted(files):
                        yield Path(dirpath) / name

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        """Turn OS errors into store errors that tell staff what to fix; a missing file is no error here."""
        try:
            yield
        except PermissionError as exc:
            raise PermanentStoreError(
                f'store "{self.name}": {doing}: permission denied on a file under '
                f"{self.root}; give the worker's user access"
            ) from exc
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise TransientStoreError(f'store "{self.name}": {doing}: {exc.strerror or type(exc).__name__}') from exc

    # --- operations --------------------------------------------------------------
    def discover(self, subject: Subject) -> Discovery:
        self.check_connection()
        with self._guard("discovery"):
            count = 0
            size = 0
            for path in self._files(subject):
                count += 1
                try:
                    size += path.stat().st_size
                except FileNotFoundError:
                    continue
        return Discovery(found=count, counts={"files": count, "bytes": size})

    def export(self, subject: Subject, sink: ExportSink) -> Outcome:
        self.check_connection()
        exported = 0
        with self._guard("export"):
            for path in self._files(subject):
                try:
                    with open(path, "rb") as handle:
                        sink.add_file(path.relative_to(self.root).as_posix(), handle)
                except FileNotFoundError:
                    continue  # deleted meanwhile
                exported += 1
        return Outcome(exported=exported, detail={"files": exported})

    def erase(self, subject: Subject) -> Outcome:
        self.check_connection()
        erased = 0
        with self._guard("erasure"):
            for kind, path in list(self._matches(subject)):
                if kind == "dir":
                    erased += sum(len(files) for _d, _s, files in os.walk(path))
                    shutil.rmtree(path, ignore_errors=False, onerror=_ignore_missing)
                else:
                    try:
                        path.unlink()
                        erased += 1
                    except FileNotFoundError:
                        pass
        return Outcome(erased=erased, detail={"files": erased})


def _ignore_missing(
    function: Callable[..., object], path: str, exc_info: tuple[type[BaseException], BaseException, TracebackType]
) -> None:
    if not issubclass(exc_info[0], FileNotFoundError):
        raise exc_info[1]
