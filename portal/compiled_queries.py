"""ORM queries compiled once per process, for the look-ups every intake request makes.

Compiling a query (a lock, a status filter, an order and a limit) costs the web process more
CPU than running it, and intake runs the same few on every filing. ``first`` compiles the
query its ``build`` makes once per name and database vendor, with markers in place of the
arguments, and then only runs the SQL (``Model.objects.raw``) with the arguments put where
the markers were: the same statement as the ORM's, the same instances (or None).

Only string arguments, compared by equality in the filter (markers must reach the SQL as
they are); anything else in the query is a constant of the compiled SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class _Arg:
    index: int


@dataclass(frozen=True)
class _Compiled:
    model: type[models.Model]
    sql: str
    plan: list[Any]  # each parameter: a constant, or _Arg(i) for the i-th argument


_compiled: dict[tuple[str, str], _Compiled] = {}


def _marker(index: int) -> str:
    return f"\x1fportal-compiled-argument-{index}\x1f"


def first(name: str, build: Callable[..., models.QuerySet[M]], *args: str) -> M | None:
    """``build(*args).first()`` in effect (``build`` must order the query), compiled once per process."""
    key = (name, connection.vendor)
    compiled = _compiled.get(key)
    if compiled is None:
        query = build(*(_marker(i) for i in range(len(args))))[:1]
        sql, params = query.query.sql_with_params()
        markers = {_marker(i): _Arg(i) for i in range(len(args))}
        plan = [markers.get(p, p) if isinstance(p, str) else p for p in params]
        if sorted(p.index for p in plan if isinstance(p, _Arg)) != list(range(len(args))):
            raise ValueError(f"{name}: every argument must reach the SQL as a parameter once: {params!r}")
        compiled = _compiled[key] = _Compiled(query.model, sql, plan)
    values = [args[p.index] if isinstance(p, _Arg) else p for p in compiled.plan]
    found: list[M] = list(compiled.model._default_manager.raw(compiled.sql, values))  # type: ignore[arg-type]
    return found[0] if found else None
