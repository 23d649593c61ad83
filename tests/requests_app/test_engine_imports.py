"""The engine's modules import each other in one direction: the Celery tasks call the engine,
the engine never imports the tasks back (it sends messages by name), and its phase modules
import at the top, so an import circle shows up as an error, not as a hidden late import."""

from __future__ import annotations

import ast
from pathlib import Path

import requests_app.engine

ENGINE = Path(requests_app.engine.__file__).parent
PHASES = ("plan", "dispatch", "execute", "sweep", "local", "callbacks", "retention")


def _imports(tree: ast.AST) -> list[tuple[ast.AST, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node, alias.name) for alias in node.names)
    return found


def test_no_engine_module_imports_the_celery_tasks():
    offenders = [
        path.name
        for path in ENGINE.glob("*.py")
        if path.name != "tasks.py"
        for _, name in _imports(ast.parse(path.read_text()))
        if name.startswith("requests_app.engine.tasks")
    ]
    assert offenders == []


def test_phase_modules_import_project_modules_at_the_top_only():
    late = []
    for phase in PHASES:
        tree = ast.parse((ENGINE / f"{phase}.py").read_text())
        top = set(tree.body)
        for node, name in _imports(tree):
            if node not in top and name.startswith(("requests_app", "portal", "abuse_app")):
                late.append(f"{phase}.py:{node.lineno} {name}")
    assert late == []


def test_the_ledger_does_not_import_the_engine():
    """The engine asks the ledger for rows; the ledger's package section is registered from
    ``RequestsAppConfig.ready()``, so the ledger never needs the engine back."""
    import requests_app.ledger

    folder = Path(requests_app.ledger.__file__).parent
    offenders = [
        f"{path.name}: {name}"
        for path in folder.glob("*.py")
        for _, name in _imports(ast.parse(path.read_text()))
        if name.startswith("requests_app.engine")
    ]
    assert offenders == []


def test_the_ledger_section_is_registered_with_the_package():
    from requests_app import ledger
    from requests_app.engine import package

    assert ("microsoft", ledger.sent_to_microsoft) in package.sections()


def test_the_engine_does_not_import_the_request_services():
    """Services start the engine; the engine never calls them back (the officers' addresses it needs
    live below both, in ``requests_app.staff``), so the two cannot form an import circle."""
    offenders = [
        f"{path.name}: {name}"
        for path in ENGINE.glob("*.py")
        for _, name in _imports(ast.parse(path.read_text()))
        if name.startswith(("requests_app.services", "requests_app.tasks", "requests_app.consent"))
    ]
    assert offenders == []
