"""What the web and worker processes need before they take any work, checked once at start.

``manage.py check --deploy`` already names these, but gunicorn and Celery never
run it: a production process without, say, the receipt signing key would take
requests for hours and fail each one. Apps add requirements from their
AppConfig.ready() (the kernel imports no app); ``wsgi.py`` and the Celery
``worker_init`` signal call ``refuse_to_start_if_unmet``.

Each requirement knows its own debug rule: in debug (``make run``) the receipt key is
created on first use, so it is not required at start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

# Each returns None when satisfied, else one line saying what is missing and how to fix it.
Requirement = Callable[[], "str | None"]
REQUIREMENTS: list[Requirement] = []


def require(requirement: Requirement) -> None:
    if requirement not in REQUIREMENTS:
        REQUIREMENTS.append(requirement)


def unmet() -> list[str]:
    return [problem for requirement in REQUIREMENTS if (problem := requirement())]


def refuse_to_start_if_unmet(process: str) -> None:
    """Exit with status 1 and one line per unmet requirement on stderr (no traceback)."""
    problems = unmet()
    if not problems:
        return
    for problem in problems:
        sys.stderr.write(f"{process} refuses to start: {problem}\n")
    sys.stderr.flush()
    raise SystemExit(1)
