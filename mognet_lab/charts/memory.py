"""Where the app's memory goes: by key kind, by task name, and the largest keys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import analysis
from ..snapshot import Snapshot
from ._base import (
    notes_estimates,
    NO_TTL,
    OTHER,
    TTL_COLORS,
    WITH_TTL,
    Axes,
    as_frame,
    bytes_axis,
    format_bytes,
    is_empty,
    kind_color,
    new_axes,
    no_data,
    positive_int,
    require_columns,
)

__all__ = ["memory_by_kind", "memory_by_task", "top_keys"]

_MEMORY_LABEL = "memory (MEMORY USAGE)"


@notes_estimates
def memory_by_kind(data: Snapshot | pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of memory per key kind, split into keys with and without a TTL.

    Parameters
    ----------
    data
        A Snapshot, the frame of :func:`mognet_lab.analysis.ttl_buckets`
        (``kind``, ``bucket``, ``bytes``: split by TTL status), or that of
        ``analysis.memory_by(snapshot, by="kind")`` (``kind``, ``bytes``: one
        bar per kind, not split).
    ax
        Axes to draw on; a new Figure's Axes when None.

    Returns
    -------
    Axes
        The Axes drawn on; in a notebook, show it with ``ax.figure``.
    """
    frame = as_frame(data, analysis.ttl_buckets, "the ttl_buckets or memory_by(by='kind') frame")
    require_columns(frame, ["kind", "bytes"], "columns kind and bytes")
    table = _kind_by_status(frame)
    ax = new_axes(ax, figsize=(7.0, 0.9 + 0.45 * max(len(table), 3)))
    title = "Memory by key kind"
    if is_empty(table):
        return no_data(ax, title)
    left = np.zeros(len(table))
    for status in table.columns:
        widths = table[status].to_numpy(dtype=float)
        colors = TTL_COLORS.get(status) if status in TTL_COLORS else \
            [kind_color(k) for k in table.index]
        ax.barh(np.arange(len(table)), widths, left=left, color=colors, label=status)
        left += widths
    ax.set_yticks(np.arange(len(table)), table.index.astype(str))
    never = table[NO_TTL].to_numpy(dtype=float) if NO_TTL in table.columns else None
    _label_totals(ax, left, notes=None if never is None else
                  [f", {format_bytes(n)} no TTL" if n > 0 else "" for n in never])
    ax.invert_yaxis()  # largest kind on top
    bytes_axis(ax.xaxis)
    ax.set_xlabel(_MEMORY_LABEL)
    ax.set_ylabel("key kind")
    ax.set_title(title)
    if set(table.columns) <= set(TTL_COLORS):
        ax.legend(title="TTL", loc="lower right")
    return ax


@notes_estimates
def memory_by_task(data: Snapshot | pd.DataFrame, *, top: int = 10,
                   ax: Axes | None = None) -> Axes:
    """Horizontal bars of memory per task name (whole result families), largest first.

    Parameters
    ----------
    data
        A Snapshot, or the frame of ``analysis.memory_by(snapshot, by="name")``
        (``name``, ``bytes``).
    top
        Show this many task names; the rest are summed into one "(other)" bar, last.
    ax
        Axes to draw on; a new Figure's Axes when None.
    """
    top = positive_int("top", top)
    frame = as_frame(data, lambda s: analysis.memory_by(s, by="name", top=top),
                     "the memory_by(by='name') frame")
    require_columns(frame, ["name", "bytes"], "columns name and bytes")
    series = _top_with_other(frame, "name", top)
    ax = new_axes(ax, figsize=(7.5, 0.9 + 0.42 * max(len(series), 3)))
    title = f"Memory by task name (top {top})"
    if is_empty(series):
        return no_data(ax, title)
    colors = ["#b0b0b0" if name == OTHER else "#4c72b0" for name in series.index]
    ax.barh(np.arange(len(series)), series.to_numpy(dtype=float), color=colors)
    ax.set_yticks(np.arange(len(series)), series.index.astype(str))
    _label_totals(ax, series.to_numpy(dtype=float))
    ax.invert_yaxis()
    bytes_axis(ax.xaxis)
    ax.set_xlabel(_MEMORY_LABEL + " of the result's keys")
    ax.set_ylabel("task name")
    ax.set_title(title)
    return ax


@notes_estimates
def top_keys(data: Snapshot | pd.DataFrame, *, n: int = 15, ax: Axes | None = None) -> Axes:
    """The ``n`` largest keys by memory, labelled by kind and short result id.

    Parameters
    ----------
    data
        A Snapshot, or a frame with ``kind``, ``memory_bytes`` and ``result_id``
        or ``key`` columns (the ``keys`` frame). A ``name`` column, when present
        (added from ``results`` for a Snapshot), is shown after the id.
    n
        How many keys to show.
    ax
        Axes to draw on; a new Figure's Axes when None.
    """
    n = positive_int("n", n)
    frame = as_frame(data, _keys_with_names, "the keys frame")
    require_columns(frame, ["kind", "memory_bytes"], "columns kind and memory_bytes")
    largest = _largest(frame, n)
    ax = new_axes(ax, figsize=(7.5, 0.9 + 0.34 * max(len(largest), 3)))
    title = f"Largest keys (top {n})"
    if is_empty(largest["memory_bytes"]):
        return no_data(ax, title)
    widths = largest["memory_bytes"].to_numpy(dtype=float)
    ax.barh(np.arange(len(largest)), widths, color=[kind_color(k) for k in largest["kind"]])
    ax.set_yticks(np.arange(len(largest)), [_key_label(row) for row in largest.itertuples()])
    _label_totals(ax, widths, share=False)
    ax.invert_yaxis()
    bytes_axis(ax.xaxis)
    ax.set_xlabel(_MEMORY_LABEL)
    ax.set_title(title)
    _kind_legend(ax, largest["kind"])
    return ax


def _kind_by_status(frame: pd.DataFrame) -> pd.DataFrame:
    """kinds x (with TTL, no TTL) bytes, largest kind first; one column when no buckets."""
    data = frame.assign(kind=frame["kind"].astype(str),
                        bytes=pd.to_numeric(frame["bytes"], errors="coerce").fillna(0))
    if "bucket" in data.columns:
        status = np.where(data["bucket"].astype(str) == NO_TTL, NO_TTL, WITH_TTL)
        table = data.assign(status=status).pivot_table(
            index="kind", columns="status", values="bytes", aggfunc="sum", fill_value=0)
        table = table.reindex(columns=[WITH_TTL, NO_TTL], fill_value=0)
    else:
        table = data.groupby("kind")[["bytes"]].sum()
    table = table[table.sum(axis=1) > 0]
    return table.loc[table.sum(axis=1).sort_values(ascending=False, kind="stable").index]


def _top_with_other(frame: pd.DataFrame, by: str, top: int) -> pd.Series:
    """bytes per ``by``, the ``top`` largest then one "(other)" holding the rest."""
    sizes = pd.Series(pd.to_numeric(frame["bytes"], errors="coerce").fillna(0).to_numpy(),
                      index=frame[by].astype(str).to_numpy())
    sizes = sizes.groupby(level=0, sort=False).sum()
    other = sizes.pop(OTHER) if OTHER in sizes.index else 0.0
    sizes = sizes[sizes > 0].sort_values(ascending=False, kind="stable")
    other += sizes.iloc[top:].sum()
    sizes = sizes.iloc[:top]
    if other > 0:
        sizes[OTHER] = other
    return sizes


def _largest(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    sized = frame.assign(memory_bytes=pd.to_numeric(frame["memory_bytes"], errors="coerce"))
    return sized.dropna(subset=["memory_bytes"]).nlargest(n, "memory_bytes")


def _key_label(row: object) -> str:
    rid = getattr(row, "result_id", None)
    if not isinstance(rid, str):
        key = getattr(row, "key", None)
        rid = key.rsplit(".", 1)[-1] if isinstance(key, str) else "?"
    name = getattr(row, "name", None)
    task = f"  {name.rsplit('.', 1)[-1]}" if isinstance(name, str) and name else ""
    return f"{row.kind} {rid[:8]}{task}"  # type: ignore[attr-defined]


def _label_totals(ax: Axes, totals: np.ndarray, *, share: bool = True,
                  notes: list[str] | None = None) -> None:
    """Write each bar's size (and share of all bars) just past its end."""
    whole = float(np.nansum(totals))
    longest = 0
    for y, total in enumerate(totals):
        text = format_bytes(total)
        if share and whole > 0:
            text += f" ({total / whole:.0%})"
        text += notes[y] if notes else ""
        longest = max(longest, len(text))
        ax.annotate(text, (total, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize="small")
    # Room on the right for the longest label (a rough 2 % of the bar per character).
    ax.set_xlim(0, float(np.nanmax(totals)) * (1.05 + 0.022 * longest))


def _kind_legend(ax: Axes, kinds: pd.Series) -> None:
    from matplotlib.patches import Patch

    present = list(dict.fromkeys(str(k) for k in kinds))
    ax.legend(handles=[Patch(color=kind_color(k), label=k) for k in present],
              title="key kind", loc="lower right")


def _keys_with_names(snapshot: Snapshot) -> pd.DataFrame:
    """The keys frame with each key's task ``name`` (NA where its result is unknown)."""
    results = snapshot.results.drop_duplicates("result_id")
    names = results.set_index("result_id")["name"].astype(object)
    keys = snapshot.keys
    return keys.assign(name=keys["result_id"].astype(object).map(names))
