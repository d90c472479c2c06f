"""What every chart shares: a fresh Axes, byte and duration axes, colours, "no data".

Charts draw on an Axes they are given or on one of a new
:class:`matplotlib.figure.Figure` that pyplot never sees, so nothing here
touches pyplot's global figure list or rcParams.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, TypeVar, cast

import numpy as np
import pandas as pd

try:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter, LogLocator, MaxNLocator, NullLocator
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "mognet_lab.charts needs matplotlib (>= 3.6), which is not installed: "
        "run `pip install matplotlib` (or `conda install matplotlib`) and import again."
    ) from exc

from ..analysis import format_bytes
from ..analysis.estimate import sample_label
from ..errors import bad_option
from ..snapshot import Snapshot

__all__ = [
    "Axes",
    "BytesFormatter",
    "BytesLocator",
    "DurationFormatter",
    "KIND_COLORS",
    "TTL_COLORS",
    "NO_DATA",
    "NO_TTL",
    "WITH_TTL",
    "OTHER",
    "as_frame",
    "bytes_axis",
    "byte_unit",
    "format_bytes",
    "is_empty",
    "kind_color",
    "new_axes",
    "no_data",
    "positive_int",
    "require_columns",
]

NO_DATA = "no data"
NO_TTL = "no TTL"
WITH_TTL = "with TTL"
OTHER = "(other)"

# One colour per key kind, the same in every chart (colour-blind safe tab10 picks).
KIND_COLORS = {
    "result": "#4c72b0",
    "value": "#dd8452",
    "children": "#55a868",
    "metadata": "#8172b3",
    "state": "#937860",
    "unknown": "#8c8c8c",
}
# Keys that will expire are calm; keys that never expire are the warning colour.
TTL_COLORS = {WITH_TTL: "#4c72b0", NO_TTL: "#c44e52"}

_UNITS = (("B", 1), ("KiB", 1024), ("MiB", 1024 ** 2), ("GiB", 1024 ** 3), ("TiB", 1024 ** 4))


def kind_color(kind: object) -> str:
    return KIND_COLORS.get(str(kind), KIND_COLORS["unknown"])


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.0)) -> Axes:
    """``ax`` itself, or the Axes of a new pyplot-free Figure of ``figsize`` inches."""
    if ax is None:
        figure = Figure(figsize=figsize, layout="constrained")
        return figure.add_subplot()
    if not isinstance(ax, Axes):
        raise bad_option("ax", ax, "a matplotlib Axes or None")
    return ax


Chart = TypeVar("Chart", bound=Callable[..., Any])


def notes_estimates(chart: Chart) -> Chart:
    """A chart of a sampled snapshot says so under its title ("estimated from a 1%
    sample"), as every table and figure of one does."""
    @functools.wraps(chart)
    def drawn(data: object, *args: Any, **kwargs: Any) -> Any:
        ax = chart(data, *args, **kwargs)
        if isinstance(data, Snapshot) and data.provenance.sampled:
            label = sample_label(data.provenance.sample_fraction)
            title = ax.get_title()
            ax.set_title(f"{title}\n({label})" if title else label)
        return ax
    return cast(Chart, drawn)


def as_frame(data: object, compute: Callable[[Snapshot], pd.DataFrame],
             what: str) -> pd.DataFrame:
    """The DataFrame a chart draws: ``data`` itself, or ``compute(data)`` for a Snapshot."""
    if isinstance(data, Snapshot):
        return compute(data)
    if isinstance(data, pd.DataFrame):
        return data
    raise bad_option("data", type(data).__name__, f"a Snapshot or {what}")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise bad_option("data", f"a DataFrame without {', '.join(missing)}", what)


def positive_int(name: str, value: object) -> int:
    """``value`` as an int >= 1, else the usual BadOption naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise bad_option(name, value, "an integer >= 1")
    return int(value)


def is_empty(values: pd.Series | pd.DataFrame | np.ndarray) -> bool:
    """True when there is nothing to draw: no rows, or only zeros and missing values."""
    array = np.asarray(pd.DataFrame(values).to_numpy(dtype=float, na_value=np.nan))
    return array.size == 0 or not np.nansum(np.abs(array)) > 0


def no_data(ax: Axes, title: str, detail: str | None = None) -> Axes:
    """Say "no data" (and why) in the middle of an otherwise empty, titled Axes."""
    ax.set_title(title)
    message = NO_DATA if detail is None else f"{NO_DATA}\n({detail})"
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize="large", color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def byte_unit(nbytes: float) -> tuple[str, int]:
    """The largest binary unit in which ``nbytes`` is at least 1 (B for 0)."""
    size = abs(nbytes)
    chosen = _UNITS[0]
    for unit in _UNITS:
        if size >= unit[1]:
            chosen = unit
    return chosen


class BytesLocator(MaxNLocator):
    """Round ticks in the axis's own unit (0, 2, 4 MiB), not in bytes."""

    # matplotlib's own locators return arrays; its stubs say Sequence[float].
    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:  # type: ignore[override]
        factor = byte_unit(max(abs(vmin), abs(vmax)))[1]
        return np.asarray(super().tick_values(vmin / factor, vmax / factor)) * factor


class BytesFormatter(Formatter):
    """Tick labels in B, KiB, MiB or GiB, the unit chosen from the axis's range."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        if x == 0:
            return "0"
        if self.axis is not None:
            low, high = self.axis.get_view_interval()
            name, factor = byte_unit(max(abs(low), abs(high)))
            # On a log axis the ticks span units, so each tick picks its own.
            if getattr(self.axis, "get_scale", lambda: "linear")() == "log":
                name, factor = byte_unit(x)
        else:
            name, factor = byte_unit(x)
        return f"{x / factor:.4g} {name}"


class DurationFormatter(Formatter):
    """Tick labels like ``30 s``, ``6 h`` or ``3 d`` for positions in ``unit``."""

    _STEPS = (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3))

    def __init__(self, unit: str = "s") -> None:
        seconds = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
        if unit not in seconds:
            raise bad_option("unit", unit, "one of s, min, h, d")
        self.unit_s = seconds[unit]

    def __call__(self, x: float, pos: int | None = None) -> str:
        if x == 0:
            return "0"
        seconds = abs(x) * self.unit_s
        name, factor = next(((n, f) for n, f in self._STEPS if seconds >= f), self._STEPS[-1])
        return f"{'-' if x < 0 else ''}{seconds / factor:.3g} {name}"


def bytes_axis(axis: Any, *, log: bool = False) -> None:
    """Give ``axis`` (``ax.xaxis`` or ``ax.yaxis``) byte ticks and labels."""
    if log:
        axis.set_major_locator(LogLocator(base=2, numticks=8))
        axis.set_minor_locator(NullLocator())
    else:
        axis.set_major_locator(BytesLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(BytesFormatter())
