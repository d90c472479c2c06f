"""Metadata fields: a column per field name that recurs, one JSON column for the rest.

Metadata hashes are free-form: most apps write a few names that every hash
shares (``user``, ``tenant``), some write names unique to each request. A
column per name is right for the first and quadratic for the second (every
new name is a column as long as the frame), so the cells are collected as
``(row, name, value)`` triples during the scan and laid out once at the end:
at most ``max_columns`` names become columns (all of them when there are no
more, else the most frequent ones seen in two hashes or more); the other
fields of each row go into its ``other_fields`` cell as a JSON object.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["FieldCells", "OTHER_FIELDS", "wide_names"]

OTHER_FIELDS = "other_fields"


def wide_names(counts: Counter[str], max_columns: int) -> list[str]:
    """The field names that get a column of their own, from every name's count."""
    if len(counts) <= max_columns:
        return list(counts)  # first-seen order, as the columns always were
    frequent = {name for name, count in counts.most_common(max_columns) if count > 1}
    return [name for name in counts if name in frequent]


class FieldCells:
    """The flattened fields of a frame's rows, as triples, until :meth:`lay_out`."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.names: list[str] = []
        self.values: list[Any] = []

    def add(self, row: int, fields: Mapping[str, Any]) -> None:
        for name, value in fields.items():
            self.rows.append(row)
            self.names.append(name)
            self.values.append(value)

    def lay_out(self, frame: pd.DataFrame, *, max_columns: int,
                wide: list[str] | None = None) -> pd.DataFrame:
        """``frame`` with the wide columns and ``other_fields`` added (cells released).

        ``wide``: the names to give columns, when chosen over more rows than
        these (a dataset lays out every bucket alike); else chosen here.
        """
        if wide is None:
            wide = wide_names(Counter(self.names), max_columns)
        columns = {name: np.full(len(frame), None, dtype=object) for name in wide}
        others: dict[int, dict[str, Any]] = {}
        for row, name, value in zip(self.rows, self.names, self.values):
            column = columns.get(name)
            if column is not None:
                column[row] = value
            else:
                others.setdefault(row, {})[name] = value
        self.rows, self.names, self.values = [], [], []
        other = np.full(len(frame), None, dtype=object)
        for row, fields in others.items():
            other[row] = json.dumps(fields, sort_keys=True, default=str)
        out = frame.copy(deep=False)
        out[OTHER_FIELDS] = pd.array(other, dtype=pd.StringDtype("pyarrow"))
        extra = pd.DataFrame({name: pd.Series(values, dtype=object)
                              for name, values in columns.items()}, index=frame.index)
        return pd.concat([out, extra], axis=1) if len(extra.columns) else out
