"""Small pandas/Arrow helpers shared by the frame builder and the analyses (pure)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["arrow_of", "member_of", "positions_in", "sum_by_position"]


def arrow_of(values: Any) -> pa.ChunkedArray | pa.Array:
    """Arrow view of a column (no copy for Arrow-backed strings)."""
    if isinstance(values, pd.Series):
        values = values.array
    export = getattr(values, "__arrow_array__", None)
    if export is not None:
        return export()
    return pa.array(pd.Series(values, dtype=object).to_numpy(dtype=object, na_value=None),
                    from_pandas=True)


def positions_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """For each of ``values``, the position of its first occurrence in ``pool``, or -1.

    Hashing runs in Arrow: no Python object per value.
    """
    if not len(values) or not len(pool):
        return np.full(len(values), -1, dtype=np.int64)
    pool_arrow = arrow_of(pool)
    if isinstance(pool_arrow, pa.ChunkedArray):
        pool_arrow = pool_arrow.combine_chunks()
    found = pc.index_in(arrow_of(values), value_set=pool_arrow)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def sum_by_position(positions: np.ndarray, amounts: Any, size: int) -> np.ndarray:
    """Per target position (0..size-1), the sum of ``amounts`` pointing at it (-1: none).

    ``amounts`` may hold missing values, which count as 0.
    """
    weights = pd.Series(amounts).fillna(0).to_numpy(dtype=np.int64)
    hit = positions >= 0
    return np.bincount(positions[hit], weights=weights[hit], minlength=size).astype(np.int64)


def member_of(values: pd.Series, pool: Iterable[Any]) -> pd.Series:
    """``values.isin(pool)`` for id and key columns, fast at any size.

    Two columns are compared in Arrow; a Python set is looked up per value
    (pandas' ``isin`` on Arrow-backed strings is slow for many ids).
    """
    if isinstance(pool, pd.Series):
        if not len(values) or not len(pool):
            return pd.Series(False, index=values.index, dtype=bool)
        try:
            return pd.Series(positions_in(values, pool) >= 0, index=values.index, dtype=bool)
        except (pa.ArrowException, TypeError):
            pass  # mixed types: compare as Python objects
    members = pool if isinstance(pool, AbstractSet) else \
        set(pd.Series(list(pool), dtype=object).dropna())
    found = [value in members for value in values.to_numpy(dtype=object, na_value=None)]
    return pd.Series(found, index=values.index, dtype=bool)
