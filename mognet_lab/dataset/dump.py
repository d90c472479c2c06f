"""``from_rdb(paths, to=DIR)``: one or many RDB dumps written to a dataset.

The dumps are read one after another, each by the offline reader
(:mod:`mognet_lab.offline`), into the same parts and buckets as a live scan;
a key found in two dumps (two nodes' dumps, or a replica's beside its
primary's) is kept once, as the finish phase drops keys read twice. Nothing
is sent to any Redis. A dump is read in seconds per million keys, so an
interrupted one is read again rather than resumed.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..errors import AppNotFound, bad_option
from ..raw import KindBatch
from ..reader.seen import SeenKeys
from ..settings import ScanSettings
from ..offline.memory_model import Thresholds
from .writer import DEFAULT_PART_KEYS, KEYS_PER_BUCKET, new_manifest, write_dataset

__all__ = ["dumps_to_dataset"]


class DumpSource:
    """The batches of ``app`` in each dump, file after file (a :class:`BatchSource`)."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]], app: str,
                 settings: ScanSettings, *, db: int, allocator: str,
                 thresholds: Thresholds | None) -> None:
        self.paths, self.app, self.settings = [Path(p) for p in paths], app, settings
        self.db, self.allocator, self.thresholds = db, allocator, thresholds
        self._servers: list[Mapping[str, Any]] = []  # what each dump says of its server
        self.servers: Sequence[Mapping[str, Any]] = self._servers
        self.complete = True
        self.warnings: list[str] = []
        self.ctime: datetime | None = None
        self.keys = 0
        self._file = 0
        # Keys already read in this part (across dumps); the finish phase drops those
        # read again in a later part.
        self._seen = SeenKeys()
        self._reading: Any = None

    def __iter__(self) -> Iterator[list[KindBatch]]:
        from ..offline.dump import RdbFile
        from ..offline.scan import DumpReading, server_record

        for index, path in enumerate(self.paths):
            self._file = index
            dump = RdbFile(path, db=self.db)
            reading = DumpReading(dump, self.app, self.settings, self.allocator, self.thresholds)
            reading.seen, self._reading = self._seen, reading
            for batches in reading:
                self.keys += sum(len(batch) for batch in batches)
                yield batches
            self._servers.append(server_record(dump.info))
            self.warnings.extend(w for w in reading.warnings if w not in self.warnings)
            # The dataset's time is its oldest dump's: every TTL counts from its own.
            if reading.ctime is not None and (self.ctime is None or reading.ctime < self.ctime):
                self.ctime = reading.ctime
            if not reading.complete:
                self.complete = False
                return

    def new_part(self) -> None:
        self._seen = SeenKeys()
        if self._reading is not None:
            self._reading.seen = self._seen

    def position(self) -> dict[str, Any]:
        return {"file": self._file}


def dumps_to_dataset(paths: Sequence[str | os.PathLike[str]], app: str, *,
                     to: str | os.PathLike[str], settings: ScanSettings | None = None,
                     progress: bool = False, db: int = 0, allocator: str = "jemalloc",
                     thresholds: Thresholds | None = None, part_keys: int | None = None, buckets: int | None = None) -> Path:
    """Read ``app`` from the dumps at ``paths`` into the dataset directory ``to``.

    Raises
    ------
    AppNotFound
        None of the dumps holds a key of ``app``.
    BadDump
        A file is not a readable RDB dump (the dataset is then left unfinished).
    """
    if not paths:
        raise bad_option("path", paths, "an RDB file, or a list of them")
    chosen = settings or ScanSettings()
    target = Path(to)
    if target.exists() and any(target.iterdir()):
        raise bad_option("to", str(to), "a new or empty directory (a dump is read again "
                         "rather than resumed)")
    # About 500 bytes of dump per key: a bucket per KEYS_PER_BUCKET keys, as for a scan.
    sizes = sum(os.path.getsize(p) for p in paths)
    manifest = new_manifest(app=app, url=", ".join(f"rdb:{Path(p)}" for p in paths),
                            settings=chosen,
                            buckets=buckets or max(1, sizes // (KEYS_PER_BUCKET * 500)),
                            part_keys=part_keys or DEFAULT_PART_KEYS)
    manifest["memory_source"] = "rdb_model"
    source = DumpSource(paths, app, chosen, db=db, allocator=allocator, thresholds=thresholds)
    written = write_dataset(source, target, manifest, settings=chosen, progress=progress,
                            scanned_at=lambda: source.ctime or datetime.now(timezone.utc))
    if not source.keys:
        shutil.rmtree(written)  # the empty dataset this call made: nothing to keep
        raise AppNotFound(f"No keys of Mognet app {app!r} in the dumps given (db {db}).",
                          app=app, known_apps=[])
    return written
