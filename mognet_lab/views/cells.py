"""The one vocabulary of cells: how every view shows a byte count, a duration, a share.

A value's *unit* says how to show it; a table column gets its unit from its
name and dtype (:func:`column_unit`), so ``bytes`` is always ``1.5 MiB`` and
``share_of_app`` always ``12.3%``, in a repr, the CLI summary, the report or
the dashboard. Pure functions of values; nothing here escapes or knows
about HTML: renderers escape the text these functions return.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from ..units import format_bytes

__all__ = [
    "COLUMN_LABELS",
    "MISSING",
    "NUMERIC_UNITS",
    "UNITS",
    "column_label",
    "column_unit",
    "format_cell",
    "format_count",
    "format_delta_bytes",
    "format_duration",
    "format_limit",
    "format_size",
    "format_time",
    "format_ttl",
    "format_value",
    "is_missing",
    "shorten",
]

# What an absent value looks like in every view.
MISSING = "-"
UNITS = ("text", "bytes", "count", "share", "ratio", "ttl", "seconds", "duration", "time",
         "rate", "flag", "delta_bytes", "signed", "pct")
# Units shown right-aligned.
NUMERIC_UNITS = frozenset({"bytes", "count", "share", "ratio", "rate", "seconds", "duration",
                           "delta_bytes", "signed", "pct"})
# Headers for columns whose name, spaced out, would still read as code; every view's
# table headers and fact labels come through column_label (JSON keeps the names).
COLUMN_LABELS = {
    "name": "task", "result_id": "result id", "node_id": "node",
    "share_of_app": "share of the app's memory", "share_of_used_memory": "share of used_memory",
    "stored_bytes": "stored size", "raw_bytes": "size before gzip", "saved_bytes": "saved by gzip",
    "memory_bytes": "memory", "total_memory_bytes": "memory",
    "extra_bytes_estimate": "extra over a listpack (estimate)", "limit_bytes": "listpack limit",
    "assumed_limit": "limit assumed", "current_bytes": "now",
    "steady_state_bytes": "steady state", "never_expiring_bytes": "never expiring",
    "total_bytes": "forecast total", "headroom_bytes": "headroom",
    "exception_name": "exception", "value_status": "value", "request_kwargs_repr": "arguments",
    "no_ttl": "without TTL",
}
_BYTE_COLUMNS = {"bytes", "maxmemory", "used_memory", "bytes_old", "bytes_new"}


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
    if is_missing(value) or not math.isfinite(float(value)):
        return MISSING
    return format_bytes(value)


def format_limit(value: Any) -> str:
    """A memory limit: ``maxmemory`` 0 means none; NaN means the server did not say."""
    if is_missing(value):
        return "unknown"
    return "0 (no limit)" if value == 0 else format_size(value)


def format_count(value: Any) -> str:
    """A count with thousands separators; a fraction keeps two decimals."""
    if is_missing(value):
        return MISSING
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


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
    """Any cell as short text (timestamps, durations, floats made readable)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, (pd.Timestamp, datetime)):
        return format_time(value)
    if isinstance(value, (pd.Timedelta, timedelta)):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def column_unit(name: str, dtype: Any = None) -> str:
    """The unit of a table column, from its name (then its dtype)."""
    for bound in ("_low", "_high"):  # an estimate's interval: the estimate's unit
        if name.endswith(bound) and len(name) > len(bound):
            return column_unit(name[:-len(bound)], dtype)
    if name in _BYTE_COLUMNS or name.endswith("_bytes") or name.endswith("_bytes_estimate"):
        return "bytes"
    if name.startswith("delta_"):
        return {"delta_bytes": "delta_bytes", "delta_pct": "pct"}.get(name, "signed")
    if name.startswith("share"):
        return "share"
    if "ratio" in name.split("_"):  # not "duration_p50"
        return "ratio"
    if name == "ttl_s":
        return "ttl"
    if name.endswith("_ttl_s") or name.endswith("duration_s"):
        return "seconds"
    if name == "rate_per_s":
        return "rate"
    return "text" if dtype is None else _dtype_unit(dtype)


def column_label(name: str, unit: str) -> str:
    """A column's header: :data:`COLUMN_LABELS`, else ``ttl_s`` -> ``ttl``,
    ``queue_p50`` -> ``queue p50``.

    The unit suffix goes once the cells carry their own (``3 d 4 h``, ``1.2/h``).
    """
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if name == "rate_per_s":
        name = "rate"
    elif unit in ("ttl", "seconds") and name.endswith("_s"):
        name = name[:-2]
    return name.replace("_", " ")


def _dtype_unit(dtype: Any) -> str:
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "duration"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "time"
    if pd.api.types.is_bool_dtype(dtype):
        return "flag"
    if pd.api.types.is_integer_dtype(dtype):
        return "count"
    return "text"


def format_value(value: Any, unit: str = "text") -> str:
    """``value`` as the text a reader sees (NA shows as ``-``, or ``no TTL`` for a TTL)."""
    if unit == "ttl":
        return format_ttl(value)
    if unit == "pct" and is_missing(value):
        return "new"  # no bytes before: a percentage of nothing
    if is_missing(value):
        return MISSING
    formatter = _FORMATTERS.get(unit)
    return formatter(value) if formatter else format_cell(value)


def _finite(value: Any, template: str) -> str:
    number = float(value)
    return MISSING if not math.isfinite(number) else template.format(number)


def _rate(value: Any) -> str:
    number = float(value)
    if not math.isfinite(number):
        return MISSING
    return f"{number * 3600:,.1f}/h" if number < 1 else f"{number:,.1f}/s"


_FORMATTERS = {
    "bytes": format_size,
    "count": format_count,
    "share": lambda v: _finite(v, "{:.1%}"),
    "ratio": lambda v: _finite(v, "{:.2f}"),
    "seconds": format_duration,
    "duration": format_duration,
    "time": format_time,
    "rate": _rate,
    "flag": lambda v: "yes" if bool(v) else "no",
    "delta_bytes": format_delta_bytes,
    "signed": lambda v: f"{int(v):+,}",
    "pct": lambda v: f"{float(v):+.1f}%",
}
