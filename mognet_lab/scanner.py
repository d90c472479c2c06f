"""Run a scan: reader batches -> records -> frames -> Snapshot."""

from __future__ import annotations

import gc
from dataclasses import replace
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ._version import __version__
from .frames import build_frames
from .keys import app_scan_pattern
from .progress import progress_bar, scan_total
from .raw import KindBatch
from .reader import Node, ServerIdentity, Walk, read_server, server_identity
from .reader.sample import KeySample
from .reader.seen import SeenKeys
from .schemas import WEIGHT
from .records import Collector
from .settings import ScanSettings
from .snapshot import Provenance, Snapshot, census_ids
from .vector import member_of

__all__ = ["scan_app"]


class _Reading:
    """Batches of replies from every node, one walk after another.

    ``complete`` is False if ``limit`` cut the scan short or a server restarted
    during its walk (``warnings`` then says which).
    """

    def __init__(self, nodes: Sequence[Node], app: str, settings: ScanSettings,
                 servers: Sequence[Mapping[str, Any]]) -> None:
        self.nodes, self.app, self.settings, self.servers = nodes, app, settings, servers
        self.complete = True
        self.warnings: list[str] = []
        # One sample for every node: a key found on two nodes is counted once.
        self.sample = None if settings.sample is None else \
            KeySample(app, settings.sample, settings.sample_seed, shared=len(nodes) > 1,
                      census_bytes=settings.sample_census_bytes)

    def __iter__(self) -> Iterator[list[KindBatch]]:
        seen = SeenKeys()  # shared: a key seen on two nodes counts once
        budget = self.settings.limit
        pattern = app_scan_pattern(self.app)
        for node, server in zip(self.nodes, self.servers):
            before = server_identity(node)
            walk = Walk(node, self.app, pattern, _for_server(server, self.settings), seen,
                        budget, self.sample)
            yield from walk
            self._check_same_server(node, before, server_identity(node))
            budget = walk.budget
            if not walk.complete:
                self.complete = False
                return

    def _check_same_server(self, node: Node, before: ServerIdentity,
                           after: ServerIdentity) -> None:
        """A walk that spans two server processes saw only part of the keys."""
        if before.same_process(after):
            return
        self.complete = False
        self.warnings.append(
            f"Redis at {node.label} restarted during the scan ({before.describe()} before, "
            f"{after.describe()} after): keys it held before the restart may be missing, "
            "so this snapshot is incomplete. Scan again.")


def _for_server(server: Mapping[str, Any], settings: ScanSettings) -> ScanSettings:
    """``settings`` for one node's walk: gentler on a server near its ``maxmemory``.

    Replies waiting in Redis' output buffer count toward ``used_memory``: with
    little room left they could make it evict keys. There the walk reads every
    reply before decoding (no requests in flight), in round trips of at most 100
    keys and 64 KiB of replies, and the server clips every value over
    ``max_fetch_bytes``; no field or hash larger than a quarter of the room
    left is read at all (its reply alone could push the server over).
    """
    overlap, headroom = settings.overlap, _headroom(server)
    if overlap is None:
        overlap = headroom is None or headroom > max(64 << 20, server["maxmemory"] // 20)
    if overlap:
        return replace(settings, overlap=True)
    cap = settings.max_contents_bytes
    if headroom is not None:
        # No field larger than a quarter of the room left is copied into a reply, and
        # no hash larger than that is read whole.
        room = max(headroom // 4, settings.max_fetch_bytes)
        cap = room if cap is None else min(cap, room)
        settings = replace(settings, max_field_bytes=min(settings.max_field_bytes, room),
                           max_key_bytes=min(settings.max_key_bytes, room))
    return replace(settings, overlap=False, batch=min(settings.batch, _GENTLE_BATCH),
                   max_batch_bytes=min(settings.max_batch_bytes, _GENTLE_BYTES),
                   server_clip_bytes=min(settings.server_clip_bytes, settings.max_fetch_bytes),
                   max_contents_bytes=cap)


def _headroom(server: Mapping[str, Any]) -> int | None:
    """Bytes left below ``maxmemory`` (None: no limit set, or not told)."""
    limit, used = server.get("maxmemory"), server.get("used_memory")
    if isinstance(limit, int) and isinstance(used, int) and limit > 0:
        return max(limit - used, 0)
    return None


# Near maxmemory: small round trips, so that the requests in the server's query buffer
# and the replies in its output buffer stay a few tens of KiB.
_GENTLE_BATCH, _GENTLE_BYTES = 100, 64 << 10


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
    reading = _Reading(nodes, app, settings, servers)
    bar = progress_bar(progress, desc=f"Scanning {app}",
                       total=scan_total([s.get("dbsize") for s in servers], settings.limit))
    try:
        with _gc_paused():
            for replies in reading:
                collector.add_batch(replies)
                bar.update(sum(len(batch) for batch in replies))
            collector.flush()
    finally:
        bar.close()
    sample = reading.sample
    provenance = Provenance(app=app, url=url, scanned_at=started,
                            duration_s=time.perf_counter() - clock, settings=settings,
                            complete=reading.complete, keys_read=collector.keys_read,
                            warnings=tuple(reading.warnings),
                            version=__version__,
                            sample_fraction=None if sample is None else sample.fraction,
                            sample_seed=None if sample is None else sample.seed,
                            population=() if sample is None else
                            tuple(sample.population.items()))
    frames = build_frames(collector.frames, servers, consume=True,
                          metadata_fields=collector.metadata_fields,
                          max_metadata_columns=settings.max_metadata_columns)
    census = census_ids(frames["values"], settings.sample_census_bytes) \
        if sample is not None else None
    return Snapshot(_weighted(frames, None if sample is None else sample.population, census),
                    provenance)


# The kind of key each weighted frame's rows are (keys: each row's own kind).
_FRAME_KINDS = {"results": "result", "values": "value", "children": "children",
                "metadata": "metadata", "states": "state"}


def _weighted(frames: dict[str, pd.DataFrame], population: Mapping[str, int] | None,
              census: pd.Index | None) -> dict[str, pd.DataFrame]:
    """Give every row its weight: the keys of its kind the walk counted over those read.

    A full scan's rows each stand for one key (1.0). A sampled one's stand for
    ``N_k / n_k`` keys of kind ``k``: post-stratified by kind, the ratio
    estimator with the exact population count (see :mod:`.analysis.estimate`);
    the families of the census (large values, read whatever the hash) stand
    for themselves and are taken out of both counts.
    """
    if population is None or census is None:
        return frames  # build_frames weighs each row of a full scan 1.0
    keys = frames["keys"]
    taken = member_of(keys["result_id"], census).to_numpy(dtype=bool)
    kinds = keys["kind"].astype(object)
    read = kinds[~taken].value_counts()
    whole = kinds[taken].value_counts()
    ratio = {kind: (population.get(kind, 0) - whole.get(kind, 0)) / n
             for kind, n in read.items() if n}
    keys[WEIGHT] = np.where(taken, 1.0, kinds.map(ratio).astype("float64").to_numpy())
    for name, kind in _FRAME_KINDS.items():
        frame = frames[name]
        owner = frame["parent_id" if name == "children" else "request_id" if name == "states"
                      else "result_id"]
        mine = member_of(owner, census).to_numpy(dtype=bool) if name != "states" else \
            np.zeros(len(frame), dtype=bool)
        frame[WEIGHT] = np.where(mine, 1.0, float(ratio.get(kind, 1.0)))
    return frames
