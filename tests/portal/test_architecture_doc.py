"""docs/architecture.md names only paths that exist (issue 25: the map had drifted from the house).

Checked: every backticked file or folder (`portal/config.py`, `stores/base.py`, `tests/fakes/`,
`admin.py`) and every path drawn in the diagrams (requests_app/services.py, abuse_app/services/).
A path relative to a package (`stores/base.py`) must exist under some folder of the repository; a bare
file name (`api.py`) in some production package. Patterns (`stores/<kind>.py`, `*.models`) and URLs
(`/api/v1/`) are not paths and are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
TOP_LEVEL = ("portal", "requests_app", "abuse_app", "tests", "bench", "docs", "templates", "static", "clients")
SKIPPED_DIRS = {".venv", "node_modules", ".git", "var", "__pycache__"}
# A file name: letters, digits, _ - . and / ending in an extension, or a folder ending in "/".
PATH_LIKE = re.compile(r"^[\w.-]+(/[\w.-]+)*(\.(py|md|toml|cfg|ini|yaml|yml|json|txt|html|js|css)|/)$")
WILDCARD = re.compile(r"[<>*…{}]")
DRAWN = re.compile(rf"\b(?:{'|'.join(TOP_LEVEL)})/[\w./-]*")


def _repo_files() -> list[str]:
    found = []
    for path in REPO.rglob("*"):
        if SKIPPED_DIRS.isdisjoint(path.relative_to(REPO).parts):
            found.append(path.relative_to(REPO).as_posix() + ("/" if path.is_dir() else ""))
    return found


def named_paths(text: str) -> list[str]:
    """The file and folder names a Markdown text uses: backticked ones, and those drawn in code blocks."""
    names = []
    for token in re.findall(r"`([^`\n]+)`", text):
        if WILDCARD.search(token) or token.startswith("/") or not PATH_LIKE.match(token):
            continue
        if token.startswith(".") and "/" not in token:  # an extension (`.mo`), not a file
            continue
        names.append(token)
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        names += [m.rstrip(".,") for m in DRAWN.findall(block) if not WILDCARD.search(m)]
    return sorted(set(names))


def exists(name: str, files: list[str]) -> bool:
    if (REPO / name.rstrip("/")).exists():
        return True
    if "/" not in name.rstrip("/"):  # a bare name: `admin.py` of some app
        return any(f.split("/")[0] in TOP_LEVEL and f.rstrip("/").endswith("/" + name.rstrip("/")) for f in files)
    return any(f.endswith("/" + name) for f in files)  # relative to a package: `stores/base.py`


def test_named_paths_finds_backticks_and_drawings_and_skips_patterns():
    text = (
        "Use `portal/config.py`, `stores/base.py`, `tests/fakes/` and `api.py`, not `stores/<kind>.py`,\n"
        "`*.models`, `/api/v1/`, `.mo` or `make lint`.\n```\n  requests_app/services.py, abuse_app/services/\n```\n"
    )
    assert named_paths(text) == [
        "abuse_app/services/",
        "api.py",
        "portal/config.py",
        "requests_app/services.py",
        "stores/base.py",
        "tests/fakes/",
    ]


def test_exists_resolves_relative_and_bare_names_and_refuses_made_up_ones():
    files = _repo_files()
    assert exists("stores/base.py", files)
    assert exists("admin.py", files)
    assert exists("portal/", files)
    assert not exists("stores/nowhere.py", files)
    assert not exists("nowhere.py", files)


@pytest.mark.parametrize("doc", [DOC], ids=lambda p: p.name)
def test_every_path_the_architecture_doc_names_exists(doc):
    files = _repo_files()
    names = named_paths(doc.read_text(encoding="utf-8"))
    assert len(names) > 10, "the parser found almost no paths: has the doc's format changed?"
    missing = [name for name in names if not exists(name, files)]
    assert not missing, f"{doc.relative_to(REPO)} names paths that do not exist: {missing}. Update the doc."
