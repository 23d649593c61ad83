"""docs/architecture.md names only paths that exist (issue 25: the map had drifted from the house).

Checked: every backticked file or folder (`portal/config.py`, `stores/base.py`, `tests/fakes/`,
`admin.py`) and every path drawn in the diagrams (requests_app/services.py, abuse_app/services/).
A path relative to a package (`stores/base.py`) must exist under some folder of the repository; a bare
file name (`api.py`) in some production package. Patterns (`stores/<kind>.py`, `*.models`) and URLs
(`/api/v1/`) are not paths and are skipped.

Also checked: every backticked dotted name of the code, arguments dropped — a module and what it
defines (`portal.health.register(name, probe)`, `requests_app.engine.dispatch`), one relative to a
package (`stores.registry`, `registry.KINDS`: some module of the three packages ending so), or a
model's attribute (`StoreTask.start_attempt`). Other dotted words (`django.setup()`, the task name
`requests.send_links`, the check id `portal.E001`, a placeholder `Model.…`) are skipped.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "architecture.md"
TOP_LEVEL = ("portal", "requests_app", "abuse_app", "tests", "bench", "docs", "templates", "static", "clients")
SKIPPED_DIRS = {".venv", "node_modules", ".git", "var", "__pycache__"}
# A file name: letters, digits, _ - . and / ending in an extension, or a folder ending in "/".
PATH_LIKE = re.compile(r"^[\w.-]+(/[\w.-]+)*(\.(py|md|toml|cfg|ini|yaml|yml|json|txt|html|js|css)|/)$")
WILDCARD = re.compile(r"[<>*…{}]")
DRAWN = re.compile(rf"\b(?:{'|'.join(TOP_LEVEL)})/[\w./-]*")
PACKAGES = ("portal", "requests_app", "abuse_app")
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.\w+)+$")
CHECK_ID = re.compile(r"\.[A-Z]\d{3}$")  # a system check's id (`portal.E001`), not an attribute
MODEL_MODULES = ("portal.models", "requests_app.models", "abuse_app.models")


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


def named_objects(text: str) -> list[str]:
    """The dotted names a Markdown text uses in backticks, arguments dropped (`a.b(x)` → `a.b`)."""
    names = []
    for token in re.findall(r"`([^`\n]+)`", text):
        name = re.split(r"[(\s]", token, maxsplit=1)[0]
        if DOTTED.match(name) and not PATH_LIKE.match(name) and not CHECK_ID.search(name):
            names.append(name)
    return sorted(set(names))


def _module(dotted: str) -> ModuleType | None:
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            return None  # no such module (a module that exists but imports a missing one still fails)
        raise


def _has(owner: object, attributes: list[str]) -> bool:
    for attribute in attributes:
        if not hasattr(owner, attribute):
            return False
        owner = getattr(owner, attribute)
    return True


def _resolves_in(module_name: str, rest: list[str]) -> bool:
    """``module_name`` plus ``rest`` names a module, or attributes of its longest module prefix."""
    parts = module_name.split(".") + rest
    for cut in range(len(parts), module_name.count("."), -1):
        module = _module(".".join(parts[:cut]))
        if module is not None:
            return _has(module, parts[cut:])
    return False


def _modules_named(last: str) -> list[str]:
    """The modules and packages of the three packages whose dotted name ends with ``.last``."""
    found = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            dotted = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            if "migrations" not in dotted and dotted.endswith("." + last):
                found.add(dotted)
    return sorted(found)


def resolves(name: str) -> bool | None:
    """Whether a dotted name is a module or something it defines; None if it is not the code's name."""
    from portal.celery import app  # Django is set up by now: every app's tasks are registered

    if name in app.tasks:  # a Celery task's name (`abuse.deliver_webhook`), not a module's
        return None
    first, *rest = name.split(".")
    if first in PACKAGES:
        return _resolves_in(first, rest)
    if first[0].isupper():  # a model's attribute
        models = [m for m in map(importlib.import_module, MODEL_MODULES) if hasattr(m, first)]
        return _has(getattr(models[0], first), rest) if models else None
    candidates = _modules_named(first)
    if not candidates:
        return None  # not a name of ours (`django.setup`, `transaction.on_commit`)
    return any(_resolves_in(module, rest) for module in candidates)


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


def test_named_objects_finds_dotted_names_and_skips_files_and_check_ids():
    text = (
        "`portal.health.register(name, probe)`, `stores.registry`, `StoreTask.start_attempt`, `django.setup()`,\n"
        "`portal.E001`, `admin.py`, `manage.py check`, `*.models`, `.mo`."
    )
    assert named_objects(text) == [
        "StoreTask.start_attempt",
        "django.setup",
        "portal.health.register",
        "stores.registry",
    ]


def test_resolves_modules_their_names_relative_names_and_model_attributes():
    assert resolves("portal.health.register")
    assert resolves("requests_app.stores.registry")
    assert resolves("portal.celery.HeartbeatScheduler.setup_schedule")
    assert resolves("registry.KINDS")  # requests_app.stores.registry
    assert resolves("StoreTask.start_attempt")
    assert not resolves("portal.health.nowhere")
    assert not resolves("requests_app.nowhere")
    assert not resolves("ledger.register_package_section")  # the name the doc once had
    assert not resolves("StoreTask.nowhere")
    assert resolves("django.setup") is None
    assert resolves("abuse.deliver_webhook") is None  # a task name
    assert resolves("Model.register_transition_listener") is None


def test_every_dotted_name_the_architecture_doc_uses_resolves():
    names = named_objects(DOC.read_text(encoding="utf-8"))
    assert len(names) > 10, "the parser found almost no dotted names: has the doc's format changed?"
    missing = [name for name in names if resolves(name) is False]
    assert not missing, f"{DOC.relative_to(REPO)} names code that does not exist: {missing}. Update the doc."


@pytest.mark.parametrize("doc", [DOC], ids=lambda p: p.name)
def test_every_path_the_architecture_doc_names_exists(doc):
    files = _repo_files()
    names = named_paths(doc.read_text(encoding="utf-8"))
    assert len(names) > 10, "the parser found almost no paths: has the doc's format changed?"
    missing = [name for name in names if not exists(name, files)]
    assert not missing, f"{doc.relative_to(REPO)} names paths that do not exist: {missing}. Update the doc."
