"""``python -m portal.graceful CMD …``: run CMD in its own session, passing it one SIGTERM.

honcho (``make run``) stops a Procfile process by signalling its whole process group. A Celery
worker's prefork children then get SIGTERM directly, die under the parent's feet, and the parent
hangs in its warm shutdown until honcho's SIGKILL. Run from here, only the worker's main process
hears the signal and stops its pool itself: a graceful stop in about 6 s.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from types import FrameType


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m portal.graceful COMMAND [ARG …]", file=sys.stderr)
        return 2
    child = subprocess.Popen(argv, start_new_session=True)
    forwarded = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal forwarded
        if not forwarded:  # Celery takes a second signal as "cold shutdown": send one only
            forwarded = True
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        return child.wait()
    finally:
        if child.poll() is None:  # we are being torn down ourselves: take the worker with us
            child.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
