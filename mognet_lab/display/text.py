"""Plain-text formatting shared by every display (``__repr__`` and HTML cells alike).

Pure functions of values; nothing here knows about HTML, so the text and the
HTML renderings of a view always show the same numbers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

import pandas as pd

from ..units import format_bytes

__all__ = [
    "MISSING",
    "Formatter",
    "format_cell",
    "format_count",
    "format_delta_bytes",
    "format_duration",
    "format_size",
    "format_time",
    "format_ttl",
    "frame_text",
    "is_missing",
    "kv_text",
    "shorten",
]

Formatter = Callable[[Any], str]
# What an absent value looks like in every display.
MISSING = "-"


def is_missing(value: Any) -> bool:
    """Whether ``value`` is None/NA/NaN/NaT (lists, dicts and arrays never are)."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, dict, set)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_duration(value: Any) -> str:
    """Seconds or a timedelta as ``"850 ms"``, ``"2.5 s"``, ``"4 min 05 s"``, ``"3 d 4 h"``."""
    if is_missing(value):
        return MISSING
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(seconds):
        return MISSING
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 1:
        return f"{sign}{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{sign}{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{sign}{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{sign}{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d {hours} h"


def format_ttl(seconds: Any) -> str:
    """A key's TTL; a missing TTL means the key never expires."""
    return "no TTL (never expires)" if is_missing(seconds) else format_duration(seconds)


def format_time(value: Any) -> str:
    """A timestamp as ``2026-11-23 05:10:46.924Z`` (UTC, milliseconds)."""
    if is_missing(value):
        return MISSING
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return f"{stamp:%Y-%m-%d %H:%M:%S}.{stamp.microsecond // 1000:03d}Z"


def format_size(value: Any) -> str:
    """A byte count in binary units (``"1.5 KiB"``); NA shows as ``-``."""
    return MISSING if is_missing(value) else format_bytes(value)


def format_count(value: Any) -> str:
    return MISSING if is_missing(value) else f"{int(value):,}"


def format_delta_bytes(value: Any) -> str:
    """A signed byte difference: ``"+1.5 KiB"``, ``"-300 B"``, ``"0 B"``."""
    if is_missing(value):
        return MISSING
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return sign + format_bytes(abs(value))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters not shown)"


def format_cell(value: Any) -> str:
    """Any frame cell as short text (timestamps, durations, floats made readable)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (pd.Timestamp, datetime)):
        return format_time(value)
    if isinstance(value, (pd.Timedelta, timedelta)):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def formatted(frame: pd.DataFrame, formatters: Mapping[str, Formatter] | None = None
              ) -> list[list[str]]:
    """The cells of ``frame`` as text, row by row."""
    chosen = formatters or {}
    columns = [(chosen.get(str(c), format_cell), frame[c].tolist()) for c in frame.columns]
    return [[fmt(values[i]) for fmt, values in columns] for i in range(len(frame))]


def frame_text(frame: pd.DataFrame, *, max_rows: int = 20,
               formatters: Mapping[str, Formatter] | None = None) -> str:
    """An aligned text table of the first ``max_rows`` rows, noting the rest."""
    if frame.empty:
        return "  (none)"
    shown = frame.head(max_rows)
    header = [str(c) for c in shown.columns]
    rows = formatted(shown, formatters)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    left_out = len(frame) - len(shown)
    if left_out:
        lines.append(f"  ... {left_out:,} more rows not shown")
    return "\n".join(lines)


def kv_text(pairs: Iterable[tuple[str, str]], *, indent: str = "  ") -> str:
    """``label: value`` lines with the values aligned."""
    items = list(pairs)
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{indent}{label.ljust(width)}  {value}" for label, value in items)
