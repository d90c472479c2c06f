"""Where a command's snapshot comes from: a live Redis (URL) or an RDB dump (path).

Every ``mognet-lab`` command that reads one app shares these options and this
one way of reading it, so that ``scan``, ``report``, ``findings``,
``cleanup-plan`` and ``metrics`` accept the same sources (a URL, replicas, a
dump), sample the same way and print warnings the same way: one line each on
stderr.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import TYPE_CHECKING

from .errors import BadOption, ScanWarning
from .urls import censor_text

if TYPE_CHECKING:
    from .lab import Lab
    from .snapshot import Snapshot

__all__ = ["SOURCE_HELP", "add_scan_options", "connect_quietly", "is_dump", "print_warnings",
           "read_snapshot"]

SOURCE_HELP = "redis://[user:password@]host:port/db (rediss:// for TLS), or an RDB dump file"


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that reads one app."""
    parser.add_argument("--batch", type=int, default=1000, help="keys per round trip (1000)")
    parser.add_argument("--limit", type=int, help="stop after this many keys")
    parser.add_argument("--sample", type=float, metavar="F",
                        help="read only this fraction of the app (e.g. 0.01); totals become "
                             "estimates with 95%% intervals")
    parser.add_argument("--sample-seed", type=int, metavar="N",
                        help="another seed draws another sample (default 0)")
    parser.add_argument("--full", action="store_true",
                        help="scan everything even when the pre-flight expects a long scan")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--replicas", action="store_true",
                        help="read each primary's replica instead (a Redis Cluster: every "
                             "shard's), so the scan adds no load to the primaries")


def read_snapshot(args: argparse.Namespace) -> Snapshot:
    """Scan the app at the Redis URL ``args.url``, or read it from the RDB dump at that
    path."""
    from .lab import from_rdb
    from .settings import ScanSettings

    if is_dump(args.url):
        if args.sample is not None:
            raise BadOption("--sample reads part of a live Redis: a dump is read whole "
                            "(and fast), so leave --sample out.")
        settings = ScanSettings(batch=args.batch, limit=args.limit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScanWarning)
            snapshot = from_rdb(args.url, app=args.app, progress=not args.no_progress,
                                settings=settings)
        return print_warnings(snapshot)
    with connect_quietly(args) as lab:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScanWarning)
            snapshot = lab.scan(progress=not args.no_progress, limit=args.limit,
                                batch=args.batch, sample=args.sample,
                                sample_seed=args.sample_seed, full=args.full)
    return print_warnings(snapshot)


def is_dump(source: str) -> bool:
    """Whether ``source`` names an RDB dump file rather than a Redis URL."""
    from .offline import looks_like_dump

    return not source.startswith(("redis://", "rediss://", "unix://")) and \
        looks_like_dump(source)


def connect_quietly(args: argparse.Namespace) -> Lab:
    """Connect, printing any warning (no replica to read) as one line on stderr."""
    from .lab import connect

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScanWarning)
        lab = connect(args.url, app=args.app, replicas=args.replicas)
    for warning in caught:
        print(f"mognet-lab: warning: {censor_text(str(warning.message))}", file=sys.stderr)
    return lab


def print_warnings(snapshot: Snapshot) -> Snapshot:
    """Each of the snapshot's warnings as one line on stderr."""
    for text in snapshot.warnings:
        print(f"mognet-lab: warning: {censor_text(text)}", file=sys.stderr)
    return snapshot
