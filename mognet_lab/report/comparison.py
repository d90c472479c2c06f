"""A :class:`~mognet_lab.compare.Comparison` written out for machines: JSON or CSV.

JSON holds the summary and the three delta tables as records. CSV holds the
tables in one long table: a ``table`` column (``by_kind``, ``by_task``,
``by_state``), the ``group`` label and the same numbers under shared column
names (``count_*`` being keys for kinds and results for tasks and states).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import bad_option
from ..views.jsonout import plain, records

if TYPE_CHECKING:
    from ..compare import Comparison

__all__ = ["COMPARISON_SUFFIXES", "comparison_dict", "comparison_frame", "write_comparison"]

COMPARISON_SUFFIXES = (".json", ".csv")
_TABLES = {"by_kind": ("kind", "keys"), "by_task": ("name", "results"),
           "by_state": ("state", "results")}


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    """The summary and every delta table as plain values (times in seconds)."""
    summary = plain(dataclasses.asdict(comparison.summary))
    return {"summary": summary,
            **{name: records(getattr(comparison, name)) for name in _TABLES}}


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """The three delta tables stacked, with ``table`` and ``group`` columns."""
    parts = []
    for name, (group, count) in _TABLES.items():
        frame = getattr(comparison, name).rename(columns={
            group: "group", f"{count}_old": "count_old", f"{count}_new": "count_new",
            f"delta_{count}": "delta_count"})
        parts.append(frame.assign(table=name))
    stacked = pd.concat(parts, ignore_index=True)
    return stacked[["table", "group", *[c for c in stacked.columns
                                        if c not in ("table", "group")]]]


def write_comparison(comparison: Comparison, path: str | Path) -> Path:
    """Write ``comparison`` as JSON or CSV, as ``path``'s suffix says."""
    target = Path(path)
    suffix = check_comparison_path(target)
    if suffix == ".json":
        text = json.dumps(comparison_dict(comparison), indent=2, ensure_ascii=False,
                          allow_nan=False) + "\n"
        target.write_text(text, encoding="utf-8")
    else:
        comparison_frame(comparison).to_csv(target, index=False)
    return target


def check_comparison_path(path: str | Path) -> str:
    """``path``'s suffix if a comparison can be written there, else raise BadOption."""
    suffix = Path(path).suffix.lower()
    if suffix not in COMPARISON_SUFFIXES:
        raise bad_option("output", str(path), "a file name ending in "
                         + " or ".join(COMPARISON_SUFFIXES))
    return suffix
