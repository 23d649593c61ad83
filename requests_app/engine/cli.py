"""Console helpers for the engine's management commands: a progress bar and a summary table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class ProgressBar:
    """``[#####.....] 3/6  app-db · erase · succeeded`` — one line, rewritten in place on a terminal."""

    def __init__(self, stream: Any, total: int, width: int = 24):
        self.stream, self.total, self.width, self.done = stream, max(total, 1), width, 0
        self.tty = bool(getattr(getattr(stream, "_out", stream), "isatty", lambda: False)())

    def step(self, label: str) -> None:
        self.done = min(self.done + 1, self.total)
        filled = round(self.width * self.done / self.total)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}  {label}"
        if self.tty:
            self.stream.write("\r" + line.ljust(100), ending="")
            self.stream.flush()
        else:
            self.stream.write(line)

    def close(self) -> None:
        if self.tty:
            self.stream.write("")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)
