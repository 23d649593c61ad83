"""An in-memory PDQ index answering "which banked hashes are within distance d" in well under 10 ms.

Multi-index hashing: the 256-bit hash is cut into 16 chunks of 16 bits. If two hashes differ in at
most 31 bits, at least one chunk differs in at most one bit (16 chunks × 2 bits would be 32). So
the candidates are the hashes that share a chunk exactly or with one bit flipped: 16 × 17 binary
searches in sorted chunk columns, then the exact distance of those few candidates (numpy
``bitwise_count``). Beyond 31 the pigeonhole fails and the index compares every hash.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CHUNKS = 16
EXACT_LIMIT = 2 * CHUNKS - 1  # 31: the largest distance the chunk search is exact for
FLIPS = np.array([0] + [1 << b for b in range(16)], dtype=np.uint32)
CHUNK_OFFSETS = np.arange(CHUNKS, dtype=np.uint32) << 16


@dataclass(frozen=True)
class Hit:
    position: int
    distance: int


class PdqIndex:
    def __init__(self, hashes: npt.NDArray[np.uint8]):
        """``hashes``: shape (n, 32), one PDQ hash per row (big-endian bytes of the hex)."""
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, 32)
        chunks = self.hashes.view(">u2").reshape(-1, CHUNKS).astype(np.uint16)
        # Per chunk, the hash positions grouped by chunk value (a bucket table): ``offsets[c * 65536 + v]``
        # is where the positions whose chunk c equals v start in ``positions``. A probe is two lookups.
        self.positions = (
            np.concatenate([np.argsort(chunks[:, c], kind="stable").astype(np.uint32) for c in range(CHUNKS)])
            if len(chunks)
            else np.zeros(0, dtype=np.uint32)
        )
        counts = np.concatenate([np.bincount(chunks[:, c], minlength=1 << 16) for c in range(CHUNKS)])
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    @classmethod
    def from_hex(cls, values: list[str]) -> PdqIndex:
        raw = bytes.fromhex("".join(values)) if values else b""
        return cls(np.frombuffer(raw, dtype=np.uint8).reshape(-1, 32))

    def search(self, query: bytes, max_distance: int = 31) -> list[Hit]:
        if len(self) == 0:
            return []
        q = np.frombuffer(query, dtype=np.uint8)
        if max_distance > EXACT_LIMIT:
            candidates = np.arange(len(self))
        else:
            chunks = q.view(">u2").astype(np.uint32) + CHUNK_OFFSETS
            probes = (chunks[:, None] ^ FLIPS[None, :]).reshape(-1)
            lows, highs = self.offsets[probes], self.offsets[probes + 1]
            lengths = highs - lows
            total = int(lengths.sum())
            if total == 0:
                return []
            # Every index in every [low, high) range, without a Python loop.
            starts = np.repeat(lows - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
            candidates = np.unique(self.positions[starts + np.arange(total)])
        distances = np.bitwise_count(self.hashes[candidates] ^ q).sum(axis=1, dtype=np.int32)
        close = distances <= max_distance
        return sorted(
            (Hit(int(p), int(d)) for p, d in zip(candidates[close], distances[close], strict=True)),
            key=lambda h: h.distance,
        )


def brute_force(hashes: npt.NDArray[np.uint8], query: bytes, max_distance: int = 31) -> list[int]:
    """The obvious way (every hash compared): the baseline the benchmark prints beside the index."""
    q = np.frombuffer(query, dtype=np.uint8)
    distances = np.bitwise_count(hashes ^ q).sum(axis=1, dtype=np.int32)
    return [int(p) for p in np.flatnonzero(distances <= max_distance)]
