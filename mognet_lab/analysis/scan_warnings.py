"""Warnings a scan attaches to its snapshot (pure: frames in, sentences out).

:meth:`Lab.scan <mognet_lab.Lab.scan>` adds them to ``Provenance.warnings``
(and raises them as :class:`~mognet_lab.errors.ScanWarning` in a notebook):

- a **nested app**: Mognet app ``d.mognet`` writes ``d.mognet.mognet.result.*``,
  which is under app ``d``'s prefix ``d.mognet.``: a scan of ``d`` reads those
  keys as its own unknown keys and counts their memory;
- **LRU/LFU eviction on Redis below 7.2**: without ``CLIENT NO-TOUCH`` every
  key the scan reads looks just used, which changes what Redis evicts next.
"""

from __future__ import annotations

import pandas as pd

from ..keys import KIND_UNKNOWN, split_app
from ..snapshot import Snapshot
from ..units import format_bytes

__all__ = ["LRU_POLICIES", "eviction_warnings", "nested_app_warnings", "nested_apps",
           "scan_warnings"]

# Policies that evict by access time or frequency, which a read updates.
LRU_POLICIES = frozenset({"allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"})
_NO_TOUCH_SINCE = (7, 2)
_NESTED_COLUMNS = {"app": pd.StringDtype(), "keys": "Int64", "bytes": "Int64"}


def nested_apps(keys: pd.DataFrame, app: str) -> pd.DataFrame:
    """Other Mognet apps whose keys sit under ``app``'s prefix, found in a ``keys`` frame.

    Parameters
    ----------
    keys
        A snapshot's ``keys`` frame (``key``, ``kind``, ``memory_bytes``).
    app
        The scanned app.

    Returns
    -------
    pandas.DataFrame
        ``app`` (the nested app's name, as :func:`~mognet_lab.discover_apps`
        names it), ``keys`` and ``bytes`` read as ``app``'s unknown keys;
        largest first, no rows when there is none.
    """
    unknown = keys[keys["kind"] == KIND_UNKNOWN] if len(keys) else keys
    inner = f"{app}.mognet"
    found: dict[str, list[int]] = {}
    for key, size in zip(unknown.get("key", []), unknown.get("memory_bytes", [])):
        split = split_app(key) if isinstance(key, str) else None
        if split is None or split[1] == KIND_UNKNOWN:
            continue
        other = split[0]
        if other == inner or other.startswith(inner + "."):
            counts = found.setdefault(other, [0, 0])
            counts[0] += 1
            counts[1] += 0 if pd.isna(size) else int(size)
    frame = pd.DataFrame([(name, n, size) for name, (n, size) in found.items()],
                         columns=list(_NESTED_COLUMNS)).astype(_NESTED_COLUMNS)
    return frame.sort_values(["bytes", "app"], ascending=[False, True], ignore_index=True)


def nested_app_warnings(keys: pd.DataFrame, app: str) -> list[str]:
    """One sentence per nested app of ``app`` (see :func:`nested_apps`)."""
    return [f"keys of Mognet app {row.app!r} ({row.keys:,} keys, {format_bytes(row.bytes)}) "
            f"are under this app's prefix {app + '.mognet.'!r}: they are counted here as "
            f"unknown keys and in this app's memory; scan {row.app!r} on its own"
            for row in nested_apps(keys, app).itertuples()]


def eviction_warnings(server: pd.DataFrame) -> list[str]:
    """A sentence when a scanned primary below Redis 7.2 evicts by LRU or LFU.

    Such a server has no ``CLIENT NO-TOUCH``, so the scan refreshed the
    access time of every key it read. Replicas are left out: they do not
    evict on their own (``replica-ignore-maxmemory``), which is why scanning
    one is the advice.
    """
    touched = []
    for row in server.to_dict("records"):
        policy, version = row.get("maxmemory_policy"), row.get("redis_version")
        if policy in LRU_POLICIES and row.get("role") != "slave" and \
                not _at_least(version, _NO_TOUCH_SINCE):
            touched.append(f"{row.get('node')} (Redis {version}, {policy})")
    if not touched:
        return []
    return [f"this scan refreshed the LRU/LFU access data of every key it read on "
            f"{', '.join(touched)}: below Redis 7.2 there is no CLIENT NO-TOUCH, so what "
            "the server evicts next has changed; scan a replica instead"]


def scan_warnings(snapshot: Snapshot) -> list[str]:
    """Every warning above for one snapshot, in a stable order."""
    return [*nested_app_warnings(snapshot.keys, snapshot.app),
            *eviction_warnings(snapshot.server)]


def _at_least(version: object, wanted: tuple[int, int]) -> bool:
    try:
        major, minor = (int(part) for part in str(version).split(".")[:2])
    except ValueError:
        return True  # unknown version: nothing to say
    return (major, minor) >= wanted
