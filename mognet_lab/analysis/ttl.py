"""When the app's memory goes away on its own: TTL buckets and the expiry schedule.

Redis frees a key when its TTL runs out; a key with no TTL stays until
someone deletes it. Mognet gives results 21 days, values 7 days and state
2 hours by default, but the placeholder value of a result that never
finishes gets no TTL at all, so those keys are what keeps growing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import bad_option
from ..format import READY_STATES
from ..keys import KEY_KINDS, KIND_VALUE
from ..snapshot import Snapshot
from ..vector import member_of
from ._common import (
    FAMILY_KINDS,
    UTC_TIME,
    as_timedelta,
    label,
    lookup,
    memory,
    placeholder_mask,
    reference_time,
    result_lookup,
)
from .estimate import estimate_keys
from .memo import memoized

__all__ = ["TTL_BUCKETS", "expiry_schedule", "never_expiring", "ttl_bucket", "ttl_buckets",
           "unfinished_placeholders", "without_ttl"]

NO_TTL = "no TTL"
TTL_BUCKETS = (NO_TTL, "<1 h", "1-4 h", "4-12 h", "12-24 h", "1-7 d", "7-30 d", ">30 d")
_HOUR = 3600.0
_TTL_EDGES_S = (-np.inf, _HOUR, 4 * _HOUR, 12 * _HOUR, 24 * _HOUR, 7 * 24 * _HOUR,
                30 * 24 * _HOUR, np.inf)
# Keys that are not part of a result family have no owning state.
NOT_A_RESULT = "(n/a)"
# More rows than this is a typo (freq="1s" over 21 days), not a schedule.
MAX_PERIODS = 100_000


def ttl_bucket(ttl_s: pd.Series) -> pd.Series:
    """Ordered categorical TTL bucket of each key (NA -> ``"no TTL"``).

    Buckets are closed on the left: a TTL of exactly 7 days is ``"7-30 d"``.
    """
    cut = pd.cut(ttl_s.astype("float64"), bins=_TTL_EDGES_S, right=False,
                 labels=list(TTL_BUCKETS[1:]))
    named = cut.astype(object).where(cut.notna(), NO_TTL)
    return pd.Series(pd.Categorical(named, categories=TTL_BUCKETS, ordered=True),
                     index=ttl_s.index)


@memoized
def ttl_buckets(snapshot: Snapshot) -> pd.DataFrame:
    """Keys and bytes per key kind and remaining-TTL bucket.

    Parameters
    ----------
    snapshot
        The scan to analyse.

    Returns
    -------
    pandas.DataFrame
        ``[kind, bucket, keys, bytes]`` with every (kind, bucket) pair, zeros
        included: kinds are Mognet's key kinds (plus any other seen), buckets
        the ordered categorical :data:`TTL_BUCKETS`. On a sampled snapshot
        ``keys`` and ``bytes`` are estimates with ``_low``/``_high`` (95%).
    """
    from .on_dataset import is_dataset, ttl_buckets as on_dataset

    if is_dataset(snapshot):
        return on_dataset(ttl_buckets, snapshot)
    keys = snapshot.keys
    kinds = list(dict.fromkeys([*KEY_KINDS, *label(keys["kind"]).unique()]))
    if snapshot.sampled:
        return _estimated_buckets(snapshot, kinds)
    rows = pd.DataFrame({"kind": pd.Categorical(label(keys["kind"]), categories=kinds),
                         "bucket": ttl_bucket(keys["ttl_s"]), "bytes": memory(keys)})
    grouped = rows.groupby(["kind", "bucket"], observed=False)["bytes"].agg(["size", "sum"])
    grouped = grouped.reindex(pd.MultiIndex.from_product(
        [rows["kind"].cat.categories, TTL_BUCKETS], names=["kind", "bucket"]), fill_value=0)
    out = grouped.reset_index().rename(columns={"size": "keys", "sum": "bytes"})
    out["kind"] = pd.Categorical(out["kind"], categories=kinds)
    out["bucket"] = pd.Categorical(out["bucket"], categories=TTL_BUCKETS, ordered=True)
    return out.astype({"keys": "int64", "bytes": "int64"})


def _estimated_buckets(snapshot: Snapshot, kinds: list[str]) -> pd.DataFrame:
    keys = snapshot.keys
    rows = pd.DataFrame({"kind": label(keys["kind"]).astype(object),
                         "bucket": ttl_bucket(keys["ttl_s"]).astype(object), "keys": 1,
                         "bytes": memory(keys), "result_id": keys["result_id"]})
    out = estimate_keys(snapshot, rows, ["kind", "bucket"], ["keys", "bytes"],
                        every=[(kind, bucket) for kind in kinds for bucket in TTL_BUCKETS])
    full = pd.MultiIndex.from_product([kinds, TTL_BUCKETS], names=["kind", "bucket"])
    out = out.set_index(["kind", "bucket"]).reindex(full, fill_value=0.0).reset_index()
    out["kind"] = pd.Categorical(out["kind"], categories=kinds)
    out["bucket"] = pd.Categorical(out["bucket"], categories=TTL_BUCKETS, ordered=True)
    return out


@memoized
def expiry_schedule(snapshot: Snapshot, *, horizon: object = "21D",
                    freq: object = "1h") -> pd.DataFrame:
    """Memory the app would free, period by period, if nothing new arrived.

    A key expires at ``scanned_at + ttl_s``; keys without a TTL never do.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    horizon
        How far ahead to look (``"21D"``, a timedelta or seconds).
    freq
        Length of one period (``"1h"``...).

    Returns
    -------
    pandas.DataFrame
        ``[at, hours, released_bytes, released_keys, remaining_bytes,
        remaining_keys, never_bytes]``, one row per period end. The first
        row is the scan time itself, with all current memory remaining;
        a row's ``released_*`` are the keys expiring in the period ending at
        ``at``. ``remaining_*`` include the keys without a TTL, whose bytes
        are ``never_bytes`` on every row.
    """
    from .on_dataset import is_dataset, expiry_schedule as on_dataset

    if is_dataset(snapshot):
        return on_dataset(expiry_schedule, snapshot, horizon=horizon, freq=freq)
    step = as_timedelta("freq", freq)
    span = as_timedelta("horizon", horizon)
    periods = math.ceil(span / step)
    if periods > MAX_PERIODS:
        raise _too_many(horizon, freq, periods)
    keys = snapshot.keys
    size, ttl = memory(keys).to_numpy(), keys["ttl_s"].astype("float64").to_numpy()
    expiring = ~np.isnan(ttl)
    # Period k ends at k * step; a key expiring within (k-1, k] steps is freed in k.
    period = np.maximum(1, np.ceil(ttl[expiring] / step.total_seconds())).astype("int64")
    inside = period <= periods
    released = np.bincount(period[inside], weights=size[expiring][inside], minlength=periods + 1)
    counted = np.bincount(period[inside], minlength=periods + 1)
    return _schedule(reference_time(snapshot), step, released.astype("int64"), counted,
                     int(size.sum()), len(size), int(size[~expiring].sum()))


def _schedule(start: pd.Timestamp, step: pd.Timedelta, released: np.ndarray,
              counted: np.ndarray, total_bytes: int, total_keys: int,
              never: int) -> pd.DataFrame:
    index = np.arange(len(released))
    at = pd.Series(start + step * index).astype(UTC_TIME)
    return pd.DataFrame({
        "at": at,
        "hours": index * step.total_seconds() / _HOUR,
        "released_bytes": released,
        "released_keys": counted.astype("int64"),
        "remaining_bytes": total_bytes - np.cumsum(released),
        "remaining_keys": total_keys - np.cumsum(counted),
        "never_bytes": np.full(len(released), never, dtype="int64"),
    })


def _too_many(horizon: object, freq: object, periods: int) -> Exception:
    return bad_option("freq", freq, f"a period giving at most {MAX_PERIODS} rows over "
                      f"horizon={horizon!r} (this gives {periods})")


@memoized
def never_expiring(snapshot: Snapshot) -> pd.DataFrame:
    """Keys without a TTL, by kind and by the state of the result they belong to.

    Parameters
    ----------
    snapshot
        The scan to analyse.

    Returns
    -------
    pandas.DataFrame
        ``[kind, state, keys, bytes]`` largest first. ``state`` is the owning
        result's state for result-family keys (``"(no result)"`` when the
        result hash is gone, ``"(none)"`` when it has no state) and
        ``"(n/a)"`` for state and unknown keys. On a sampled snapshot
        ``keys`` and ``bytes`` are estimates with ``_low``/``_high`` (95%).
    """
    from .on_dataset import is_dataset, never_expiring as on_dataset

    if is_dataset(snapshot):
        return on_dataset(never_expiring, snapshot)
    keys = without_ttl(snapshot)
    family = keys["kind"].isin(FAMILY_KINDS).to_numpy()
    state = pd.Series(NOT_A_RESULT, index=keys.index, dtype=object)
    state[family] = lookup(keys.loc[family, "result_id"], result_lookup(snapshot), "state")
    rows = pd.DataFrame({"kind": label(keys["kind"]), "state": state, "keys": 1,
                         "bytes": memory(keys)})
    if snapshot.sampled:
        grouped = estimate_keys(snapshot, rows.astype({"kind": object}).assign(
            result_id=keys["result_id"]), ["kind", "state"], ["keys", "bytes"])
    else:
        grouped = rows.groupby(["kind", "state"], sort=False)[["keys", "bytes"]].sum() \
            .reset_index().astype({"keys": "int64", "bytes": "int64"})
    grouped = grouped.sort_values(["bytes", "keys"], ascending=False, kind="stable",
                                  ignore_index=True)
    grouped["kind"] = pd.Categorical(grouped["kind"].astype(object))
    grouped["state"] = pd.Categorical(grouped["state"].astype(object))
    return grouped


@memoized
def without_ttl(snapshot: Snapshot) -> pd.DataFrame:
    """The app's keys without a TTL: the one definition every figure of them uses.

    Parameters
    ----------
    snapshot
        The scan to analyse.

    Returns
    -------
    pandas.DataFrame
        The ``keys`` rows whose ``ttl_s`` is NA, plus ``placeholder`` (a
        ``/value`` key holding Mognet's ``ResultNotReady`` placeholder) and
        ``unfinished`` (such a placeholder of a result not yet ready: it gets
        a TTL when the task finishes). :func:`never_expiring` groups all of
        them; ``server_pressure`` leaves the ``unfinished`` ones out and the
        ``no_ttl`` finding every placeholder (they have a finding of their own).
    """
    keys = snapshot.keys
    keys = keys[keys["ttl_s"].isna().to_numpy(dtype=bool)]
    values = snapshot.values
    value_key = (keys["kind"] == KIND_VALUE).fillna(False).to_numpy(dtype=bool)
    held = values.loc[placeholder_mask(values), "result_id"]
    placeholder = value_key & member_of(keys["result_id"], held).to_numpy()
    unfinished = value_key & member_of(keys["result_id"],
                                        unfinished_placeholders(snapshot)).to_numpy()
    return keys.assign(placeholder=placeholder, unfinished=unfinished)


@memoized
def unfinished_placeholders(snapshot: Snapshot) -> pd.Index:
    """Ids of results not yet ready whose /value is Mognet's placeholder.

    Those placeholders have no TTL only until the task finishes, so they are
    not memory that lacks a TTL for good.
    """
    values, results = snapshot.values, snapshot.results
    placeholder = values.loc[placeholder_mask(values), "result_id"]
    unfinished = results.loc[~results["state"].isin(list(READY_STATES))
                             & results["state"].notna(), "result_id"]
    return pd.Index(placeholder[member_of(placeholder, unfinished)].dropna().unique())
