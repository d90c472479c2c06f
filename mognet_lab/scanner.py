"""Run a scan: reader batches -> records -> frames -> Snapshot."""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Sequence

from ._version import __version__
from .frames import build_frames
from .keys import app_scan_pattern, group_by_kind
from .prefetch import Prefetch
from .progress import progress_bar
from .raw import KindBatch
from .reader import Node, fetch_batch, iter_keys, read_server
from .reader.seen import SeenKeys
from .records import Collector
from .settings import ScanSettings
from .snapshot import Provenance, Snapshot

__all__ = ["scan_app"]


class _Reading:
    """Batches of replies from every node; ``complete`` is False if ``limit`` cut it short."""

    def __init__(self, nodes: Sequence[Node], app: str, settings: ScanSettings) -> None:
        self.nodes, self.app, self.settings = nodes, app, settings
        self.complete = True

    def __iter__(self) -> Iterator[list[KindBatch]]:
        seen = SeenKeys()  # shared: a key seen on two nodes counts once
        budget = self.settings.limit
        pattern = app_scan_pattern(self.app)
        for node in self.nodes:
            for keys in iter_keys(node, pattern, count=self.settings.batch, seen=seen):
                if budget is not None:
                    keys = keys[:budget]
                    budget -= len(keys)
                yield fetch_batch(node, group_by_kind(self.app, keys), self.settings)
                if budget == 0:
                    self.complete = False
                    return


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows pile up.

    A scan builds millions of small, long-lived objects and no reference
    cycles; each automatic collection would walk all of them again (about a
    fifth of a large scan's time). The previous setting is restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def scan_app(nodes: Sequence[Node], app: str, settings: ScanSettings, *, url: str,
             progress: bool) -> Snapshot:
    """Read every key of ``app`` on ``nodes`` into a :class:`Snapshot`."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    servers = [read_server(node) for node in nodes]
    for node, server in zip(nodes, servers):
        node.configure(server.get("redis_version"))
    collector = Collector(settings)
    reading = _Reading(nodes, app, settings)
    bar = progress_bar(progress, desc=f"Scanning {app}", total=settings.limit)
    try:
        with _gc_paused(), Prefetch(iter(reading)) as batches:
            for replies in batches:
                collector.add_batch(replies)
                bar.update(sum(len(batch) for batch in replies))
    finally:
        bar.close()
    provenance = Provenance(app=app, url=url, scanned_at=started,
                            duration_s=time.perf_counter() - clock, settings=settings,
                            complete=reading.complete, keys_read=collector.keys_read,
                            version=__version__)
    return Snapshot(build_frames(collector.frames, servers, consume=True), provenance)
