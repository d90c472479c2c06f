"""Walk one node's keys of an app, keeping Redis busy while the caller decodes.

Every batch takes two round trips (see :mod:`.fetch`), and the walk writes
each request ahead of the replies it is still to read, on one connection of
its own (:class:`~mognet_lab.reader.node.NodeStream`), in this order::

    read  round two of batch i-1
    read  round one of batch i (and a SCAN page)  -> send round two of batch i
    send  round one of batch i+1 (and the next SCAN page)
    yield batch i-1: the caller decodes it while Redis answers both requests

One thread does it all: no prefetch thread competing for the GIL. SCAN asks
for small pages (``scan_count``), so no single call keeps the server busy
for long, and keys gather into batches of ``batch``.

A sampled walk (``sample``) still names every key of the app with SCAN, in
larger pages (``sample_scan_count``), but reads only the keys its
:class:`~.sample.KeySample` keeps, which also counts all of them by kind.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator

from ..keys import group_by_kind
from ..raw import KindBatch
from ..settings import ScanSettings
from . import fetch
from .node import KEY, Node, NodeStream, Template
from .sample import KeySample
from .seen import SeenKeys
from .translate import translate_error

__all__ = ["Walk"]

_CONTENTS_LENGTH = Template((b"HSTRLEN", KEY, b"contents"))
# Values whose size the census asks in one round trip (a few hundred KiB of requests).
_CENSUS_BATCH = 5000


class Walk:
    """Batches of one node's keys of ``app``; ``complete`` is False once ``budget`` ran out.

    Parameters
    ----------
    budget
        Keys left to read across nodes (``None``: all); :attr:`budget` says
        what is left afterwards.
    sample
        Read only the keys this sample keeps (``None``: every key).
    start
        A SCAN cursor to begin at (0: the beginning). After each batch yielded,
        :attr:`resume_cursor` is a cursor from which a new walk misses none of
        the keys not yet yielded (``None``: every key was yielded): the cursor
        after the last SCAN page whose keys have all been yielded. Keys of a
        later page already yielded may be yielded again.

    ``settings.overlap`` False reads each round's replies at once (for a server
    at its ``maxmemory``); otherwise the next requests are written before the
    caller decodes.
    """

    def __init__(self, node: Node, app: str, pattern: str, settings: ScanSettings,
                 seen: SeenKeys, budget: int | None, sample: KeySample | None = None,
                 start: int = 0) -> None:
        self.node, self.app, self.pattern, self.settings = node, app, pattern, settings
        self.overlap = settings.overlap is not False
        self.seen, self.budget, self.sample = seen, budget, sample
        self._count = settings.scan_count if sample is None else settings.sample_scan_count
        self.complete = True
        self._keys: list[bytes] = []
        self._unchosen: list[bytes] = []  # values left out, their size not asked yet
        self._census: _Census | None = None
        self._cursor: int | None = start  # None once SCAN said it is done
        self.resume_cursor: int | None = start
        # (keys queued after a page, the cursor after it) for pages not wholly yielded,
        # and the number of keys of each batch taken and not yet yielded.
        self._pages: deque[tuple[int, int | None]] = deque()
        self._sent: deque[int] = deque()
        self._queued = self._yielded = 0

    def __iter__(self) -> Iterator[list[KindBatch]]:
        stream = self.node.stream()
        try:
            yield from self._walk(stream)
        finally:
            stream.close()
            if self._census is not None:
                self._census.close()

    def _walk(self, stream: NodeStream) -> Iterator[list[KindBatch]]:
        if self.sample is not None:
            yield from self._walk_sampled(stream)
            return
        self._send_scan(stream)
        self._receive_scan(stream.read(1)[0])
        if not self.overlap:
            yield from self._walk_in_step(stream)
            return
        first = self._send_first(stream)
        second: tuple[fetch.SecondRound, int] | None = None
        while first is not None or second is not None:
            done = None
            if second is not None:
                done = second[0].receive(self.node, stream.read(second[1]))
                second = None
            if first is not None:
                second = self._send_second(stream, *first)
                first = self._send_first(stream)
            if done is not None:
                self._note_yielded()
                yield done  # decoded while Redis answers the requests in flight

    def _walk_sampled(self, stream: NodeStream) -> Iterator[list[KindBatch]]:
        """A sampled walk: the stream carries SCAN alone, the next page asked before this
        one is filtered (unless near maxmemory), so Redis walks while the client chooses;
        the few keys chosen are read a whole batch at a time on the node's connection."""
        self._send_scan(stream)
        while self._cursor is not None:
            page = self._next_page(stream.read(1)[0])
            if self.overlap and self._cursor is not None:
                self._send_scan(stream)
            self._add_page(page)
            if not self.overlap and self._cursor is not None:
                self._send_scan(stream)
            while len(self._keys) >= self.settings.batch:
                yield self._read_by_name(self._take())
        while self._keys:
            yield self._read_by_name(self._take())

    def _read_by_name(self, keys: list[bytes]) -> list[KindBatch]:
        self._sent.append(len(keys))
        done = fetch.fetch_batch(self.node, group_by_kind(self.app, keys), self.settings)
        self._note_yielded()
        return done

    def _walk_in_step(self, stream: NodeStream) -> Iterator[list[KindBatch]]:
        """Nothing in flight while the caller decodes: every reply is read as soon as the
        server has it, so none waits in its output buffer (counted in ``used_memory``)."""
        while (first := self._send_first(stream)) is not None:
            second, count = self._send_second(stream, *first)
            done = second.receive(self.node, stream.read(count))
            self._note_yielded()
            yield done

    def _note_yielded(self) -> None:
        """Batches are yielded in the order they were taken: advance the resume cursor."""
        self._yielded += self._sent.popleft()
        while self._pages and self._pages[0][0] <= self._yielded:
            self.resume_cursor = self._pages.popleft()[1]

    def _send_first(self, stream: NodeStream) -> tuple[fetch.FirstRound, int, bool] | None:
        """Round one of the next batch and, while keys run short, the next SCAN page."""
        keys = self._take()
        scanning = self._cursor is not None and len(self._keys) < self.settings.batch
        if not keys and not scanning:
            return None
        self._sent.append(len(keys))
        first = fetch.FirstRound(group_by_kind(self.app, keys), self.settings)
        count = stream.send_grouped(first.requests)
        if scanning:
            self._send_scan(stream)
        return first, count, scanning

    def _send_second(self, stream: NodeStream, first: fetch.FirstRound, count: int,
                     scanning: bool) -> tuple[fetch.SecondRound, int]:
        """Read round one (and its SCAN page); send round two."""
        groups = first.receive(stream.read(count), self.node.label)
        if scanning:
            self._receive_scan(stream.read(1)[0])
        fetch.resolve_types(self.node, groups)  # rare: on a connection of its own
        second = fetch.SecondRound(groups, self.settings)
        return second, stream.send_keyed(second.requests)

    def _take(self) -> list[bytes]:
        size = self.settings.batch if self.budget is None else min(self.settings.batch,
                                                                    self.budget)
        keys, self._keys = self._keys[:size], self._keys[size:]
        if self.budget is not None:
            self.budget -= len(keys)
            if self.budget == 0 and (self._keys or self._cursor is not None):
                self.complete = False
                self._keys, self._cursor = [], None
        return keys

    def _send_scan(self, stream: NodeStream) -> None:
        stream.send_commands([(b"SCAN", self._cursor, b"MATCH", self.pattern, b"COUNT",
                               self._count)])

    def _receive_scan(self, reply: Any) -> None:
        self._add_page(self._next_page(reply))

    def _next_page(self, reply: Any) -> list[bytes]:
        """A SCAN reply's keys; the cursor to go on from (``None``: done)."""
        if isinstance(reply, Exception):
            raise translate_error(reply, self.node.label)
        cursor, page = reply
        self._cursor = None if int(cursor) == 0 else int(cursor)
        return list(page)

    def _add_page(self, page: list[bytes]) -> None:
        """Queue the page's keys to read; note how many keys were queued once it is."""
        before = len(self._keys)
        self._choose(page)
        self._queued += len(self._keys) - before
        self._pages.append((self._queued, self._cursor))

    def _choose(self, page: list[bytes]) -> None:
        sample = self.sample
        if sample is None:
            self._keys.extend(self.seen.fresh(page))
            return
        offered = self.seen.fresh(page) if sample.shared else page
        kept = sample.keep(offered)
        # One node: choose first, so only the sample's keys are remembered; a key
        # SCAN names twice while the table rehashes is then counted twice (rare).
        self._keys.extend(kept if sample.shared else self.seen.fresh(kept))
        self._unchosen.extend(sample.unchosen_values(offered, kept))
        if len(self._unchosen) >= _CENSUS_BATCH or self._cursor is None:
            if self._census is None:
                self._census = _Census(self.node, sample)
            self._keys.extend(self._census.ask(self._unchosen))
            self._unchosen = []
            if self._cursor is None:
                self._keys.extend(self._census.finish())


class _Census:
    """Values a sample left out but whose contents are large (a few such keys can hold
    much of the memory): they are read, with their families, all the same.

    Their sizes are asked a few thousand at a time on a connection of their own, and
    each batch's replies are read when the next batch is sent, so Redis answers while
    the walk goes on. A family found late loses nothing: its other keys are read by
    name (and not again when SCAN names them later).
    """

    def __init__(self, node: Node, sample: KeySample) -> None:
        self.node, self.sample = node, sample
        self._stream: NodeStream | None = None
        self._asked: list[bytes] = []
        self._count = 0

    def ask(self, values: list[bytes]) -> list[bytes]:
        """Send ``values``' sizes; the keys to read that the previous batch found."""
        found = self._collect()
        if values:
            if self._stream is None:
                self._stream = self.node.stream()
            self._count = self._stream.send_keyed([(_CONTENTS_LENGTH, k) for k in values])
            self._asked = values
        return found

    def finish(self) -> list[bytes]:
        """The keys the last batch found; the connection is closed."""
        found = self._collect()
        self.close()
        return found

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def _collect(self) -> list[bytes]:
        if not self._asked or self._stream is None:
            return []
        sizes, values, self._asked = self._stream.read(self._count), self._asked, []
        floor = self.sample.census_bytes or 0
        large = [key for key, size in zip(values, sizes) if isinstance(size, int) and
                 size >= floor]
        return [*large, *self.sample.add_census(large)] if large else []
