"""The privacy-request services stay a package a newcomer can read (issue 25).

Small modules with small functions, and an import graph that runs one way:
the tasks import the services, never the reverse (the services enqueue by
task name, ``requests_app.services.queue``).
"""

import ast
from pathlib import Path

import grimp
import pytest

SERVICES = Path(__file__).resolve().parents[2] / "requests_app" / "services"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("requests_app", "portal", "abuse_app")


def _modules():
    return sorted(SERVICES.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_services_module_is_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines; split it by topic"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_services_functions_are_short(path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_services_import_project_modules_at_the_top(path):
    nested = [
        f"line {node.lineno}"
        for function in ast.walk(ast.parse(path.read_text()))
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert not nested, f"{path.name} imports inside functions ({', '.join(nested)}); import at the top"


def test_services_do_not_import_the_tasks(graph):
    chain = graph.find_shortest_chain(importer="requests_app.services", imported="requests_app.tasks", as_packages=True)
    assert chain is None, f"services reach the tasks module: {' → '.join(chain)}; enqueue by name instead"


def test_transitions_mixin_imports_no_app(graph):
    for app in ("requests_app", "abuse_app"):
        chain = graph.find_shortest_chain(importer="portal.transitions", imported=app, as_packages=True)
        assert chain is None, f"portal.transitions reaches {app}: {' → '.join(chain)}"


def test_the_package_re_exports_nothing():
    """Callers import the topic module (``requests_app.services.intake``…), so a name has one home."""
    body = ast.parse((SERVICES / "__init__.py").read_text()).body
    assert len(body) == 1 and isinstance(body[0], ast.Expr), "requests_app/services/__init__.py: docstring only"


def test_the_engine_has_no_facade():
    assert not (SERVICES.parent / "engine" / "services.py").exists(), "import the engine's phase modules"
