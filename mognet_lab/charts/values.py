"""What result values look like: their sizes and how well gzip shrinks them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..snapshot import Snapshot
from ._base import (
    notes_estimates,
    Axes,
    as_frame,
    bytes_axis,
    format_bytes,
    new_axes,
    no_data,
    positive_int,
    require_columns,
)

__all__ = ["compression_histogram", "value_sizes"]


@notes_estimates
def compression_histogram(data: Snapshot | pd.DataFrame, *, bins: int = 30,
                          ax: Axes | None = None) -> Axes:
    """Histogram of gzip compression ratios (raw / stored bytes) of result values.

    A ratio below 1.0 means gzip made the value bigger: a vertical line marks
    1.0, "no gain".

    Parameters
    ----------
    data
        A Snapshot or its ``values`` frame (``compression_ratio``; rows whose
        ``encoding`` is not gzip are left out when that column is present).
    bins
        About this many bins of equal width: the edges are shifted so that one
        falls on 1.0, and no bin mixes values gzip shrank with ones it grew.
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
        The Axes drawn on; in a notebook, show it with ``ax.figure``.
    """
    bins = positive_int("bins", bins)
    frame = as_frame(data, lambda s: s.values, "the values frame")
    require_columns(frame, ["compression_ratio"], "a compression_ratio column")
    ratios = _gzip_ratios(frame)
    ax = new_axes(ax, figsize=(7.0, 4.0))
    title = "Compression ratio of gzip values"
    if ratios.size == 0:
        return no_data(ax, title, "no gzip-encoded values")
    edges = _edges_through_one(ratios, bins)
    ax.hist(ratios, bins=edges if isinstance(edges, int) else edges.tolist(), color="#4c72b0",
            edgecolor="white", linewidth=0.5)
    ax.axvline(1.0, color="#c44e52", linestyle="--", label="1.0: no gain")
    worse = float(np.mean(ratios < 1.0))
    ax.text(0.98, 0.95, f"{ratios.size:,} values\nmedian ratio {np.median(ratios):.2f}\n"
            f"{worse:.0%} bigger than raw", transform=ax.transAxes, ha="right", va="top",
            fontsize="small", bbox={"facecolor": "white", "edgecolor": "#cccccc"})
    ax.set_xlabel("compression ratio (raw bytes / stored bytes)")
    ax.set_ylabel("values (count)")
    ax.set_title(title)
    ax.legend(loc="upper center")
    return ax


@notes_estimates
def value_sizes(data: Snapshot | pd.DataFrame, *, bins: int = 40,
                ax: Axes | None = None) -> Axes:
    """Histogram of stored value sizes on a log scale (log-spaced bins).

    Parameters
    ----------
    data
        A Snapshot or its ``values`` frame (``stored_bytes``).
    bins
        Number of log-spaced bins.
    ax
        Axes to draw on; a new Figure's Axes when None.
    """
    bins = positive_int("bins", bins)
    frame = as_frame(data, lambda s: s.values, "the values frame")
    require_columns(frame, ["stored_bytes"], "a stored_bytes column")
    sizes = pd.to_numeric(frame["stored_bytes"], errors="coerce").to_numpy(dtype=float,
                                                                          na_value=np.nan)
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    ax = new_axes(ax, figsize=(7.0, 4.0))
    title = "Size of stored values"
    if sizes.size == 0:
        return no_data(ax, title)
    low, high = sizes.min(), sizes.max()
    if high <= low:  # one size only: still a visible bar
        low, high = low / 1.5, high * 1.5
    edges = np.geomspace(low, high, bins + 1)
    ax.hist(sizes, bins=edges.tolist(), color="#dd8452", edgecolor="white", linewidth=0.5)
    ax.set_xscale("log")
    bytes_axis(ax.xaxis, log=True)
    ax.axvline(float(np.median(sizes)), color="#333333", linestyle=":",
               label=f"median {format_bytes(float(np.median(sizes)))}")
    ax.text(0.98, 0.95, f"{sizes.size:,} values, {format_bytes(sizes.sum())} in all\n"
            f"largest {format_bytes(high)}", transform=ax.transAxes, ha="right", va="top",
            fontsize="small", bbox={"facecolor": "white", "edgecolor": "#cccccc"})
    ax.set_xlabel("stored size of the value field (log scale)")
    ax.set_ylabel("values (count)")
    ax.set_title(title)
    ax.legend(loc="upper center")
    return ax


def _edges_through_one(ratios: np.ndarray, bins: int) -> np.ndarray | int:
    low, high = float(ratios.min()), float(ratios.max())
    if not low < 1.0 < high:
        return bins
    width = (high - low) / bins
    first, last = np.floor((low - 1.0) / width), np.ceil((high - 1.0) / width)
    return 1.0 + width * np.arange(first, last + 1)


def _gzip_ratios(frame: pd.DataFrame) -> np.ndarray:
    if "encoding" in frame.columns:
        frame = frame[frame["encoding"].astype(str).str.lower() == "gzip"]
    ratios = pd.to_numeric(frame["compression_ratio"], errors="coerce")
    values = ratios.to_numpy(dtype=float, na_value=np.nan)
    return values[np.isfinite(values) & (values > 0)]
