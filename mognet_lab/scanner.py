"""Run a scan: reader batches -> records -> frames -> Snapshot."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Sequence

from ._version import __version__
from .frames import build_frames
from .keys import app_scan_pattern, parse_key
from .progress import progress_bar
from .reader import Node, fetch_batch, iter_keys, read_server, supports_no_touch
from .records import Collector
from .settings import ScanSettings
from .snapshot import Provenance, Snapshot

__all__ = ["scan_app"]


def scan_app(nodes: Sequence[Node], app: str, settings: ScanSettings, *, url: str,
             progress: bool) -> Snapshot:
    """Read every key of ``app`` on ``nodes`` into a :class:`Snapshot`."""
    started, clock = datetime.now(timezone.utc), time.perf_counter()
    servers = [read_server(node) for node in nodes]
    for node, server in zip(nodes, servers):
        node.no_touch = supports_no_touch(server.get("redis_version"))
        node.try_scripting(server.get("redis_version"))
    collector, seen = Collector(settings), set()
    complete = True
    bar = progress_bar(progress, desc=f"Scanning {app}", total=settings.limit)
    try:
        for node in nodes:
            complete = _scan_node(node, app, collector, seen, bar) and complete
            if not complete:
                break
    finally:
        bar.close()
    provenance = Provenance(app=app, url=url, scanned_at=started,
                            duration_s=time.perf_counter() - clock, settings=settings,
                            complete=complete, keys_read=collector.keys_read,
                            version=__version__)
    return Snapshot(build_frames(collector.frames, servers), provenance)


def _scan_node(node: Node, app: str, collector: Collector, seen: set[bytes],
               bar: object) -> bool:
    """Scan one node; False when ``settings.limit`` stopped it early."""
    settings = collector.settings
    for keys in iter_keys(node, app_scan_pattern(app), count=settings.batch, seen=seen):
        room = None if settings.limit is None else settings.limit - collector.keys_read
        batch = keys if room is None else keys[:room]
        replies = fetch_batch(node, [(key, parse_key(app, key)) for key in batch], settings)
        collector.add_batch(replies)
        bar.update(len(batch))  # type: ignore[attr-defined]
        if room is not None and len(keys) >= room:
            return False
    return True
