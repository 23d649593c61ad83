"""Rendering the operator's privacy policy text safely.

The body is Markdown (CommonMark) with raw HTML switched off: whatever an operator
pastes is shown as text, never run. Images are off too (they would load from other
hosts), and links to ``javascript:`` and similar are refused by markdown-it's link
validation. Headings start at level 2 under the page's own ``<h1>``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

PLACEHOLDERS = ("app_name", "operator_name", "operator_contact")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_inline", "html_block"])

    def shift_headings(state: Any) -> None:
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close") and token.tag == "h1":
                token.tag = "h2"

    md.core.ruler.push("shift_headings", shift_headings)
    return md


def fill_placeholders(text: str) -> str:
    values = {
        "app_name": settings.PORTAL_APP_NAME,
        "operator_name": settings.PORTAL_OPERATOR_NAME,
        "operator_contact": settings.PORTAL_OPERATOR_CONTACT,
    }
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", values[name])
    return text


@lru_cache(maxsize=32)
def _render(text: str) -> str:
    return str(_markdown().render(text))


def render_policy(body: str) -> SafeString:
    # Cached on the filled-in text: published versions never change, so this is rendered once per process.
    return mark_safe(_render(fill_placeholders(body)))  # noqa: S308 - markdown-it escapes, HTML off
