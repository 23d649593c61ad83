"""The durable outbox: a record is on disk (SQLite, WAL, fsync'd) before the Azure call returns.

A background flusher sends what is due in batches (``POST /api/v1/transmissions/`` with ``items``, up to
1,000) and deletes what the portal acknowledged. The portal is idempotent on ``client_id``, so sending a
record twice (a reply lost, two processes flushing the same file) makes one ledger row. A portal outage,
a network error or a killed process loses nothing: the rows wait in the file, and the next flush — in
this process or after a restart — sends them. Failures back off exponentially with jitter.

A record the portal refuses for good (``400`` invalid, ``403 consent_required``, ``409`` conflict) is kept
as ``rejected`` with the portal's reason, logged, and not sent again: ``rejected()`` lists them.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_portal_client.portal_api import PortalApi, PortalUnavailable

logger = logging.getLogger("privacy_portal_client")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, seq);
"""
MAX_BATCH = 1000
PERMANENT = {"invalid", "consent_required", "client_id_conflict"}
ITEM_FIELD = re.compile(r"^items\[(\d+)\]")


def backoff_delay(failures: int, rng: random.Random, *, base: float = 0.5, cap: float = 300.0) -> float:
    """Exponential backoff with jitter: half the exponential step fixed, half random ("equal jitter")."""
    step = min(cap, base * float(2 ** min(max(failures - 1, 0), 30)))
    return step / 2 + rng.uniform(0, step / 2)


@dataclass
class FlushResult:
    sent: int = 0
    rejected: int = 0
    pending: int = 0
    error: str = ""


class Outbox:
    def __init__(self, path: str | Path, *, fsync: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit fsyncs the WAL (survives power loss). NORMAL: the commit is in the OS's page
        # cache (survives a killed process, not a power cut), without the fsync's latency.
        self._db.execute("PRAGMA synchronous=FULL" if fsync else "PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def add(self, record: dict[str, Any]) -> None:
        """Write one record; returns once it is on disk."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (client_id, record, created_at) VALUES (?, ?, ?)",
                (record["client_id"], json.dumps(record, separators=(",", ":")), time.time()),
            )

    def due(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT client_id, record FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [(cid, json.loads(raw)) for cid, raw in rows]

    def acknowledge(self, client_ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE client_id = ?", [(c,) for c in client_ids])

    def reject(self, client_id: str, reason: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state = 'rejected', last_error = ?, attempts = attempts + 1 WHERE client_id = ?",
                (reason[:2000], client_id),
            )

    def failed(self, client_ids: list[str], reason: str) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE client_id = ?",
                [(reason[:2000], c) for c in client_ids],
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        return {"pending": 0, "rejected": 0, **dict(rows)}

    def rejected(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record, last_error FROM outbox WHERE state = 'rejected' ORDER BY seq"
            ).fetchall()
        return [{"record": json.loads(raw), "reason": reason} for raw, reason in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Flusher:
    """Sends the outbox to the portal: ``flush()`` now, or ``start()`` a daemon thread that does it."""

    def __init__(
        self,
        outbox: Outbox,
        api: PortalApi,
        *,
        batch_size: int = 500,
        interval: float = 1.0,
        max_backoff: float = 300.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] | None = None,
    ):
        self.outbox, self.api = outbox, api
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.interval, self.max_backoff = interval, max_backoff
        self.rng = rng or random.Random()
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()

    def flush(self) -> FlushResult:
        """Send everything due, batch after batch, until the outbox is empty or the portal fails."""
        result = FlushResult()
        with self._flush_lock:
            size = self.batch_size
            while True:
                rows = self.outbox.due(size)
                if not rows:
                    break
                try:
                    reply = self.api.record([record for _, record in rows])
                except PortalUnavailable as exc:
                    self.outbox.failed([cid for cid, _ in rows], str(exc))
                    self.failures += 1
                    result.error = str(exc)
                    self._retry_after = exc.retry_after
                    break
                ids = [cid for cid, _ in rows]
                if reply.status in (200, 201):
                    self.outbox.acknowledge(ids)
                    result.sent += len(ids)
                    self.failures = 0
                    size = self.batch_size
                    continue
                refused = self._refused_items(reply.body, len(ids))
                code = _code(reply.body)
                if code in PERMANENT and refused:
                    for index in refused:
                        self.outbox.reject(ids[index], _reason(reply, index))
                        logger.error("portal refused transmission %s for good: %s", ids[index], _reason(reply, index))
                    result.rejected += len(refused)
                    continue  # the rest of the batch goes again at once
                if code in PERMANENT and len(ids) == 1:
                    self.outbox.reject(ids[0], _reason(reply, None))
                    result.rejected += 1
                    continue
                if code in PERMANENT:
                    size = 1  # cannot tell which item: one by one
                    continue
                # 401 (key revoked), 403 (scope missing), anything else: a configuration problem; keep and retry.
                message = f"the portal answered {reply.status} {code}: {_reason(reply, None)}"
                self.outbox.failed(ids, message)
                self.failures += 1
                result.error = message
                logger.error("cannot record transmissions: %s", message)
                break
        result.pending = self.outbox.counts()["pending"]
        return result

    @staticmethod
    def _refused_items(body: Any, count: int) -> list[int]:
        fields = body.get("error", {}).get("fields") if isinstance(body, dict) else None
        found: set[int] = set()
        for name in fields or {}:
            hit = ITEM_FIELD.match(name)
            if hit and int(hit.group(1)) < count:
                found.add(int(hit.group(1)))
        return sorted(found)

    # --- the background thread -----------------------------------------------------------------
    _retry_after = 0.0
    linger = 0.1

    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="privacy-portal-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, *, final_flush: bool = True, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None
        if final_flush:
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - at exit: the rows stay on disk for the next start
                logger.exception("final outbox flush failed; the records stay in %s", self.outbox.path)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.flush()
            except Exception:  # noqa: BLE001 - the thread must survive anything; rows stay on disk
                logger.exception("outbox flush failed")
                self.failures += 1
                result = FlushResult(error="crashed")
            if result.error:
                wait = max(self._retry_after, backoff_delay(self.failures, self.rng, cap=self.max_backoff))
                self._retry_after = 0.0
                self._stop.wait(wait)
                continue
            if self._wake.wait(self.interval):
                self._stop.wait(self.linger)  # let a burst of calls gather into one batch
            self._wake.clear()


def _code(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _reason(reply: Any, index: int | None) -> str:
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if not isinstance(error, dict):
        return f"HTTP {reply.status}"
    message = str(error.get("message", ""))
    if index is not None:
        details = [
            f"{k}: {'; '.join(map(str, v))}"
            for k, v in (error.get("fields") or {}).items()
            if k.startswith(f"items[{index}]")
        ]
        message += " " + " ".join(details)
    return f"{error.get('code', reply.status)}: {message}".strip()
