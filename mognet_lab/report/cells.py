"""How a report shows one number or one cell, the same in HTML and Markdown (pure).

A value's *unit* says how to show it; table columns get theirs from their
name and dtype (:func:`column_unit`), so ``bytes`` is always ``1.5 MiB`` and
``share_of_app`` always ``12.3%``, whichever renderer draws the table.
Nothing here escapes: renderers escape the text these functions return.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..display.text import (
    MISSING,
    format_cell,
    format_duration,
    format_size,
    format_time,
    format_ttl,
    is_missing,
)

__all__ = ["NUMERIC_UNITS", "UNITS", "column_label", "column_unit", "format_value"]

UNITS = ("text", "bytes", "count", "share", "ratio", "ttl", "seconds", "duration", "time",
         "rate", "flag")
# Units shown right-aligned.
NUMERIC_UNITS = frozenset({"bytes", "count", "share", "ratio", "rate", "seconds", "duration"})
_BYTE_COLUMNS = {"bytes", "maxmemory", "used_memory"}


def column_unit(name: str, dtype: Any) -> str:
    """The unit of a table column, from its name (then its dtype)."""
    if name in _BYTE_COLUMNS or name.endswith("_bytes") or name.endswith("_bytes_estimate"):
        return "bytes"
    if name.startswith("share"):
        return "share"
    if "ratio" in name.split("_"):  # not "duration_p50"
        return "ratio"
    if name == "ttl_s":
        return "ttl"
    if name.endswith("_ttl_s"):
        return "seconds"
    if name == "rate_per_s":
        return "rate"
    return _dtype_unit(dtype)


def column_label(name: str, unit: str) -> str:
    """A column's header: ``ttl_s`` -> ``ttl``, ``share_of_app`` -> ``share of app``.

    The unit suffix goes once the cells carry their own (``3 d 4 h``, ``1.2/h``).
    """
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
    if is_missing(value):
        return MISSING
    formatter = _FORMATTERS.get(unit)
    return formatter(value) if formatter else format_cell(value)


def _count(value: Any) -> str:
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def _share(value: Any) -> str:
    number = float(value)
    return MISSING if not math.isfinite(number) else f"{number:.1%}"


def _ratio(value: Any) -> str:
    number = float(value)
    return MISSING if not math.isfinite(number) else f"{number:.2f}"


def _rate(value: Any) -> str:
    number = float(value)
    if not math.isfinite(number):
        return MISSING
    return f"{number * 3600:,.1f}/h" if number < 1 else f"{number:,.1f}/s"


def _flag(value: Any) -> str:
    return "yes" if bool(value) else "no"


def _bytes(value: Any) -> str:
    number = float(value)
    return MISSING if not math.isfinite(number) else format_size(number)


_FORMATTERS = {
    "bytes": _bytes,
    "count": _count,
    "share": _share,
    "ratio": _ratio,
    "seconds": format_duration,
    "duration": format_duration,
    "time": format_time,
    "rate": _rate,
    "flag": _flag,
}
