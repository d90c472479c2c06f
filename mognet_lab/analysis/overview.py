"""The headline figures of a snapshot, defined once for every view.

The CLI summary, the report's summary, the snapshot's repr and the
dashboard's key numbers all show these figures, so they agree by
construction: the app's bytes are :func:`~._common.app_bytes`, keys without
a TTL are :func:`~.ttl.without_ttl`, results by state are
:func:`~.memory.memory_by` ``(by="state")``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..schemas import FRAME_NAMES, VALUE_STATUSES
from ..snapshot import Snapshot
from ._common import app_bytes, maxmemory, memory, reference_time, used_memory
from .estimate import estimate_families, estimate_total
from .memo import memoized
from .ttl import without_ttl

__all__ = ["overview", "read_errors", "value_statuses"]


@memoized
def overview(snapshot: Snapshot) -> dict[str, Any]:
    """The figures every summary of ``snapshot`` starts with.

    Parameters
    ----------
    snapshot
        The scan to summarise.

    Returns
    -------
    dict
        ``app``, ``scanned_at`` (UTC), ``complete``, ``keys_read``, ``keys``,
        ``bytes`` (the app's keys), ``results``, ``used_memory`` and
        ``maxmemory`` (NaN when unknown; maxmemory 0 = no limit),
        ``share_of_used_memory`` (0..1, NaN when unknown), ``no_ttl_keys`` and
        ``no_ttl_bytes`` (keys without a TTL) and ``errors`` (unreadable rows).
        ``sampled`` and ``sample_fraction`` say whether the figures are
        estimates; a sampled snapshot's ``keys`` and ``results`` are the
        walk's exact counts, ``bytes``, ``no_ttl_keys`` and ``no_ttl_bytes``
        estimates, each with ``X_low`` and ``X_high`` (95%); ``errors`` counts
        the rows read.
    """
    size, used = app_bytes(snapshot), used_memory(snapshot)
    no_ttl = without_ttl(snapshot)
    p = snapshot.provenance
    figures: dict[str, Any] = {
        "app": p.app, "scanned_at": reference_time(snapshot), "complete": p.complete,
        "keys_read": p.keys_read, "keys": len(snapshot.keys), "bytes": size,
        "results": len(snapshot.results), "used_memory": used,
        "maxmemory": maxmemory(snapshot),
        "share_of_used_memory": size / used if used and not math.isnan(used) else math.nan,
        "no_ttl_keys": len(no_ttl), "no_ttl_bytes": int(memory(no_ttl).sum()),
        "errors": sum(read_errors(snapshot).values()),
        "sampled": p.sampled, "sample_fraction": p.sample_fraction,
    }
    if p.sampled:
        figures.update(_estimated(snapshot, no_ttl))
        size = figures["bytes"]
        figures["share_of_used_memory"] = size / used if used and not math.isnan(used) \
            else math.nan
    return figures


def _estimated(snapshot: Snapshot, no_ttl: pd.DataFrame) -> dict[str, Any]:
    """A sampled snapshot's headline figures: exact counts and estimated totals."""
    keys = snapshot.keys
    population = snapshot.population
    rows = pd.DataFrame({"kind": keys["kind"].astype(object), "bytes": memory(keys),
                         "result_id": keys["result_id"]})
    whole = estimate_total(snapshot, rows, ["bytes"], whole=True)
    missing = pd.DataFrame({"kind": no_ttl["kind"].astype(object), "keys": 1,
                            "bytes": memory(no_ttl), "result_id": no_ttl["result_id"]})
    never = estimate_total(snapshot, missing, ["keys", "bytes"])
    return {"keys": sum(population.values()), "results": population.get("result", 0),
            **whole, **{f"no_ttl_{k}": v for k, v in never.items()}}


@memoized
def read_errors(snapshot: Snapshot) -> dict[str, int]:
    """Rows with something unreadable (an ``error``), per frame that has some."""
    counts = {name: int(snapshot.frames[name]["error"].notna().sum()) for name in FRAME_NAMES
              if "error" in snapshot.frames[name].columns}
    return {name: n for name, n in counts.items() if n}


@memoized
def value_statuses(snapshot: Snapshot) -> pd.DataFrame:
    """``[value_status, results]``: how many results have each value status seen
    (on a sampled snapshot an estimate, with ``results_low``/``results_high``)."""
    if snapshot.sampled:
        rows = pd.DataFrame({"value_status": snapshot.results["value_status"].astype(object),
                             "result_id": snapshot.results["result_id"], "results": 1})
        out = estimate_families(snapshot, rows.dropna(), ["value_status"], ["results"])
        order = {status: i for i, status in enumerate(VALUE_STATUSES)}
        return out.sort_values("value_status", key=lambda c: c.map(order),
                               ignore_index=True).astype({"value_status": str})
    counts = snapshot.results["value_status"].value_counts()
    counts = counts.reindex([s for s in VALUE_STATUSES if counts.get(s, 0)], fill_value=0)
    return pd.DataFrame({"value_status": counts.index.astype(str),
                         "results": counts.to_numpy(dtype="int64")})
