"""Hash matching: is this image known child sexual abuse material? Answered before it goes to Azure.

The host app sends a PDQ hash (and/or an MD5) of an image it is about to send; the portal answers
match / no match from an in-memory index of every active bank (``abuse_app.hashmatch.index``),
rebuilt when a bank changes (checked at most every ``PORTAL_HASH_INDEX_REFRESH_SECONDS``). A match
opens (or joins) a child-safety case about that content and account, at top priority, with what
matched in its snapshot. No image is ever received or kept here: banks hold hashes only.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from abuse_app.hashmatch.index import PdqIndex
from abuse_app.hashmatch.models import HEX_LENGTH, BankedHash, HashBank, HashKind
from abuse_app.models import Category, Notice
from abuse_app.services.intake import NoticeInput, notice_submit
from abuse_app.targets import parse_location

HEX = re.compile(r"^[0-9a-f]+$")
_LOCK = threading.Lock()


@dataclass
class _Loaded:
    version: tuple[Any, ...] = ()
    checked_at: float = 0.0
    pdq: PdqIndex = field(default_factory=lambda: PdqIndex.from_hex([]))
    pdq_meta: list[tuple[str, str]] = field(default_factory=list)
    md5: dict[str, tuple[str, str]] = field(default_factory=dict)


_LOADED = _Loaded()


def clean_hash(kind: str, raw: Any) -> str:
    """A hash from outside, lower-cased and checked; ValueError says what is wrong."""
    if not isinstance(raw, str):
        raise ValueError(f"{kind}: must be a hex string")
    value = raw.strip().lower()
    if len(value) != HEX_LENGTH[kind] or not HEX.match(value):
        raise ValueError(f"{kind}: must be {HEX_LENGTH[kind]} hexadecimal characters")
    return value


def _version() -> tuple[Any, ...]:
    row = HashBank.objects.filter(active=True).aggregate(n=Count("id"), changed=Max("updated_at"))
    return (row["n"], row["changed"])


def index() -> _Loaded:
    """The loaded banks, rebuilt when a bank changed since the last look."""
    global _LOADED
    now = time.monotonic()
    if now - _LOADED.checked_at < settings.PORTAL_HASH_INDEX_REFRESH_SECONDS and _LOADED.version:
        return _LOADED
    with _LOCK:
        version = _version()
        if version != _LOADED.version:
            rows = BankedHash.objects.filter(bank__active=True).values_list("kind", "value", "bank__name", "label")
            pdq_values, pdq_meta, md5 = [], [], {}
            for kind, value, bank, label in rows.iterator(chunk_size=20000):
                if kind == HashKind.PDQ:
                    pdq_values.append(value)
                    pdq_meta.append((bank, label))
                else:
                    md5[value] = (bank, label)
            _LOADED = _Loaded(version, now, PdqIndex.from_hex(pdq_values), pdq_meta, md5)
        _LOADED.checked_at = now
    return _LOADED


def forget_index() -> None:
    """Drop the loaded banks (tests, and after a bulk import in this process)."""
    global _LOADED
    _LOADED = _Loaded()


def find_matches(*, pdq: str = "", md5: str = "") -> list[dict[str, Any]]:
    loaded = index()
    found: list[dict[str, Any]] = []
    if md5 and md5 in loaded.md5:
        bank, label = loaded.md5[md5]
        found.append({"bank": bank, "kind": "md5", "distance": 0, "label": label})
    if pdq:
        for hit in loaded.pdq.search(bytes.fromhex(pdq), settings.PORTAL_HASH_MATCH_MAX_DISTANCE)[:10]:
            bank, label = loaded.pdq_meta[hit.position]
            found.append({"bank": bank, "kind": "pdq", "distance": hit.distance, "label": label})
    return found


def media_check(
    *, pdq: str = "", md5: str = "", content_id: str = "", account_id: str = "", api_key: Any = None, ip: str = ""
) -> dict[str, Any]:
    """Match, and on a match open a child-safety case about the content and account (no image kept)."""
    matches = find_matches(pdq=pdq, md5=md5)
    if not matches:
        return {"match": False, "matches": []}
    place = content_id or (f"account:{account_id}" if account_id else "unknown-media")
    best = min(matches, key=lambda m: m["distance"])
    submitted = notice_submit(
        NoticeInput(
            category=Category.MINORS,
            locations=[parse_location(place)],
            explanation=(
                f"Automated hash match before sending to Azure: {best['kind'].upper()} "
                f"against bank “{best['bank']}” (distance {best['distance']})."
            ),
            good_faith=True,
            content_id=content_id,
            target_account_id=account_id,
            snapshot={"hash_match": matches},
        ),
        ip=ip,
        channel=Notice.Channel.HOST_APP,
        api_key=api_key,
    )
    return {"match": True, "matches": matches, "cases": [c.reference for c in submitted.cases]}


@dataclass
class ImportResult:
    added: int = 0
    already: int = 0
    refused: list[str] = field(default_factory=list)


def bank_import_csv(
    *, name: str, text: str, default_kind: str = "", source: str = HashBank.Source.FILE
) -> ImportResult:
    """Import a CSV: a ``hash``/``signal`` column, and ``kind``/``signal_type`` (pdq, md5, video_md5) unless
    ``default_kind`` says; an optional ``label``. Without a header, one hash per line. Lines that are not
    a valid hash are refused by line number (the rest is imported)."""
    result = ImportResult()
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader if r and any(c.strip() for c in r)]
    header = [c.strip().lower() for c in rows[0]] if rows else []
    has_header = bool({"hash", "signal"} & set(header))
    col = {k: header.index(k) for k in header} if has_header else {}
    hash_col = col.get("hash", col.get("signal", 0))
    kind_col = col.get("kind", col.get("signal_type"))
    label_col = col.get("label")
    entries: dict[tuple[str, str], str] = {}
    for number, row in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
        kind = row[kind_col].strip().lower() if kind_col is not None and kind_col < len(row) else default_kind
        kind = {"video_md5": "md5", "pdq_hash": "pdq"}.get(kind, kind)
        try:
            if kind not in HEX_LENGTH:
                raise ValueError(f"kind “{kind or '?'}”: expected pdq or md5")
            value = clean_hash(kind, row[hash_col] if hash_col < len(row) else "")
        except ValueError as exc:
            result.refused.append(f"line {number}: {exc}")
            continue
        label = row[label_col].strip()[:100] if label_col is not None and label_col < len(row) else ""
        entries[(kind, value)] = label
    with transaction.atomic():
        bank, _ = HashBank.objects.get_or_create(name=name, defaults={"source": source})
        before = bank.hashes.count()
        BankedHash.objects.bulk_create(
            [BankedHash(bank=bank, kind=k, value=v, label=label) for (k, v), label in entries.items()],
            ignore_conflicts=True,
            batch_size=5000,
        )
        result.added = bank.hashes.count() - before
        result.already = len(entries) - result.added
        bank.updated_at = timezone.now()
        bank.save(update_fields=["updated_at"])
    return result


CASES_BANK = "confirmed-cases"


def bank_add_hashes(pairs: Iterable[tuple[str, str]], label: str) -> int:
    """Add (kind, hex) pairs to the bank of the portal's own confirmed cases."""
    text = "kind,hash,label\n" + "".join(f"{k},{v},{label}\n" for k, v in pairs)
    return bank_import_csv(name=CASES_BANK, text=text, source=HashBank.Source.CASES).added


def pdq_of_image(content: bytes) -> str | None:
    """The PDQ hash of an image (None: not an image Pillow reads)."""
    import numpy as np
    import pdqhash
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
        return None
    vector, _quality = pdqhash.compute(pixels)
    return bytes(np.packbits(vector.astype(np.uint8))).hex()
