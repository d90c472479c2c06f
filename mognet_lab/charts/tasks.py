"""How the app's tasks ran: throughput over time and duration percentiles per task."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from .. import analysis
from ..snapshot import Snapshot
from ._base import (
    notes_estimates,
    Axes,
    as_frame,
    is_empty,
    new_axes,
    no_data,
    positive_int,
    require_columns,
)

__all__ = ["task_throughput", "duration_percentiles"]

_SERIES = (("created", "#4c72b0"), ("finished", "#55a868"), ("failed", "#c44e52"))
_PERCENTILES = (("p50", "#a1c9f4"), ("p90", "#4c72b0"), ("p99", "#1f3b73"))
# Above this ratio of longest to shortest bar, a linear axis hides the short ones.
_LOG_RANGE = 50.0


@notes_estimates
def task_throughput(data: Snapshot | pd.DataFrame, *, freq: str = "1h",
                    ax: Axes | None = None) -> Axes:
    """Tasks created, finished and failed per period, over the snapshot's history.

    Parameters
    ----------
    data
        A Snapshot, or the frame of :func:`mognet_lab.analysis.throughput`
        (``at``, ``created``, ``finished``, ``failed``).
    freq
        Period length (a pandas frequency such as ``"1h"`` or ``"1D"``); used
        to compute from a Snapshot and to label the y axis.
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
        The Axes drawn on; in a notebook, show it with ``ax.figure``.
    """
    frame = as_frame(data, lambda s: analysis.throughput(s, freq=freq), "the throughput frame")
    require_columns(frame, ["at", "created", "finished", "failed"],
                    "columns at, created, finished and failed")
    ax = new_axes(ax, figsize=(9.0, 4.0))
    title = "Task throughput"
    if is_empty(frame[["created", "finished", "failed"]]):
        return no_data(ax, title)
    import matplotlib.dates as mdates

    at = _period_edges(pd.to_datetime(frame["at"], utc=True), freq)
    counts = {c: pd.to_numeric(frame[c], errors="coerce").fillna(0).to_numpy(dtype=float)
              for c, _ in _SERIES}
    _draw_counts(ax, at, counts)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0)
    ax.set_xlim(at[0], at[-1])
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel(f"tasks per {freq}")
    ax.set_title(title)
    ax.legend(loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return ax


@notes_estimates
def duration_percentiles(data: Snapshot | pd.DataFrame, *, top: int = 10,
                         ax: Axes | None = None) -> Axes:
    """p50, p90 and p99 run time per task name, for the ``top`` most frequent names.

    The seconds axis turns logarithmic when the bars span more than a factor 50.

    Parameters
    ----------
    data
        A Snapshot, or the frame of :func:`mognet_lab.analysis.duration_percentiles`
        (``name``, ``count``, ``duration_p50``, ``duration_p90``, ``duration_p99``
        as timedeltas or seconds).
    top
        How many task names to show, most frequent first.
    ax
        Axes to draw on; a new Figure's Axes when None.
    """
    top = positive_int("top", top)
    frame = as_frame(data, analysis.duration_percentiles, "the duration_percentiles frame")
    columns = [f"duration_{p}" for p, _ in _PERCENTILES]
    require_columns(frame, ["name", *columns], "columns name and " + ", ".join(columns))
    table = _top_names(frame, columns, top)
    ax = new_axes(ax, figsize=(8.0, 1.0 + 0.55 * max(len(table), 3)))
    title = f"Task duration percentiles (top {top} by count)"
    if is_empty(table[columns]):
        return no_data(ax, title)
    y = np.arange(len(table))
    height = 0.8 / len(_PERCENTILES)
    for i, (p, color) in enumerate(_PERCENTILES):
        ax.barh(y + (i - 1) * height, table[f"duration_{p}"].to_numpy(dtype=float),
                height=height, color=color, label=p)
    ax.set_yticks(y, table["label"])
    ax.invert_yaxis()
    seconds = table[columns].to_numpy(dtype=float)
    positive = seconds[np.isfinite(seconds) & (seconds > 0)]
    if positive.size and positive.max() / positive.min() > _LOG_RANGE:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, pos: f"{x:g}"))
        ax.set_xlabel("duration (seconds, log scale)")
    else:
        ax.set_xlabel("duration (seconds)")
    ax.set_title(title)
    ax.legend(title="percentile", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    return ax


def _draw_counts(ax: Axes, edges: np.ndarray, counts: dict[str, np.ndarray]) -> None:
    """One step series per count; created and finished nearly coincide, so area + line."""
    colors = dict(_SERIES)
    # Step plots need each period's end too: the last count is repeated to close it.
    closed = {name: np.append(values, values[-1:]) for name, values in counts.items()}
    label = {name: f"{name} ({int(values.sum()):,})" for name, values in counts.items()}
    ax.fill_between(edges, closed["created"], step="post", color=colors["created"], alpha=0.3,
                    linewidth=0, label=label["created"])
    ax.step(edges, closed["finished"], where="post", color=colors["finished"], linewidth=1.1,
            label=label["finished"])
    ax.fill_between(edges, closed["failed"], step="post", color=colors["failed"], alpha=0.8,
                    linewidth=0, label="of which " + label["failed"])


def _period_edges(starts: pd.Series, freq: str) -> np.ndarray:
    """Period starts plus the end of the last period, as naive UTC datetimes."""
    naive = starts.dt.tz_convert(None)
    step = naive.iloc[-1] - naive.iloc[-2] if len(naive) > 1 else pd.Timedelta(freq)
    return np.append(naive.to_numpy(), (naive.iloc[-1] + step).to_datetime64())


def _top_names(frame: pd.DataFrame, columns: list[str], top: int) -> pd.DataFrame:
    """The ``top`` names by count, durations in seconds, with a y label per name."""
    out = frame.assign(**{c: _seconds(frame[c]) for c in columns})
    out = out.dropna(subset=columns, how="all")
    if "count" in out.columns:
        counts = pd.to_numeric(out["count"], errors="coerce").fillna(0).astype(int)
        out = out.assign(count=counts).sort_values("count", ascending=False, kind="stable")
        labels = [f"{name}  (n={count:,})" for name, count in zip(out["name"], out["count"])]
    else:
        labels = [str(name) for name in out["name"]]
    return out.assign(label=labels).head(top)


def _seconds(column: pd.Series) -> pd.Series:
    if pd.api.types.is_timedelta64_dtype(column):
        return column / pd.Timedelta(seconds=1)
    return pd.to_numeric(column, errors="coerce").astype(float)
