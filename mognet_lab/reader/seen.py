"""Which keys a SCAN walk has already yielded, in about 8 bytes per key.

SCAN may return a key more than once (while the server's table rehashes),
and several nodes may hold the same key, so a walk keeps what it has seen.
A set of the keys themselves costs ~140 bytes of Python objects per key for
the whole scan; this keeps a 64-bit hash per key in a few sorted NumPy runs
(merged as they grow, like a log-structured merge tree). The hash is
Python's own, keyed at random per process (SipHash), so nobody can craft
keys that collide; two distinct keys share a hash with probability about
n**2 / 2**65 (below 1e-7 for 2 million keys).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["SeenKeys"]

_FIRST_RUN = 4096


class SeenKeys:
    """A growing set of key hashes with a vectorised membership test per batch."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted, unique, sizes decreasing
        self.count = 0

    def fresh(self, keys: Sequence[bytes]) -> list[bytes]:
        """The keys not seen before (first occurrence only); remember them."""
        if not keys:
            return []
        hashes = np.fromiter((hash(key) for key in keys), dtype=np.int64, count=len(keys))
        _, first = np.unique(hashes, return_index=True)
        keep = np.zeros(len(keys), dtype=bool)
        keep[first] = True
        for run in self._runs:
            places = np.searchsorted(run, hashes).clip(max=len(run) - 1)
            keep &= run[places] != hashes
        if not keep.any():
            return []
        self._add(np.sort(hashes[keep]))
        return [key for key, kept in zip(keys, keep.tolist()) if kept]

    def _add(self, run: np.ndarray) -> None:
        self.count += len(run)
        runs = self._runs
        # Merge while the newest run is at least as large as the one before it:
        # each hash is merged O(log n) times in all.
        while runs and len(runs[-1]) <= max(len(run), _FIRST_RUN):
            run = np.sort(np.concatenate([runs.pop(), run]), kind="mergesort")
        runs.append(run)
