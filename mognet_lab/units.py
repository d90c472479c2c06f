"""Byte counts for people, in binary units: the one formatter every layer uses."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["format_bytes"]

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_bytes(n: float | int | None) -> str:
    """A byte count for people, in binary units.

    Parameters
    ----------
    n
        Number of bytes; NA/None gives ``"unknown"``.

    Returns
    -------
    str
        ``"512 B"``, ``"1.5 MiB"``, ``"-2.0 KiB"``...
    """
    if n is None or pd.isna(n):
        return "unknown"
    size, sign = abs(float(n)), "-" if n < 0 else ""
    if size < 1024:
        return f"{sign}{size:.0f} B"
    power = min(int(math.log(size, 1024)), len(_UNITS) - 1)
    scaled = size / 1024**power
    if round(scaled, 1) >= 1024 and power < len(_UNITS) - 1:
        power, scaled = power + 1, scaled / 1024  # 1023.96 KiB reads better as 1.0 MiB
    return f"{sign}{scaled:.1f} {_UNITS[power]}"
