"""How close Redis is to its memory limit, and where the app will take it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import analysis
from ..snapshot import Snapshot
from ._base import (
    notes_estimates,
    NO_TTL,
    TTL_COLORS,
    Axes,
    as_frame,
    bytes_axis,
    format_bytes,
    new_axes,
    no_data,
    require_columns,
)

__all__ = ["memory_gauge"]

_TRACK = "#e6e6e6"
_USED = "#8fb1d9"
_APP = "#dd8452"
_STEADY = "#1f3b73"
_STEADY_LABEL = "used at the app's forecast steady state"
# Legend entries top to bottom: what is, then where it goes, then the limit.
_LEGEND_ORDER = ("used_memory", "this app's keys", _STEADY_LABEL, "maxmemory")


@dataclass(frozen=True)
class _Gauge:
    used: float
    maxmemory: float  # 0: no limit set, NaN: not known
    app: float | None = None
    steady_total: float | None = None  # used memory once the app reaches steady state


@notes_estimates
def memory_gauge(data: Snapshot | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Redis ``used_memory`` against ``maxmemory``, as one horizontal gauge.

    With a forecast, the app's own keys are drawn inside the used part, and a
    marker shows where used memory goes once the app reaches its steady state
    (the rest of the server's data staying as it is).

    Parameters
    ----------
    data
        A Snapshot, the frame of :func:`mognet_lab.analysis.forecast` (its
        first row: ``used_memory``, ``maxmemory``, ``current_bytes``,
        ``total_bytes``), or a ``server`` frame (``used_memory``,
        ``maxmemory``; one row per node, summed).
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
        The Axes drawn on; in a notebook, show it with ``ax.figure``.
    """
    gauge = _gauge(as_frame(data, analysis.forecast, "the forecast or server frame"))
    ax = new_axes(ax, figsize=(8.0, 3.0))
    title = "Redis memory: used vs maxmemory"
    if gauge is None:
        return no_data(ax, title, "used_memory unknown")
    limited = gauge.maxmemory > 0
    marks = [gauge.used, gauge.steady_total or 0.0, gauge.app or 0.0]
    end = gauge.maxmemory if limited else max(marks) * 1.25
    end = max(end, max(marks) * 1.05, 1.0)
    ax.barh(0, end, height=0.5, color=_TRACK, label="_track")
    ax.barh(0, gauge.used, height=0.5, color=_USED,
            label=f"used_memory: {_of(gauge.used, gauge.maxmemory)}")
    if gauge.app is not None:
        ax.barh(0, gauge.app, height=0.5, color=_APP,
                label=f"this app's keys: {_of(gauge.app, gauge.used, 'of used')}")
    if gauge.steady_total is not None:
        steady = _of(gauge.steady_total, gauge.maxmemory)
        ax.axvline(gauge.steady_total, ymin=0.12, ymax=0.6, color=_STEADY, linestyle="--",
                   linewidth=2, label=f"{_STEADY_LABEL}: {steady}")
    if limited:
        ax.axvline(gauge.maxmemory, color=TTL_COLORS[NO_TTL], linewidth=2,
                   label=f"maxmemory: {format_bytes(gauge.maxmemory)}")
    else:
        unknown = np.isnan(gauge.maxmemory)
        ax.text(0.99, 0.95, "maxmemory unknown" if unknown else "no maxmemory set",
                transform=ax.transAxes, ha="right", va="top", color=TTL_COLORS[NO_TTL],
                fontweight="bold")
    ax.set_xlim(0, end * (1.02 if limited else 1.0))
    ax.set_ylim(-0.35, 1.15)  # the legend sits above the gauge
    ax.set_yticks([])
    bytes_axis(ax.xaxis)
    ax.set_xlabel("memory (INFO memory)")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: _LEGEND_ORDER.index(labels[i].split(":")[0]))
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left",
              frameon=False, fontsize="small")
    return ax


def _of(part: float, whole: float, what: str = "of maxmemory") -> str:
    text = format_bytes(part)
    return f"{text} ({part / whole:.0%} {what})" if whole > 0 else text


def _gauge(frame: pd.DataFrame) -> _Gauge | None:
    require_columns(frame, ["used_memory", "maxmemory"], "columns used_memory and maxmemory")
    if "total_bytes" in frame.columns:  # a forecast: its first row is the current one
        return _forecast_gauge(frame.iloc[:1])
    frame = analysis.counted_servers(frame)  # a replica next to its primary counts once
    used = pd.to_numeric(frame["used_memory"], errors="coerce").to_numpy(dtype=float)
    limits = pd.to_numeric(frame["maxmemory"], errors="coerce").to_numpy(dtype=float)
    if used.size == 0 or np.isnan(used).any():
        return None
    # One node without a limit makes the whole unlimited (as analysis.maxmemory has it).
    maxmemory = 0.0 if (limits == 0).any() else float(limits.sum())
    return _Gauge(float(used.sum()), maxmemory)


def _forecast_gauge(row: pd.DataFrame) -> _Gauge | None:
    def number(column: str) -> float:
        if column not in row.columns or row.empty:
            return np.nan
        return float(pd.to_numeric(row[column], errors="coerce").iloc[0])

    used, app, total = number("used_memory"), number("current_bytes"), number("total_bytes")
    if np.isnan(used):
        return None
    app_known = not np.isnan(app)
    steady = max(used - app, 0.0) + total if app_known and not np.isnan(total) else None
    return _Gauge(used, number("maxmemory"), app if app_known else None, steady)
