"""When the app's memory will be released: TTL buckets and the expiry schedule."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .. import analysis
from ..snapshot import Snapshot
from ._base import (
    notes_estimates,
    NO_TTL,
    TTL_COLORS,
    Axes,
    DurationFormatter,
    as_frame,
    bytes_axis,
    format_bytes,
    is_empty,
    kind_color,
    new_axes,
    no_data,
    require_columns,
)

__all__ = ["ttl_buckets", "expiry_schedule"]


@notes_estimates
def ttl_buckets(data: Snapshot | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bytes per remaining-TTL bucket, stacked by key kind.

    Parameters
    ----------
    data
        A Snapshot, or the frame of :func:`mognet_lab.analysis.ttl_buckets`
        (``kind``, ``bucket``, ``bytes``).
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
        The Axes drawn on; in a notebook, show it with ``ax.figure``.
    """
    frame = as_frame(data, analysis.ttl_buckets, "the ttl_buckets frame")
    require_columns(frame, ["kind", "bucket", "bytes"], "columns kind, bucket and bytes")
    table = _bucket_by_kind(frame)
    ax = new_axes(ax, figsize=(8.0, 4.2))
    title = "Memory by remaining TTL"
    if is_empty(table):
        return no_data(ax, title)
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for kind in table.columns:
        heights = table[kind].to_numpy(dtype=float)
        ax.bar(x, heights, bottom=bottom, color=kind_color(kind), label=kind, width=0.7)
        bottom += heights
    for xi, total in zip(x, bottom):
        if total > 0:
            ax.annotate(format_bytes(total), (xi, total), xytext=(0, 3),
                        textcoords="offset points", ha="center", fontsize="small")
    ax.set_xticks(x, table.index)
    for label in ax.get_xticklabels():
        if label.get_text() == NO_TTL:  # keys that will never go away on their own
            label.set_color(TTL_COLORS[NO_TTL])
            label.set_fontweight("bold")
    ax.set_ylim(0, bottom.max() * 1.12)
    bytes_axis(ax.yaxis)
    ax.set_xlabel("remaining TTL at scan time")
    ax.set_ylabel("memory (MEMORY USAGE)")
    ax.set_title(title)
    ax.legend(title="key kind", loc="upper left")
    return ax


@notes_estimates
def expiry_schedule(data: Snapshot | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The app's memory left over the coming days if nothing new were written.

    The part held by keys without a TTL never goes away on its own: it is
    drawn as a shaded floor.

    Parameters
    ----------
    data
        A Snapshot, or the frame of :func:`mognet_lab.analysis.expiry_schedule`
        (``hours`` or ``at``, ``remaining_bytes``, ``never_bytes``).
    ax
        Axes to draw on; a new Figure's Axes when None.
    """
    frame = as_frame(data, analysis.expiry_schedule, "the expiry_schedule frame")
    require_columns(frame, ["remaining_bytes", "never_bytes"],
                    "columns remaining_bytes and never_bytes")
    ax = new_axes(ax, figsize=(8.0, 4.2))
    title = "Memory left as keys expire (no new writes)"
    if is_empty(frame[["remaining_bytes", "never_bytes"]]):
        return no_data(ax, title)
    days = _hours(frame) / 24.0
    remaining = pd.to_numeric(frame["remaining_bytes"], errors="coerce").to_numpy(dtype=float)
    never = float(pd.to_numeric(frame["never_bytes"], errors="coerce").max())
    ax.fill_between(days, remaining, step="post", color="#4c72b0", alpha=0.25, linewidth=0)
    ax.step(days, remaining, where="post", color="#4c72b0", label="memory still held")
    if never > 0:
        ax.axhspan(0, never, color=TTL_COLORS[NO_TTL], alpha=0.15, linewidth=0)
        ax.axhline(never, color=TTL_COLORS[NO_TTL], linestyle="--",
                   label=f"never expires (no TTL): {format_bytes(never)}")
    ax.annotate(f"at scan: {format_bytes(remaining[0])}", (days[0], remaining[0]),
                xytext=(8, 2), textcoords="offset points", va="bottom", fontsize="small")
    ax.set_xlim(days[0], days[-1])
    ax.set_ylim(0, max(remaining.max(), never) * 1.15)
    if days[-1] - days[0] >= 3:  # whole days; a shorter horizon gets hour ticks
        ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=[1, 2, 5, 7, 10], integer=True))
    ax.xaxis.set_major_formatter(DurationFormatter("d"))
    bytes_axis(ax.yaxis)
    ax.set_xlabel("time after the scan (days)")
    ax.set_ylabel("memory (MEMORY USAGE)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return ax


def _hours(frame: pd.DataFrame) -> np.ndarray:
    if "hours" in frame.columns:
        return pd.to_numeric(frame["hours"], errors="coerce").to_numpy(dtype=float)
    require_columns(frame, ["at"], "an hours or at column")
    at = pd.to_datetime(frame["at"], utc=True)
    return ((at - at.iloc[0]) / pd.Timedelta(hours=1)).to_numpy(dtype=float)


def _bucket_by_kind(frame: pd.DataFrame) -> pd.DataFrame:
    """buckets (in order) x kinds (largest first) of bytes."""
    bucket = frame["bucket"]
    order = list(bucket.cat.categories) if isinstance(bucket.dtype, pd.CategoricalDtype) \
        else list(analysis.TTL_BUCKETS)
    data = frame.assign(kind=frame["kind"].astype(str), bucket=bucket.astype(str),
                        bytes=pd.to_numeric(frame["bytes"], errors="coerce").fillna(0))
    table = data.pivot_table(index="bucket", columns="kind", values="bytes",
                             aggfunc="sum", fill_value=0)
    table = table.reindex(index=[str(b) for b in order], fill_value=0)
    kinds = table.sum().sort_values(ascending=False, kind="stable")
    return table[kinds[kinds > 0].index]
