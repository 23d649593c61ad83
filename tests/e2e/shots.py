"""Sizes, chromium flags and the screenshot comparison shared by the browser tests and ``make screenshots``.

No Django here: ``tests/e2e/screenshots.py`` runs outside pytest, beside the stack it starts.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAX_SHOT_HEIGHT = 1800
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def nearly_same(a, b) -> bool:
    """Same size and under 2% of the pixels clearly different (a reference number, a date).

    Small colour shifts from the palette reduction are ignored.
    """
    from PIL import ImageChops

    if a.size != b.size:
        return False
    diff = (
        ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        .convert("L")
        .point(lambda value: 255 if value > 48 else 0)
    )
    changed = diff.histogram()[255]
    return changed <= 0.02 * a.size[0] * a.size[1]


def save_screenshot(page, path: Path, width: int, height: int) -> None:
    """The top ``height`` CSS px of the page, 64 colours; the committed file stays if ``nearly_same``."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    previous, previous_bytes = None, b""
    if path.exists():
        previous_bytes = path.read_bytes()
        with Image.open(path) as committed:
            previous = committed.convert("RGB")
    page.screenshot(
        path=str(path),
        full_page=True,
        scale="css",
        animations="disabled",
        caret="hide",
        clip={"x": 0, "y": 0, "width": width, "height": height},
    )
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    if previous is not None and nearly_same(previous, small):
        path.write_bytes(previous_bytes)  # only a reference or a date changed: keep the committed file
    else:
        small.save(path, optimize=True)
