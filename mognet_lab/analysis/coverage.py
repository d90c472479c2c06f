"""The honesty check of sampled scans: do their 95% intervals hold the exact figures?

The benchmark (``bench/bench_scan.py --sample``) and the tests draw samples
under many seeds and count how often each interval of
:mod:`.estimate` holds what a full scan of the same keyspace measured.
"""

from __future__ import annotations

import pandas as pd

from ..snapshot import Snapshot
from .estimate import interval_columns
from .memory import memory_by
from .overview import overview

__all__ = ["coverage"]


def coverage(sampled: Snapshot, full: Snapshot) -> pd.DataFrame:
    """Whether each 95% interval of a sampled snapshot holds a full scan's exact figure.

    The honesty check of the benchmark and the tests: memory by kind and by
    state, results by state, and the keys (and bytes) without a TTL.

    Returns
    -------
    pandas.DataFrame
        ``[figure, group, exact, estimate, low, high, covered]``, one row per
        figure and group of the full scan (a group the sample never saw has
        an estimate and interval of 0).
    """
    rows: list[dict[str, object]] = []
    for figure, by, column in (("bytes by kind", "kind", "bytes"),
                               ("bytes by state", "state", "bytes"),
                               ("results by state", "state", "results")):
        exact = memory_by(full, by).set_index(by)[column]
        found = memory_by(sampled, by).set_index(by)
        for group, value in exact.items():
            got = found.loc[group] if group in found.index else None
            rows.append(_covered(figure, str(group), float(value), got, column))
    sample_view, full_view = overview(sampled), overview(full)
    for column in ("no_ttl_keys", "no_ttl_bytes"):
        rows.append(_covered(column.replace("_", " "), "all", float(full_view[column]),
                             pd.Series(sample_view), column))
    return pd.DataFrame(rows)


def _covered(figure: str, group: str, exact: float, got: pd.Series | None,
             column: str) -> dict[str, object]:
    low_name, high_name = interval_columns(column)
    estimate, low, high = (0.0, 0.0, 0.0) if got is None else \
        (float(got[column]), float(got[low_name]), float(got[high_name]))
    return {"figure": figure, "group": group, "exact": exact, "estimate": estimate,
            "low": low, "high": high, "covered": low <= exact <= high}
