"""How busy the app is: results created and finished over time, queue and run times.

Only results still in Redis are seen: with Mognet's defaults a result hash
lives 21 days, so counts older than that (or than a shorter ``result_ttl``)
are incomplete.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import bad_option
from ..snapshot import Snapshot
from ._common import UTC_TIME, as_timedelta, check_choice, label, reference_time
from .memo import memoized

__all__ = [
    "DURATION_GROUPS",
    "RATE_WINDOW_CAP",
    "THROUGHPUT_FREQS",
    "arrival_rate",
    "duration_percentiles",
    "throughput",
    "throughput_freq",
]

DURATION_GROUPS = ("name", "state", "node")
# The default arrival window looks back at most this far from the newest result.
RATE_WINDOW_CAP = pd.Timedelta(days=7)
MAX_PERIODS = 100_000
_PERCENTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
_GROUP_COLUMNS = {"name": "name", "state": "state", "node": "node_id"}


@memoized
def throughput(snapshot: Snapshot, *, freq: object = "1h") -> pd.DataFrame:
    """Results created, finished and failed per period.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    freq
        Period length (``"1h"``, ``"15min"``, a timedelta or seconds).
        Periods start at multiples of ``freq`` since the Unix epoch.

    Returns
    -------
    pandas.DataFrame
        ``[at, created, finished, failed]``: one row per period (UTC start)
        from the first to the last timestamp seen, empty periods included.
        ``failed`` counts results in state FAILURE by their ``finished`` time.
    """
    step = as_timedelta("freq", freq)
    results = snapshot.results
    failed = results["state"].astype(object).eq("FAILURE").fillna(False).astype(bool)
    series = {"created": results["created"], "finished": results["finished"],
              "failed": results.loc[failed, "finished"]}
    stamps = pd.concat([s.dropna() for s in series.values()])
    if stamps.empty:
        return _empty_throughput()
    first, last = stamps.min().floor(step), stamps.max().floor(step)
    if (last - first) / step >= MAX_PERIODS:
        raise bad_option("freq", freq, f"a period giving at most {MAX_PERIODS} rows "
                                       f"over {last - first} of results")
    grid = pd.date_range(first, last, freq=step)
    out = pd.DataFrame({"at": pd.Series(grid).astype(UTC_TIME)})
    for column, times in series.items():
        counts = times.dropna().dt.floor(step).value_counts()
        out[column] = counts.reindex(grid, fill_value=0).to_numpy().astype("int64")
    return out


def _empty_throughput() -> pd.DataFrame:
    return pd.DataFrame({"at": pd.Series([], dtype=UTC_TIME),
                         **{c: pd.Series([], dtype="int64")
                            for c in ("created", "finished", "failed")}})


@memoized
def duration_percentiles(snapshot: Snapshot, *, by: str = "name") -> pd.DataFrame:
    """Queue time and run time percentiles per group.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    by
        ``"name"``, ``"state"`` or ``"node"`` (missing -> ``"(none)"``).

    Returns
    -------
    pandas.DataFrame
        ``[<by>, count, queue_p50, queue_p90, queue_p99, duration_p50,
        duration_p90, duration_p99]``: ``count`` results per group, the
        rest timedeltas (NaT when no result of the group has that time),
        most results first.
    """
    check_choice("by", by, DURATION_GROUPS)
    results = snapshot.results
    rows = pd.DataFrame({by: label(results[_GROUP_COLUMNS[by]]),
                         "queue": _seconds(results["queue_time"]),
                         "duration": _seconds(results["duration"])})
    grouped = rows.groupby(by, sort=False)
    out = grouped.size().rename("count").to_frame()
    for measure in ("queue", "duration"):
        for suffix, q in _PERCENTILES.items():
            seconds = grouped[measure].quantile(q) if len(rows) else pd.Series(dtype="float64")
            out[f"{measure}_{suffix}"] = pd.to_timedelta(seconds, unit="s").astype(
                "timedelta64[ns]")
    out = out.reset_index().sort_values(["count", by], ascending=[False, True],
                                        kind="stable", ignore_index=True)
    out[by] = pd.Categorical(out[by].astype(object))
    return out.astype({"count": "int64"})


def _seconds(durations: pd.Series) -> pd.Series:
    return durations.dt.total_seconds().astype("float64")


@memoized
def arrival_rate(snapshot: Snapshot, *, window: object = None) -> float:
    """Results created per second.

    Parameters
    ----------
    snapshot
        The scan to analyse.
    window
        ``None``: from the oldest to the newest ``created`` seen, but at most
        the last 7 days before the newest: results created after the
        window opens / its length (``(n - 1) / span`` when it opens on the
        oldest result). Otherwise a duration (``"1D"``...)
        looking back from the scan time: results created in it / its length.

    Returns
    -------
    float
        Results per second; 0.0 when fewer than two results have a
        ``created`` time (default window) or none fall in ``window``.
    """
    created = snapshot.results["created"].dropna()
    if window is not None:
        span = as_timedelta("window", window)
        end = reference_time(snapshot)
        inside = created[(created > end - span) & (created <= end)]
        return len(inside) / span.total_seconds()
    if len(created) < 2:
        return 0.0
    newest = created.max()
    start = max(created.min(), newest - RATE_WINDOW_CAP)
    seconds = (newest - start).total_seconds()
    # Arrivals after the window opens: when it opens on the oldest result,
    # that one only marks the start (n results, n - 1 intervals).
    count = int((created > start).sum())
    # A burst created in the same instant has no measurable rate.
    return count / seconds if seconds > 0 else math.nan


# Throughput periods, shortest first; a report picks the first giving <= this many.
THROUGHPUT_FREQS = ("1min", "5min", "15min", "1h", "6h", "1D", "7D")
THROUGHPUT_PERIODS = 400


@memoized
def throughput_freq(snapshot: Snapshot) -> str:
    """The shortest period of :data:`THROUGHPUT_FREQS` giving at most 400 over the results."""
    results = snapshot.results
    stamps = pd.concat([results["created"].dropna(), results["finished"].dropna()])
    if stamps.empty:
        return "1h"
    span = stamps.max() - stamps.min()
    for freq in THROUGHPUT_FREQS:
        if span / pd.Timedelta(freq) <= THROUGHPUT_PERIODS:
            return freq
    return THROUGHPUT_FREQS[-1]
