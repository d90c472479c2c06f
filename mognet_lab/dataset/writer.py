"""Write a dataset: batches from any source -> bucketed parts -> finished frames.

The source is anything that yields ``list[KindBatch]`` and can say where to
resume (:class:`BatchSource`): a live scan (:class:`~.live.LiveSource`) is one;
an RDB dump read offline can be another. The manifest is rewritten after each
part, so a scan killed part way resumes from its last finished part.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

from .._version import __version__
from ..errors import MognetLabError, bad_option
from ..persist import _iso
from ..progress import progress_bar
from ..raw import KindBatch
from ..records import Collector
from ..scanner import _gc_paused
from ..settings import ScanSettings
from ..urls import censor_url
from .finish import finish_dataset
from .layout import MANIFEST, read_json, write_json
from .parts import write_part

__all__ = ["BatchSource", "DEFAULT_PART_KEYS", "KEYS_PER_BUCKET", "choose_buckets",
           "new_manifest", "unfinished", "write_dataset"]

MANIFEST_FORMAT = "mognet_lab.dataset.manifest"
DEFAULT_PART_KEYS = 200_000
# A bucket is one in-memory snapshot when finished and analysed: this many keys at most.
KEYS_PER_BUCKET = 500_000


class BatchSource(Protocol):
    """Where a dataset's rows come from."""

    servers: Sequence[Mapping[str, Any]]
    complete: bool
    warnings: list[str]

    def __iter__(self) -> Iterator[list[KindBatch]]: ...

    def new_part(self) -> None:
        """Called after each part is written: anything kept per part may go."""

    def position(self) -> dict[str, Any]:
        """What to resume from, right after the last batch yielded (JSON-able)."""


def choose_buckets(servers: Sequence[Mapping[str, Any]]) -> int:
    """Buckets for a keyspace of the servers' DBSIZE: about 500k keys each."""
    keys = sum(s.get("dbsize") or 0 for s in servers if isinstance(s.get("dbsize"), int))
    return max(1, keys // KEYS_PER_BUCKET)


def unfinished(target: Path) -> dict[str, Any] | None:
    """The manifest of an unfinished scan in ``target`` (None: start afresh there).

    Raises when ``target`` holds a finished dataset or files of something else.
    """
    if not target.exists() or (target.is_dir() and not any(target.iterdir())):
        return None
    manifest = target / MANIFEST
    if not target.is_dir() or not manifest.is_file():
        raise MognetLabError(f"{str(target)!r} exists and is not a mognet_lab dataset: "
                             "choose another directory (mognet_lab never deletes files).")
    record = read_json(manifest, "dataset manifest")
    if record.get("format") != MANIFEST_FORMAT:
        raise MognetLabError(f"{str(manifest)!r} is not a mognet_lab dataset manifest.")
    if record.get("finished"):
        raise MognetLabError(f"A finished dataset is already at {str(target)!r}: open it "
                             "with mognet_lab.open_dataset, or scan into another directory.")
    return record


def new_manifest(*, app: str, url: str, settings: ScanSettings, buckets: int,
                 part_keys: int) -> dict[str, Any]:
    """The manifest of a scan about to start."""
    return {"format": MANIFEST_FORMAT, "format_version": 1, "app": app,
            "url": censor_url(url), "started_at": _iso(datetime.now(timezone.utc)),
            "settings": dataclasses.asdict(settings), "buckets": buckets,
            "part_keys": part_keys, "parts": [], "position": None, "duration_s": 0.0,
            "finished": False, "version": __version__}


def write_dataset(source: BatchSource, target: Path, manifest: dict[str, Any], *,
                  settings: ScanSettings, progress: bool = False,
                  scanned_at: Callable[[], datetime] | None = None) -> Path:
    """Read ``source`` into parts under ``target`` (after those ``manifest`` lists), finish.

    Parameters
    ----------
    source
        The batches; it is positioned where ``manifest["position"]`` says.
    target
        The dataset directory (created).
    manifest
        From :func:`new_manifest`, or the manifest of the unfinished scan resumed.
    scanned_at
        When the data was as read, once it is all read (a dump's creation
        time); default: when the scan started.
    """
    for name in ("buckets", "part_keys"):
        if not isinstance(manifest.get(name), int) or manifest[name] < 1:
            raise bad_option(name, manifest.get(name), "a positive integer")
    part_keys = int(manifest["part_keys"])
    (target / "raw").mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    collector = Collector(settings)
    bar = progress_bar(progress, desc=f"Scanning {manifest['app']} to a dataset",
                       total=settings.limit)
    try:
        with _gc_paused():
            for replies in source:
                collector.add_batch(replies)
                bar.update(sum(len(batch) for batch in replies))
                if collector.keys_read >= part_keys:
                    _end_part(collector, source, target, manifest, clock)
                    collector = Collector(settings)
                    clock = time.perf_counter()
            _end_part(collector, source, target, manifest, clock)
    finally:
        bar.close()
    manifest.update(complete=source.complete, warnings=list(source.warnings))
    if scanned_at is not None:
        manifest["started_at"] = _iso(scanned_at())
    finish_dataset(target, manifest, source.servers)
    manifest["finished"] = True
    write_json(target / MANIFEST, manifest)
    return target


def _end_part(collector: Collector, source: BatchSource, target: Path,
              manifest: dict[str, Any], clock: float) -> None:
    """Write the collector's rows as the next part; record where to resume after it."""
    position = source.position()
    if collector.keys_read:
        folder = target / "raw" / f"part-{len(manifest['parts']):05d}"
        manifest["parts"].append(write_part(collector, folder, int(manifest["buckets"])))
    source.new_part()
    manifest["position"] = position
    manifest["duration_s"] = float(manifest["duration_s"]) + time.perf_counter() - clock
    write_json(target / MANIFEST, manifest)
