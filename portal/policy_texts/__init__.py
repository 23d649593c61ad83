"""The default privacy policy (version 1) the portal ships, one Markdown file per language.

Each ``<language>.md`` starts with a ``summary:`` line and a ``---`` line, then the
policy body with ``{app_name}``, ``{operator_name}`` and ``{operator_contact}``
placeholders (``PolicyVersion.render``). The data migrations publish these files
and the tests read them, so a new language needs only its file here, its
``locale/<language>/`` catalogue and its entry in ``settings.LANGUAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


@dataclass(frozen=True)
class DefaultPolicy:
    language: str
    summary: str
    body: str


def languages() -> list[str]:
    """The languages with a default text, English first."""
    return sorted((path.stem for path in DIRECTORY.glob("*.md")), key=lambda code: (code != "en", code))


def default_policy(language: str) -> DefaultPolicy:
    text = (DIRECTORY / f"{language}.md").read_text(encoding="utf-8")
    header, separator, body = text.partition("\n---\n")
    if not separator or not header.startswith("summary: "):
        raise ValueError(f"portal/policy_texts/{language}.md: start with 'summary: ...' and a '---' line")
    return DefaultPolicy(language=language, summary=header.removeprefix("summary: ").strip(), body=body)
