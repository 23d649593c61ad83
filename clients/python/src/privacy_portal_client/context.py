"""Who the host app is acting for: set once per request, read by every integration.

A ``contextvars.ContextVar``: asyncio tasks inherit the subject of the code that created them, and a
subject set in one thread or task is never seen by another. A worker thread does not inherit it
(``threading`` starts threads with an empty context): run the work with ``bind(fn)`` or
``contextvars.copy_context().run(fn)``.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
T = TypeVar("T")


@dataclass(frozen=True)
class Subject:
    """A person (``kind``/``value`` as the portal names them, e.g. ``user_id``/``42``) and the purpose."""

    kind: str
    value: str
    purpose: str
    payload_kind: str | None = None  # overrides the kind the table guesses (e.g. "text" for a JSON blob)

    def __post_init__(self) -> None:
        if not KIND_RE.match(self.kind):
            raise ValueError(f"subject kind {self.kind!r}: use a short name such as user_id or email")
        if not isinstance(self.value, str) or not self.value or len(self.value) > 512:
            raise ValueError("subject value: a non-empty string of at most 512 characters")
        if not SLUG_RE.match(self.purpose):
            raise ValueError(f"purpose {self.purpose!r}: the slug of a consent purpose, e.g. face-verification")


_current: contextvars.ContextVar[Subject | None] = contextvars.ContextVar("privacy_portal_subject", default=None)


_exempt: contextvars.ContextVar[str] = contextvars.ContextVar("privacy_portal_exempt", default="")


def current() -> Subject | None:
    return _current.get()


def exempt_reason() -> str:
    return _exempt.get()


@contextmanager
def not_personal(reason: str) -> Iterator[None]:
    """``with not_personal("the app's own logo"):`` — calls about no one: not checked, not recorded.

    The reason is required and logged (at INFO) with each call it lets through, so a review can find them.
    """
    if not reason or not reason.strip():
        raise ValueError("say why these calls hold no one's personal data")
    token = _exempt.set(reason.strip())
    try:
        yield
    finally:
        _exempt.reset(token)


@contextmanager
def subject(*, purpose: str, payload_kind: str | None = None, **identity: Any) -> Iterator[Subject]:
    """``with subject(user_id=42, purpose="face-verification"):`` — exactly one identity keyword."""
    if len(identity) != 1:
        raise TypeError("name the subject by exactly one identity, e.g. subject(user_id=42, purpose=...)")
    ((kind, value),) = identity.items()
    found = Subject(kind, str(value), purpose, payload_kind)
    token = _current.set(found)
    try:
        yield found
    finally:
        _current.reset(token)


def bind(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` run in a copy of the caller's context (and so with its subject), e.g. in a worker thread."""
    context = contextvars.copy_context()

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> T:
        return context.copy().run(fn, *args, **kwargs)  # a copy per call: safe from several threads

    return run
