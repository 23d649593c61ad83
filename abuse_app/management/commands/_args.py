"""Argument types shared by abuse_app's management commands."""

from __future__ import annotations

import argparse
from datetime import date


def day(value: str) -> date:
    """A YYYY-MM-DD date; argparse names the option in its error."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; expected YYYY-MM-DD")
