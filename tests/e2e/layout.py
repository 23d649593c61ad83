"""Layout checks for the journey tests: no sideways scroll, list columns not hidden."""

from __future__ import annotations

from tests.e2e.conftest import DESKTOP

SIDEWAYS = "(el => el.scrollWidth - el.clientWidth)(document.documentElement)"


def no_sideways_scroll(page, what: str) -> None:
    overflow = page.evaluate(SIDEWAYS)
    assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {page.viewport_size['width']}px"


def visible_within(page, selector: str, what: str) -> None:
    """Inside the viewport and inside the visible part of the list's scroll box (not under the filters)."""
    right_edge = page.evaluate(
        "sel => { const el = document.querySelector(sel); if (!el) return null;"
        " const box = el.closest('.results') || document.body;"
        " return [el.getBoundingClientRect().right, box.getBoundingClientRect().right]; }",
        selector,
    )
    assert right_edge is not None, f"{what}: nothing matches {selector}"
    assert right_edge[0] <= min(right_edge[1], DESKTOP["width"]) + 0.5, f"{what} is cut off at 1280 px: {right_edge}"
