"""docs/architecture.md names only paths that exist (it drifted once; this keeps it true)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("portal/", "requests_app/", "abuse_app/", "tests/", "templates/", "docs/", "bench/", "static/")


def named_paths(text: str) -> set[str]:
    """Every `code` span that is a repository path (placeholders like <kind> and ::test ids left out)."""
    paths = set()
    for span in re.findall(r"`([^`\s]+)`", text):
        span = span.split("::", 1)[0]
        if span.startswith(ROOTS) and not any(ch in span for ch in "<>*{}"):
            paths.add(span)
    return paths


def exists(name: str) -> bool:
    """A file, a directory, or a module named without ``.py`` (``requests_app/services`` is either)."""
    path = ROOT / name
    return path.exists() or path.with_name(path.name + ".py").exists()


def test_every_path_in_the_architecture_doc_exists():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = named_paths(text)
    assert len(names) > 20  # the check reads the doc's paths at all
    missing = sorted(name for name in names if not exists(name))
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_path_finder_skips_placeholders():
    assert named_paths("`portal/x.py` `requests_app/stores/<kind>.py` `tests/a.py::test_b` `make`") == {
        "portal/x.py",
        "tests/a.py",
    }
