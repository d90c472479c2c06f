"""Memory over time: a :class:`~mognet_lab.History` as stacked areas, with the forecast line."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import bad_option
from ..history import History
from ._base import (
    OTHER,
    Axes,
    bytes_axis,
    format_bytes,
    is_empty,
    kind_color,
    new_axes,
    no_data,
    positive_int,
)

__all__ = ["memory_over_time"]

_FORECAST = "forecast: steady state + keys without TTL"
_OTHER_COLOR = "#c7c7c7"
# A forecast or limit far above the data would flatten it: the axis stops at this
# multiple of the largest total, and the legend gives the value off the chart.
_CLIP = 4.0


def memory_over_time(data: History | pd.DataFrame, *, by: str = "kind", top: int = 6,
                     forecast: bool = True, ax: Axes | None = None) -> Axes:
    """The app's memory per key kind or per task at each saved scan, stacked.

    Parameters
    ----------
    data
        A :class:`~mognet_lab.History`, or a frame of ``History.memory_by``
        (indexed by scan time, a column per group; no forecast line then).
    by
        ``"kind"`` or ``"task"`` (with a History).
    top
        Groups drawn on their own; the rest are stacked as ``(other)``.
    forecast
        Draw :func:`mognet_lab.analysis.forecast`'s memory (steady state plus
        keys without TTL) as of each scan as a dashed line, and maxmemory
        as a dotted one when the server has a limit.
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
    """
    count = positive_int("top", top)
    history = data if isinstance(data, History) else None
    if history is not None:
        table = history.memory_by(by)
    elif isinstance(data, pd.DataFrame):
        table = data
    else:
        raise bad_option("data", type(data).__name__, "a History or History.memory_by(...)")
    ax = new_axes(ax, figsize=(8.0, 4.2))
    title = f"Memory by {'key kind' if by == 'kind' else 'task'} over time"
    if is_empty(table):
        return no_data(ax, title, "no saved snapshot" if not len(table) else None)
    shown = _top(table, count)
    times = shown.index.to_pydatetime()
    ax.stackplot(times, *(shown[c].to_numpy(dtype=float) for c in shown.columns),
                 labels=[str(c) for c in shown.columns], colors=_colors(shown, by), alpha=0.85)
    totals = shown.sum(axis=1).to_numpy(dtype=float)
    ax.plot(times, totals, "o", color="#333333", markersize=3, label="app total")
    if forecast and history is not None:
        _forecast_lines(ax, history, ceiling=_CLIP * float(totals.max()))
    ax.set_title(title)
    ax.set_ylabel("memory (MEMORY USAGE)")
    bytes_axis(ax.yaxis)
    upper = float(ax.get_ylim()[1])
    ax.set_ylim(0, min(upper, _CLIP * float(totals.max())))
    ax.legend(loc="upper left", fontsize="small", ncols=2)
    ax.figure.autofmt_xdate()
    return ax


def _colors(shown: pd.DataFrame, by: str) -> list[str] | None:
    """Key kinds in their colours of every chart; task names in matplotlib's cycle."""
    if by != "kind":
        return None
    return [_OTHER_COLOR if c == OTHER else kind_color(c) for c in shown.columns]


def _top(table: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ``count`` groups largest at the last scan, the others summed as ``(other)``."""
    if table.shape[1] <= count:
        return table
    kept = table.iloc[:, :count].copy()  # History orders columns by the latest bytes
    kept[OTHER] = table.iloc[:, count:].sum(axis=1)
    return kept


def _forecast_lines(ax: Axes, history: History, *, ceiling: float) -> None:
    figures = history.figures
    times = pd.DatetimeIndex(figures["scanned_at"]).to_pydatetime()
    ahead = figures["forecast_bytes"].to_numpy(dtype=float, na_value=np.nan)
    if np.isfinite(ahead).any():
        ax.plot(times, ahead, "--", color="#c44e52",
                label=_FORECAST + _off_chart(float(np.nanmax(ahead)), ceiling))
    limit = figures["maxmemory"].to_numpy(dtype=float, na_value=np.nan)
    if len(limit) and np.isfinite(limit[-1]) and limit[-1] > 0:
        ax.axhline(limit[-1], linestyle=":", color="#333333",
                   label="maxmemory (all of Redis) at the last scan"
                   + _off_chart(float(limit[-1]), ceiling))


def _off_chart(value: float, ceiling: float) -> str:
    return f" (up to {format_bytes(value)}, above the chart)" if value > ceiling else ""
