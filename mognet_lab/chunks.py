"""A frame's columns held as typed chunks, one per scan batch (pure).

A scan of millions of keys must not keep a Python object per key until the
end: each batch's column lists (:class:`~mognet_lab.records.Columns`) are
turned into Arrow or NumPy chunks as soon as the batch is decoded, and the
finished DataFrame is assembled from the chunks once, column by column, with
the dtypes of :mod:`.schemas`. The values are exactly those
:func:`~mognet_lab.schemas.conform` gives for the same lists.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from . import schemas

__all__ = ["ChunkedFrame"]

_STRING = pa.large_string()
_INT = pa.int64()
_FLOAT = pa.float64()
_BOOL = pa.bool_()
_NAT = np.iinfo(np.int64).min


class _Categories:
    """Codes of a categorical column, assigned as values first appear."""

    __slots__ = ("codes",)

    def __init__(self) -> None:
        self.codes: dict[Any, int] = {None: -1}

    def encode(self, values: list[Any]) -> np.ndarray:
        codes = self.codes  # the decoders give categorical columns text or None only
        return np.array([codes[v] if v in codes else self._new(v) for v in values],
                        dtype=np.int32)

    def _new(self, value: Any) -> int:
        if isinstance(value, float) and value != value:  # NaN is missing, as in pandas
            return -1
        code = self.codes[value] = len(self.codes) - 1
        return code

    def finish(self, chunks: list[np.ndarray]) -> pd.Series:
        uniques = [value for value in self.codes if value is not None]
        # pandas orders the categories (sorted where it can); map our codes onto its own.
        ordered = pd.Categorical(pd.Series(uniques, dtype=object))
        remap = np.append(np.asarray(ordered.codes, dtype=np.int32), np.int32(-1))
        codes = remap[np.concatenate(chunks)] if chunks else np.array([], dtype=np.int32)
        return pd.Series(pd.Categorical.from_codes(codes, dtype=ordered.dtype))


def _arrow(values: list[Any], kind: pa.DataType, dtype: object) -> pa.Array:
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        # Cells of an unexpected type: convert as conform() would, then to Arrow.
        return pa.array(schemas.as_dtype(values, dtype).array, type=kind, from_pandas=True)


def _strings(values: list[bytes]) -> pa.Array:
    """Text of raw names (key names): UTF-8 as is, other bytes as visible escapes."""
    try:
        return pa.array(values, type=pa.large_binary()).cast(_STRING)
    except (pa.ArrowException, TypeError):
        return pa.array([value.decode("utf-8", "backslashreplace")
                         if isinstance(value, bytes) else value for value in values],
                        type=_STRING)


def _timestamps(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    series = schemas.as_dtype(values, schemas.UTC_TIME)
    return series.array.asi8.copy()


class ChunkedFrame:
    """Columns of one frame as per-batch typed chunks.

    Parameters
    ----------
    name
        The frame's name in :data:`~mognet_lab.schemas.SCHEMAS`.
    prepare
        Called with each batch's column lists before they are converted
        (e.g. to parse timestamps and note the ones that do not parse).
    schema
        Columns and dtypes of a frame that is not in ``SCHEMAS``.
    """

    def __init__(self, name: str,
                 prepare: Callable[[dict[str, list[Any]]], None] | None = None,
                 schema: Mapping[str, object] | None = None) -> None:
        self.name = name
        self.schema = schema if schema is not None else schemas.SCHEMAS[name]
        self.length = 0
        self._prepare = prepare
        self._sizes: list[int] = []
        self._chunks: dict[str, dict[int, Any]] = {}
        self._categories: dict[str, _Categories] = {}

    def append(self, columns: dict[str, list[Any]], length: int) -> None:
        """Convert one batch's column lists (each ``length`` long) and keep them."""
        if not length:
            return
        if self._prepare is not None:
            self._prepare(columns)
        batch = len(self._sizes)
        for name, values in columns.items():
            self._chunks.setdefault(name, {})[batch] = self._convert(name, values)
        self._sizes.append(length)
        self.length += length

    def _convert(self, name: str, values: Any) -> Any:
        dtype = self.schema.get(name)
        if dtype == schemas.STRING:
            return _strings(values) if values and values[0].__class__ is bytes else \
                _arrow(values, _STRING, dtype)
        if dtype == schemas.CATEGORY:
            return self._categories.setdefault(name, _Categories()).encode(values)
        if dtype == schemas.INT:
            return _arrow(values, _INT, dtype)
        if dtype == schemas.FLOAT:
            return _arrow(values, _FLOAT, dtype)
        if dtype == schemas.BOOL:
            return _arrow(values, _BOOL, dtype)
        if dtype == schemas.UTC_TIME:
            return _timestamps(values)
        return values if dtype is None else schemas.as_dtype(values, dtype)

    def finish(self) -> pd.DataFrame:
        """The frame, declared columns first in declared order, then the others;
        the chunks are released as each column is built."""
        if not self.length:
            return pd.DataFrame({column: pd.Series([], dtype=dtype)  # type: ignore[call-overload]
                                 for column, dtype in self.schema.items()})
        out: dict[str, pd.Series] = {}
        extras = [name for name in self._chunks if name not in self.schema]
        for name in (*self.schema, *extras):
            out[name] = self._column(name, self._chunks.pop(name, {}))
            # Arrow's allocator keeps freed chunks for reuse; hand them back now,
            # before the next column is built.
            pa.default_memory_pool().release_unused()
        return pd.DataFrame(out, copy=False)

    def _column(self, name: str, chunks: Mapping[int, Any]) -> pd.Series:
        dtype = self.schema.get(name)
        if dtype == schemas.CATEGORY:
            codes = [chunks[i] if i in chunks else np.full(size, -1, dtype=np.int32)
                     for i, size in enumerate(self._sizes)]
            categories = self._categories.pop(name, _Categories())
            return categories.finish(codes)
        if dtype == schemas.UTC_TIME:
            stamps = np.concatenate([chunks[i] if i in chunks else np.full(size, _NAT)
                                     for i, size in enumerate(self._sizes)])
            return pd.Series(pd.to_datetime(stamps, utc=True), dtype=schemas.UTC_TIME)
        arrow = {schemas.STRING: _STRING, schemas.INT: _INT, schemas.FLOAT: _FLOAT,
                 schemas.BOOL: _BOOL}.get(dtype)  # type: ignore[call-overload]
        if arrow is not None:
            joined = pa.chunked_array([chunks[i] if i in chunks else pa.nulls(size, arrow)
                                       for i, size in enumerate(self._sizes)], type=arrow)
            return _from_arrow(joined, dtype)
        if dtype is not None:  # timedeltas: not collected during a scan
            parts = [chunks[i] if i in chunks else schemas.as_dtype([None] * size, dtype)
                     for i, size in enumerate(self._sizes)]
            return pd.concat(parts, ignore_index=True)
        values: list[Any] = []
        for i, size in enumerate(self._sizes):
            values.extend(chunks[i] if i in chunks else [None] * size)
        return pd.Series(values, dtype=object)


def _from_arrow(joined: pa.ChunkedArray, dtype: object) -> pd.Series:
    if dtype == schemas.FLOAT:
        return pd.Series(joined.to_numpy(), dtype=schemas.FLOAT)
    pandas_dtype = pd.api.types.pandas_dtype(dtype)
    return pd.Series(pandas_dtype.__from_arrow__(joined), dtype=pandas_dtype)  # type: ignore[attr-defined]
