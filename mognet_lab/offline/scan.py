"""A Snapshot from an RDB dump: dump entries -> batches -> records -> frames.

The same pipeline as a live scan (:mod:`mognet_lab.scanner`) with the dump
in place of the reader, so every frame has the same columns and the same
cells; ``memory_bytes`` is modelled (``provenance.memory_source`` says
``"rdb_model"``), TTLs count from the dump's ``ctime`` (also ``scanned_at``).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any, Iterator

import pandas as pd

from .._version import __version__
from ..errors import AppNotFound, bad_option
from ..frames import build_frames
from ..keys import KEY_KINDS, app_prefix, split_app
from ..progress import progress_bar
from ..raw import KindBatch
from ..reader.seen import SeenKeys
from ..records import Collector
from ..scanner import _gc_paused  # the live scan's: millions of rows, no cycles
from ..settings import ScanSettings
from ..snapshot import Provenance, Snapshot
from .batches import BatchMaker
from .dump import DumpInfo, RdbFile
from .memory_model import ALLOCATORS, MemoryModel, Thresholds

__all__ = ["snapshot_from_dump", "dump_apps"]

_KIND_COLUMNS = {"result": "results", "value": "values", "children": "children",
                 "metadata": "metadata", "state": "states", "unknown": "unknown"}
_APP_COLUMNS = ["app", "keys", *_KIND_COLUMNS.values()]


def snapshot_from_dump(path: str | os.PathLike[str], *, app: str, progress: bool = True,
                       settings: ScanSettings | None = None, db: int = 0,
                       allocator: str = "jemalloc", thresholds: Thresholds | None = None
                       ) -> Snapshot:
    """Read every key of ``app`` from an RDB dump into a :class:`~mognet_lab.Snapshot`.

    :func:`mognet_lab.from_rdb` (which documents the parameters) is this plus
    the scan's warnings. Nothing is sent to any Redis.

    Raises
    ------
    BadDump
        Not an RDB file, truncated, corrupt, or of an unknown RDB version.
    AppNotFound
        No key of ``app`` in database ``db`` of the dump.
    """
    if not isinstance(app, str) or not app:
        raise bad_option("app", app, "the Mognet app's name, a non-empty string")
    if allocator not in ALLOCATORS:
        raise bad_option("allocator", allocator, "one of " + ", ".join(ALLOCATORS))
    chosen = settings or ScanSettings()
    clock = time.perf_counter()
    dump = RdbFile(path, db=db)
    reading = DumpReading(dump, app, chosen, allocator, thresholds)
    collector = _collect(reading, Collector(chosen), progress)
    if collector.keys_read == 0:
        raise _no_app(path, app, db)
    if dump.info.skipped and reading.complete:
        reading.warnings.append(
            f"{dump.info.skipped:,} keys of the dump are streams or module values, which "
            "the RDB parser skips: any of them under this app's prefix are missing here")
    provenance = Provenance(app=app, url=f"rdb:{dump.path}",
                            scanned_at=reading.ctime or datetime.now(timezone.utc),
                            duration_s=time.perf_counter() - clock, settings=chosen,
                            complete=reading.complete, keys_read=collector.keys_read,
                            warnings=tuple(reading.warnings), version=__version__,
                            memory_source="rdb_model")
    frames = build_frames(collector.frames, [server_record(dump.info)], consume=True,
                          metadata_fields=collector.metadata_fields,
                          max_metadata_columns=chosen.max_metadata_columns)
    return Snapshot(frames, provenance)


def _collect(reading: DumpReading, collector: Collector, progress: bool) -> Collector:
    bar = progress_bar(progress, desc=f"Reading {reading.app} from the dump",
                       total=reading.settings.limit)
    try:
        with _gc_paused():
            for batches in reading:
                collector.add_batch(batches)
                bar.update(sum(len(batch) for batch in batches))
            collector.flush()
    finally:
        bar.close()
    return collector


class DumpReading:
    """Batches of the app's keys, made as the dump streams past."""

    def __init__(self, dump: RdbFile, app: str, settings: ScanSettings, allocator: str,
                 thresholds: Thresholds | None) -> None:
        self.dump, self.app, self.settings = dump, app, settings
        self.allocator, self.thresholds = allocator, thresholds
        self.complete = True
        self.ctime: datetime | None = None
        self.warnings: list[str] = []
        self.seen: SeenKeys | None = None  # several dumps into one dataset: each key once

    def __iter__(self) -> Iterator[list[KindBatch]]:
        entries = self.dump.entries(app_prefix(self.app).encode("utf-8", "surrogateescape"))
        maker: BatchMaker | None = None
        left, size = self.settings.limit, self.settings.batch
        for entry in entries:
            if maker is None:  # the aux fields (version, ctime) come before any key
                maker = self._maker()
            if self.seen is not None and not self.seen.fresh([entry[0]]):
                continue  # read from an earlier dump of the same keyspace
            if maker.add(entry) and left is not None:
                left -= 1
                if left == 0:
                    self.complete = False
                    break
            if maker.pending >= size:
                yield maker.take()
        if maker is not None and maker.pending:
            yield maker.take()

    def _maker(self) -> BatchMaker:
        info = self.dump.info
        ctime_ms = info.ctime_ms
        if ctime_ms is None:  # dumps older than Redis 3.2 have no ctime: the file's time
            ctime_ms = int(os.stat(self.dump.path).st_mtime * 1000)
            self.warnings.append("the dump has no ctime: TTLs count from the file's "
                                 "modification time")
        self.ctime = datetime.fromtimestamp(ctime_ms / 1000, timezone.utc)
        model = MemoryModel(info.redis_version, allocator=self.allocator,
                            thresholds=self.thresholds)
        self.warnings.append(_modelled_note(info, self.allocator))
        return BatchMaker(self.app, self.settings, model, ctime_ms)


def _modelled_note(info: DumpInfo, allocator: str) -> str:
    return (f"memory_bytes is modelled from an RDB dump (Redis "
            f"{info.redis_version or 'version unknown'}, {allocator} allocator), "
            "not measured with MEMORY USAGE")


def server_record(info: DumpInfo) -> dict[str, Any]:
    """What the dump says of its server; the rest is unknown (NA)."""
    return {"node": f"rdb:{os.path.basename(info.path)}", "redis_version": info.redis_version,
            "used_memory": info.used_memory,
            "unknown": "read from an RDB dump: only redis_version and used_memory (at save "
                       "time) are known"}


def _no_app(path: str | os.PathLike[str], app: str, db: int) -> AppNotFound:
    apps = dump_apps(path, db=db)
    known = [str(name) for name in apps["app"]]
    hint = f"apps found: {', '.join(repr(a) for a in known[:10])}" if known else \
        "no Mognet keys at all in this database of the dump"
    return AppNotFound(f"No keys of Mognet app {app!r} in the dump {str(path)!r} (db {db}); "
                       f"{hint}.", app=app, known_apps=known)


def dump_apps(path: str | os.PathLike[str], *, db: int = 0, progress: bool = False
              ) -> pd.DataFrame:
    """Which Mognet apps a dump holds, with key counts by kind (as ``discover_apps``)."""
    counts: dict[str, dict[str, int]] = {}
    bar = progress_bar(progress, desc="Finding apps in the dump")
    for entry in RdbFile(path, db=db).entries():
        found = split_app(entry[0])
        if found is not None:
            app_counts = counts.setdefault(found[0], dict.fromkeys(KEY_KINDS, 0))
            app_counts[found[1]] += 1
        bar.update(1)
    bar.close()
    rows = [{"app": app, "keys": sum(c.values()), **{_KIND_COLUMNS[k]: n for k, n in c.items()}}
            for app, c in counts.items()]
    frame = pd.DataFrame(rows, columns=_APP_COLUMNS)
    frame = frame.astype({c: "Int64" for c in _APP_COLUMNS[1:]}).astype({"app": "string"})
    return frame.sort_values(["keys", "app"], ascending=[False, True], ignore_index=True)
