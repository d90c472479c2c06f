"""Where an app's memory goes: by key kind, task name, state, node, age or result.

A *result family* is a result hash and the keys that hang off it (``/value``,
``/children``, ``/metadata``): they are written together, share the
result's name and state, and disappear (roughly) together. Keys of a family
whose result hash is gone are grouped as ``(no result)`` so that the groups
still add up to the memory of every result-family key.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..format import RESULT_STATES
from ..snapshot import Snapshot
from ..vector import member_of
from ._common import (
    FAMILY_KINDS,
    NO_RESULT,
    add_shares,
    app_bytes,
    check_choice,
    check_count,
    keep_top,
    label,
    memory,
    reference_time,
    result_labels,
    used_memory,
)
from .estimate import estimate_families, estimate_keys
from .memo import memoized

__all__ = ["AGE_BUCKETS", "MEMORY_GROUPS", "age_bucket", "memory_by", "result_families"]

MEMORY_GROUPS = ("kind", "name", "state", "node", "age", "family")
AGE_BUCKETS = ("<1 h", "1-6 h", "6-24 h", "1-7 d", "7-21 d", ">21 d", "unknown")
_AGE_EDGES_H = (-np.inf, 1, 6, 24, 7 * 24, 21 * 24, np.inf)
_SHARES = ("share_of_app", "share_of_used_memory")
_VALUE_KEY_STATUSES = ("present", "not_ready", "unreadable")


@memoized
def memory_by(snapshot: Snapshot, by: str = "kind", *, top: int | None = None) -> pd.DataFrame:
    """Memory of the app grouped one way, largest first.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    by
        ``"kind"`` (every key, by key kind), or result families grouped by
        ``"name"``, ``"state"``, ``"node"`` (missing -> ``"(none)"``),
        ``"age"`` (bucket of ``created`` before the scan) or ``"family"``
        (one row per result).
    top
        Keep this many rows and sum the rest into a final ``"(other)"`` row.

    Returns
    -------
    pandas.DataFrame
        ``[<by>, keys, bytes, share_of_app, share_of_used_memory]`` sorted by
        ``bytes`` descending; groupings of results (name, state, node, age)
        also count the ``results`` (result hashes) after ``<by>``.
        ``by="family"`` also has ``result_id``, ``name``, ``state``, ``node``
        and ``age``. Shares are 0..1; the second is NaN
        when the server's ``used_memory`` is unknown.

        On a sampled snapshot (except ``by="family"``, which lists the rows
        read) the counts and bytes are estimates, floats, each followed by
        ``X_low`` and ``X_high``, its 95% interval (:mod:`.estimate`); keys
        by kind are the walk's exact counts.
    """
    from .on_dataset import is_dataset, memory_by as on_dataset

    if is_dataset(snapshot):
        return on_dataset(memory_by, snapshot, by, top=top)
    check_choice("by", by, MEMORY_GROUPS)
    top = None if top is None else check_count("top", top)
    if by == "family":
        grouped = _by_family(snapshot)
    elif snapshot.sampled:
        grouped = _estimated(snapshot, by)
    elif by == "kind":
        grouped = _by_kind(snapshot)
    else:
        grouped = _group(result_families(snapshot), by, ("results", "keys", "bytes"))
    grouped = grouped.sort_values("bytes", ascending=False, kind="stable", ignore_index=True)
    sums = [c for c in grouped.columns
            if c.removesuffix("_low").removesuffix("_high") in ("results", "keys", "bytes")]
    grouped = keep_top(grouped, by, top, sums)
    return add_shares(grouped, app_bytes(snapshot), used_memory(snapshot))


@memoized
def result_families(snapshot: Snapshot) -> pd.DataFrame:
    """One row per result family: id, labels, age bucket, key count and bytes.

    Results come from the ``results`` frame (``total_memory_bytes``); family
    keys whose result hash is missing become ``(no result)`` rows, one per id.
    """
    results = snapshot.results
    known = result_labels(results).assign(
        age=age_bucket(results["created"], reference_time(snapshot)).astype(object), results=1,
        keys=_family_keys(results),
        bytes=memory(results, "total_memory_bytes"))
    orphans = _orphans(snapshot, known["result_id"])
    rows = pd.concat([known, orphans], ignore_index=True) if len(orphans) else known
    rows["results"] = rows["results"].fillna(0).astype("int64")
    rows["keys"] = rows["keys"].astype("int64")
    rows["bytes"] = rows["bytes"].astype("int64")
    rows["age"] = pd.Categorical(rows["age"], categories=AGE_BUCKETS, ordered=True)
    return rows


def age_bucket(created: pd.Series, now: pd.Timestamp) -> pd.Series:
    """Ordered categorical age of each timestamp before ``now`` (NaT -> ``unknown``).

    Timestamps after ``now`` (clock skew between workers and the scanner)
    count as ``<1 h``.
    """
    hours = (now - created).dt.total_seconds() / 3600
    cut = pd.cut(hours, bins=_AGE_EDGES_H, right=False, labels=list(AGE_BUCKETS[:-1]))
    named = cut.astype(object).where(cut.notna(), AGE_BUCKETS[-1])
    return pd.Series(pd.Categorical(named, categories=AGE_BUCKETS, ordered=True),
                     index=created.index)


def _family_keys(results: pd.DataFrame) -> pd.Series:
    """1 (the hash) + a /value + a /children + a /metadata key, where they exist."""
    def positive(column: str) -> pd.Series:
        return (results[column] > 0).fillna(False).astype(bool)

    has_value = results["value_status"].isin(_VALUE_KEY_STATUSES) | positive("value_memory_bytes")
    has_children = positive("children_count") | positive("children_memory_bytes")
    has_metadata = results["has_metadata"].fillna(False).astype(bool) \
        | positive("metadata_memory_bytes")
    return 1 + has_value.astype(int) + has_children.astype(int) + has_metadata.astype(int)


def _orphans(snapshot: Snapshot, known_ids: pd.Series) -> pd.DataFrame:
    keys = snapshot.keys
    family = keys["kind"].isin(FAMILY_KINDS) & ~member_of(keys["result_id"], known_ids.dropna())
    rows = pd.DataFrame({"result_id": keys.loc[family, "result_id"].astype(object),
                         "bytes": memory(keys[family])})
    if rows.empty:
        return rows
    grouped = rows.groupby("result_id", dropna=False, sort=True)["bytes"].agg(["size", "sum"])
    grouped = grouped.reset_index().rename(columns={"size": "keys", "sum": "bytes"})
    return grouped.assign(name=NO_RESULT, state=NO_RESULT, node=NO_RESULT,
                          age=AGE_BUCKETS[-1])


def _by_kind(snapshot: Snapshot) -> pd.DataFrame:
    keys = snapshot.keys
    rows = pd.DataFrame({"kind": label(keys["kind"]), "keys": 1, "bytes": memory(keys)})
    return _group(rows, "kind")


def _estimated(snapshot: Snapshot, by: str) -> pd.DataFrame:
    """Estimated totals of a sampled snapshot, with intervals, labelled like a full scan's."""
    if by == "kind":
        keys = snapshot.keys
        rows = pd.DataFrame({"kind": label(keys["kind"]), "result_id": keys["result_id"],
                             "keys": 1, "bytes": memory(keys)})
        kinds = [(kind,) for kind, n in snapshot.population.items() if n]
        grouped = estimate_keys(snapshot, rows, ["kind"], ["keys", "bytes"], every=kinds,
                                whole_strata=True)
        counted = grouped["kind"].map(snapshot.population).astype("float64")
        for column in ("keys", "keys_low", "keys_high"):  # the walk counted them all
            grouped[column] = counted.fillna(grouped[column]).astype("int64")
    else:
        families = result_families(snapshot)
        # Every state Mognet writes, read or not: a rare state missed by the sample
        # still gets an interval (0 up to what the sample could have missed).
        every = [(state,) for state in RESULT_STATES] if by == "state" else None
        grouped = estimate_families(snapshot, families.astype({by: object}), [by],
                                    ["results", "keys", "bytes"], every=every)
        if by == "state":
            return grouped.assign(state=pd.Categorical(grouped["state"].astype(object)))
        column = families[by]
        if isinstance(column.dtype, pd.CategoricalDtype):
            grouped[by] = pd.Categorical(grouped[by], categories=column.cat.categories,
                                         ordered=column.cat.ordered)
            return grouped
    grouped[by] = pd.Categorical(grouped[by].astype(object))
    return grouped


def _group(rows: pd.DataFrame, by: str, sums: Sequence[str] = ("keys", "bytes")
           ) -> pd.DataFrame:
    """Sum ``sums`` per ``by`` label; the label column becomes categorical."""
    grouped = rows.groupby(by, observed=True, sort=False)[list(sums)].sum().reset_index()
    column = rows[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        grouped[by] = pd.Categorical(grouped[by], categories=column.cat.categories,
                                     ordered=column.cat.ordered)
    else:
        grouped[by] = pd.Categorical(grouped[by].astype(object))
    return grouped.astype({column: "int64" for column in sums})


def _by_family(snapshot: Snapshot) -> pd.DataFrame:
    rows = result_families(snapshot)
    rows.insert(0, "family", rows["result_id"].astype("string"))
    rows["result_id"] = rows["result_id"].astype("string")
    for column in ("name", "state", "node"):
        rows[column] = pd.Categorical(rows[column])
    columns = ["family", "result_id", "name", "state", "node", "age", "keys", "bytes"]
    return rows[columns]

