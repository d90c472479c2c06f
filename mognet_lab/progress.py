"""Progress bars: tqdm.auto (a widget in Jupyter, text in a terminal), or nothing.

A bar counts keys in whole numbers (``1,890/4,194 keys``, never ``0.00 keys``)
and has a total where one is known before the walk: the ``--limit``, or the
keys the server holds (DBSIZE, read with the server facts before any key),
which bounds what a walk of one app can meet.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["progress_bar", "scan_total"]

# Counts in whole numbers with thousands separators (unit_scale would show "0.00"),
# rates scaled ("1.2M keys/s"); otherwise tqdm's own default layout.
_WITH_TOTAL = ("{desc}: {percentage:3.0f}%|{bar}| {n:,}/{total:,}{unit} "
               "[{elapsed}<{remaining}, {rate_fmt}]")
_WITHOUT_TOTAL = "{desc}: {n:,}{unit} [{elapsed}, {rate_fmt}]"


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class _Keys:
    """A tqdm bar of keys that ends full: a walk that is over has met every key it will."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        if self.bar.total is not None and self.bar.n < self.bar.total:
            self.bar.total = self.bar.n  # DBSIZE also counts other apps' keys
            self.bar.refresh()
        self.bar.close()


def scan_total(dbsizes: Sequence[int | None], limit: int | None) -> int | None:
    """The most keys a scan can read: ``limit``, or the nodes' DBSIZE, whichever is smaller.

    Parameters
    ----------
    dbsizes
        DBSIZE of each node walked (``None`` where the server did not say).
    limit
        The scan's key limit, if any.
    """
    known = sum(size for size in dbsizes if size is not None) \
        if dbsizes and all(size is not None for size in dbsizes) else None
    if limit is None or known is None:
        return limit if known is None else known
    return min(limit, known)


def progress_bar(enabled: bool, *, desc: str, total: int | None = None) -> Any:
    """A bar counting keys (out of ``total`` when known), or a no-op with the same methods."""
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return _Keys(tqdm(total=total, desc=desc, unit=" keys", unit_scale=True, leave=False,
                      bar_format=_WITHOUT_TOTAL if total is None else _WITH_TOTAL))
