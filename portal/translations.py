"""Build the compiled catalogues (``.mo``) from the translations (``.po``) in ``LOCALE_PATHS``.

The ``.mo`` files are build output, not in git: ``make run`` and ``make test``
build them (``manage.py compile_translations``). GNU ``msgfmt`` compiles them
where it is installed, as Django's ``compilemessages`` would; elsewhere polib
does it in pure Python, so a fresh machine without gettext still gets German
and French pages.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


class TranslationsError(Exception):
    """A catalogue that cannot be compiled; the message names the file."""


def catalogues(locale_paths: Iterable[Path | str]) -> list[Path]:
    return sorted(po for root in locale_paths for po in Path(root).glob("*/LC_MESSAGES/*.po"))


def is_stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogue(po: Path, *, use_msgfmt: bool | None = None) -> str:
    """Write ``po``'s ``.mo`` beside it; return the tool used ("msgfmt" or "polib")."""
    mo = po.with_suffix(".mo")
    msgfmt = shutil.which("msgfmt") if use_msgfmt is not False else None
    if use_msgfmt and msgfmt is None:
        raise TranslationsError("msgfmt is not installed (apt-get install gettext)")
    if msgfmt:
        result = subprocess.run(
            [msgfmt, "--check-format", "-o", str(mo), str(po)], capture_output=True, text=True, check=False
        )
        if result.returncode:
            raise TranslationsError(f"{po}: msgfmt failed: {result.stderr.strip()}")
        return "msgfmt"
    try:
        import polib  # type: ignore[import-untyped]  # no stubs published
    except ImportError:
        raise TranslationsError(f"{po}: cannot compile: install GNU gettext (msgfmt) or polib (pip install polib)")
    try:
        polib.pofile(str(po)).save_as_mofile(str(mo))
    except (OSError, ValueError) as exc:
        raise TranslationsError(f"{po}: {exc}")
    return "polib"


def compile_all(locale_paths: Iterable[Path | str], *, only_stale: bool = True) -> list[tuple[Path, str]]:
    """Compile every catalogue (or only those whose ``.mo`` is missing or older); return (po, tool) pairs."""
    return [(po, compile_catalogue(po)) for po in catalogues(locale_paths) if not only_stale or is_stale(po)]
