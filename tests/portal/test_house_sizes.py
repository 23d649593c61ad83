"""No production module a newcomer has to scroll, no function too long to hold in mind (issue 25).

A module over 400 lines or a function over 60 (from ``def`` to its last line, decorators not counted)
fails, unless it is in the allow-lists below: the offenders of the day the rule was set, each with the
reason it is still big. The lists only shrink: split the module or function, then delete its line (a
line that no longer names an offender fails too, so a finished split cannot leave it behind).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("portal", "requests_app", "abuse_app", "clients/python/src")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# path → why it is still over MAX_MODULE_LINES.
MODULES_ALLOWED: dict[str, str] = {}

# "path::function" → why it is still over MAX_FUNCTION_LINES (methods are named without their class).
FUNCTIONS_ALLOWED: dict[str, str] = {}


def _production_modules(repo: Path, roots: tuple[str, ...]) -> list[Path]:
    modules = []
    for root in roots:
        modules += [p for p in (repo / root).rglob("*.py") if "migrations" not in p.parts]
    return sorted(modules)


def _measure(repo: Path = REPO, roots: tuple[str, ...] = PRODUCTION) -> tuple[dict[str, int], dict[str, int]]:
    """Lines of each module over the limit, and of each function over the limit."""
    long_modules: dict[str, int] = {}
    long_functions: dict[str, int] = {}
    for path in _production_modules(repo, roots):
        name = path.relative_to(repo).as_posix()
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            long_modules[name] = lines
        for node in ast.walk(ast.parse(source, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    key = f"{name}::{node.name}"
                    long_functions[key] = max(length, long_functions.get(key, 0))
    return long_modules, long_functions


@pytest.fixture(scope="module")
def measured() -> tuple[dict[str, int], dict[str, int]]:
    return _measure()


def test_production_modules_are_at_most_400_lines(measured):
    long_modules, _ = measured
    new = {name: lines for name, lines in long_modules.items() if name not in MODULES_ALLOWED}
    assert not new, (
        f"Modules over {MAX_MODULE_LINES} lines: {new}. Split them by topic (a package, as "
        "abuse_app/services/); do not add them to MODULES_ALLOWED."
    )


def test_production_functions_are_at_most_60_lines(measured):
    _, long_functions = measured
    new = {name: lines for name, lines in long_functions.items() if name not in FUNCTIONS_ALLOWED}
    assert not new, (
        f"Functions over {MAX_FUNCTION_LINES} lines: {new}. Extract steps into named helpers; do not add "
        "them to FUNCTIONS_ALLOWED."
    )


def test_allow_lists_name_only_current_offenders(measured):
    long_modules, long_functions = measured
    stale = sorted(set(MODULES_ALLOWED) - set(long_modules)) + sorted(set(FUNCTIONS_ALLOWED) - set(long_functions))
    assert not stale, f"Within the limits now (or gone): delete from the allow-lists of {__name__}: {stale}"


def test_measure_counts_a_function_from_def_to_its_last_line(tmp_path):
    app = tmp_path / "app"
    (app / "migrations").mkdir(parents=True)
    body = "    x = 1\n" * 58
    (app / "short.py").write_text(f"@decorator\ndef fits():\n{body}    return x\n")  # 60 lines
    (app / "long.py").write_text(f"def outer():\n{body}    def inner():\n        return 1\n    return x\n")
    (app / "big.py").write_text("x = 1\n" * 401)
    (app / "migrations" / "0001_initial.py").write_text("x = 1\n" * 500)
    assert _measure(tmp_path, ("app",)) == ({"app/big.py": 401}, {"app/long.py::outer": 62})


def test_production_folders_exist():
    assert all((REPO / root).is_dir() for root in PRODUCTION), "PRODUCTION names a folder that does not exist"
