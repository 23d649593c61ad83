"""Shared by the commands that read a file named on the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError


@contextmanager
def file_errors(path: object, folder_hint: str) -> Iterator[None]:
    """A file that cannot be read becomes a CommandError naming it and why (no traceback)."""
    try:
        yield
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file")
    except IsADirectoryError:
        raise CommandError(f"{path}: is a folder; {folder_hint}")
    except OSError as exc:
        raise CommandError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})")
