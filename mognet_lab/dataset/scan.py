"""``Lab.scan(to=DIR)``: a live scan written to a dataset, resumed when unfinished."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..errors import bad_option
from ..reader import Node, read_server
from ..settings import ScanSettings
from .live import LiveSource
from .writer import DEFAULT_PART_KEYS, choose_buckets, new_manifest, unfinished, write_dataset

__all__ = ["scan_to_dataset"]


def scan_to_dataset(nodes: Sequence[Node], app: str, settings: ScanSettings, *, url: str,
                    to: str | os.PathLike[str], progress: bool = False,
                    part_keys: int | None = None, buckets: int | None = None) -> Path:
    """Scan ``app`` into the dataset directory ``to``; resume there if it is unfinished.

    Parameters
    ----------
    part_keys
        Keys per part written during the scan (default 200,000): client memory
        holds about one part.
    buckets
        Partitions of the finished frames (default: one per 500,000 keys of
        the servers' DBSIZE). Ignored on a resume (the saved count is kept).

    Raises
    ------
    CannotResume
        ``to`` holds an unfinished scan of another server process.
    """
    for name, value in (("part_keys", part_keys), ("buckets", buckets)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise bad_option(name, value, "a positive integer")
    target = Path(to)
    servers = [read_server(node) for node in nodes]
    for node, server in zip(nodes, servers):
        node.configure(server.get("redis_version"))
    manifest = unfinished(target)
    position = None if manifest is None else manifest.get("position")
    source = LiveSource(nodes, app, settings, servers, position)
    if manifest is None:
        manifest = new_manifest(app=app, url=url, settings=settings,
                                buckets=buckets or choose_buckets(servers),
                                part_keys=part_keys or DEFAULT_PART_KEYS)
    return write_dataset(source, target, manifest, settings=settings, progress=progress)
