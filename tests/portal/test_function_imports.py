"""Project modules are imported at the top of a module; a function-level import says why (issue 25).

A function-level import of a project module (portal, requests_app, abuse_app) usually hides an
import circle (tests/portal/test_import_graph.py) or an import-time problem. It is allowed only with
a comment on its line giving the reason (models need the app registry, settings load this module,
a management command loads a heavy module only when it runs); a bare ``# noqa`` is no reason.
Imports under ``if TYPE_CHECKING:`` never run and need no comment.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "requests_app", "abuse_app")

# path → why its function-level imports are not checked yet. The lead removes these at merge.
SKIPPED: dict[str, str] = {}  # none: every production module follows the rule

# Lint and type directives are no reason: noqa, type: ignore[...], pragma: no cover.
_DIRECTIVE = re.compile(r"noqa(:\s*[A-Z0-9, ]+)?|type:\s*ignore(\[[^\]]*\])?|pragma:\s*no\s*cover", re.IGNORECASE)


def _is_project(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] in PACKAGES for alias in node.names)
    return node.level > 0 or (node.module or "").split(".")[0] in PACKAGES


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    """A comment with words besides lint directives on any line of the import statement."""
    for line in lines[node.lineno - 1 : node.end_lineno or node.lineno]:
        if "#" not in line:  # an import statement holds no string, so "#" starts a comment
            continue
        comment = _DIRECTIVE.sub("", line.split("#", 1)[1]).replace("#", "")
        if re.search(r"[A-Za-z]{2}", comment):
            return True
    return False


class _Finder(ast.NodeVisitor):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.in_function = 0
        self.found: list[int] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.in_function += 1
        self.generic_visit(node)
        self.in_function -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):  # never runs: names a type for mypy
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _check(self, node: ast.Import | ast.ImportFrom) -> None:
        if self.in_function and _is_project(node) and not _has_reason(self.lines, node):
            self.found.append(node.lineno)

    visit_Import = visit_ImportFrom = _check


def uncommented(source: str, name: str = "<source>") -> list[int]:
    """Line numbers of function-level project imports that carry no comment saying why."""
    finder = _Finder(source.splitlines())
    finder.visit(ast.parse(source, filename=name))
    return finder.found


def _production_modules() -> list[Path]:
    modules: list[Path] = []
    for package in PACKAGES:
        modules += [p for p in (REPO / package).rglob("*.py") if "migrations" not in p.parts]
    return sorted(modules)


def test_function_level_project_imports_say_why():
    offenders = []
    for path in _production_modules():
        name = path.relative_to(REPO).as_posix()
        if name in SKIPPED:
            continue
        offenders += [f"{name}:{line}" for line in uncommented(path.read_text(encoding="utf-8"), name)]
    assert not offenders, (
        f"Function-level imports of project modules without a reason: {offenders}. Move them to the top "
        "of the module; if that makes an import circle or loads models too early, keep them and add a "
        'same-line comment saying so (e.g. "# models need the app registry; this module loads first").'
    )


def test_the_finder_flags_only_uncommented_function_level_project_imports():
    source = """
from typing import TYPE_CHECKING
import portal.audit
from requests_app import models

if TYPE_CHECKING:
    from abuse_app.models import Case

def f():
    import json
    from django.conf import settings
    from portal import metrics
    from . import sibling
    import abuse_app.services
    from requests_app.models import (  # models need the app registry; settings load this module
        PrivacyRequest,
    )
    from portal import tasks  # noqa: F401
    if TYPE_CHECKING:
        from portal.models import ApiKey
    else:
        from portal import mail

class C:
    async def g(self):
        def inner():
            from abuse_app import tasks  # loads Celery only in the worker
        from abuse_app import tasks
"""
    assert uncommented(source) == [12, 13, 14, 18, 22, 28]


def test_skipped_modules_exist():
    missing = [name for name in SKIPPED if not (REPO / name).is_file()]
    assert not missing, f"SKIPPED names modules that are gone; delete them from SKIPPED: {missing}"
