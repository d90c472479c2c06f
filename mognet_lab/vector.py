"""Small pandas helpers shared by the frame builder and the analyses (pure)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any, Iterable

import pandas as pd

__all__ = ["member_of"]


def member_of(values: pd.Series, pool: Iterable[Any]) -> pd.Series:
    """``values.isin(pool)`` for id and key columns, fast at any size.

    pandas' ``isin`` on Arrow-backed string columns is several times slower
    than a set lookup per value for hundreds of thousands of ids.
    """
    members = pool if isinstance(pool, AbstractSet) else \
        set(pd.Series(list(pool), dtype=object).dropna())
    found = [value in members for value in values.to_numpy(dtype=object, na_value=None)]
    return pd.Series(found, index=values.index, dtype=bool)
