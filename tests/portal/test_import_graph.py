"""The project's import graph has no circles (function-level imports included: grimp reads them too).

A circle means two modules cannot be understood (or loaded) one after the other; the usual
escape, a function-level import, only hides it. Apps send their own tasks by name
(``portal.celery.enqueue``) and plug into the kernel from ``AppConfig.ready()`` instead.
"""

from __future__ import annotations

import grimp

PACKAGES = ("portal", "requests_app", "abuse_app")

# None left (issue 25 ended the last two: the SQL store's helpers take a session, and the engine no
# longer calls back into request services). An entry here would name a circle still to break.
KNOWN: list[set[str]] = []


def circles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_no_import_circles_among_project_modules():
    # Imports under ``if TYPE_CHECKING:`` never run: they name a type for mypy, they load nothing.
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    new = [sorted(c) for c in circles(graph) if not any(c <= known for known in KNOWN)]
    assert not new, f"import circles (break them; see docs/architecture.md): {new}"


def test_the_circle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    graph.add_import(importer="a.d", imported="a.b")
    assert circles(graph) == [{"a.b", "a.c"}]
