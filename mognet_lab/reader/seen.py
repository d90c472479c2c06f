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

# The newest hashes live in a Python set (a fast test per key); it is sorted
# into a NumPy run once it holds this many, so the runs stay few and large.
_SET_LIMIT = 1 << 16


class SeenKeys:
    """A growing set of key hashes with a vectorised membership test per batch."""

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._runs: list[np.ndarray] = []  # sorted, unique, sizes decreasing
        self.count = 0

    def fresh(self, keys: Sequence[bytes]) -> list[bytes]:
        """The keys not seen before (first occurrence only); remember them."""
        recent, fresh, hashes = self._recent, [], []
        for key in keys:
            digest = hash(key)
            if digest not in recent:
                recent.add(digest)
                fresh.append(key)
                hashes.append(digest)
        if self._runs and fresh:
            array = np.array(hashes, dtype=np.int64)
            old = np.zeros(len(array), dtype=bool)
            for run in self._runs:
                places = np.searchsorted(run, array).clip(max=len(run) - 1)
                old |= run[places] == array
            if old.any():
                recent.difference_update(array[old].tolist())
                fresh = [key for key, seen in zip(fresh, old.tolist()) if not seen]
        self.count += len(fresh)
        if len(recent) >= _SET_LIMIT:
            self._spill()
        return fresh

    def _spill(self) -> None:
        run = np.sort(np.fromiter(self._recent, dtype=np.int64, count=len(self._recent)))
        self._recent = set()
        runs = self._runs
        # Merge while the newest run is at least as large as the one before it:
        # each hash is merged O(log n) times in all.
        while runs and len(runs[-1]) <= len(run):
            run = np.sort(np.concatenate([runs.pop(), run]), kind="mergesort")
        runs.append(run)
