"""Public references of privacy requests, abuse notices and cases: ``PR-7KQ2-M9XD``.

Short enough to read out on the phone, random enough that one cannot be
guessed from another (8 characters of a 31-letter alphabet: about 2^40).
"""

from __future__ import annotations

import secrets

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud safely


def new_reference(prefix: str) -> str:
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"
