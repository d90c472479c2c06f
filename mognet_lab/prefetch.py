"""Run an iterator in a background thread, a few items ahead of its consumer.

The scan uses it so that Redis answers the next batch (and the socket waits
for it) while this thread decodes the current one.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, Iterator, TypeVar

__all__ = ["Prefetch"]

T = TypeVar("T")
_END = object()


class Prefetch(Generic[T]):
    """Iterate ``source`` in a daemon thread; exceptions reach the consumer.

    Use as a context manager so the thread stops when the consumer does.
    """

    def __init__(self, source: Iterator[T], *, ahead: int = 2) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mognet-lab-reader",
                                        daemon=True)

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self) -> Prefetch[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
