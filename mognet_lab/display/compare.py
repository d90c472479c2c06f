"""Text and HTML views of a :class:`~mognet_lab.compare.Comparison` (presentation only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import html as h
from .text import (
    MISSING,
    format_count,
    format_delta_bytes,
    format_duration,
    format_size,
    frame_text,
    is_missing,
    kv_text,
)

if TYPE_CHECKING:
    from ..compare import Comparison

__all__ = ["comparison_html", "comparison_text"]


def _signed(value: Any) -> str:
    return MISSING if is_missing(value) else f"{int(value):+,}"


def _pct(value: Any) -> str:
    return "new" if is_missing(value) else f"{value:+.1f}%"


_FORMAT = {"bytes_old": format_size, "bytes_new": format_size,
           "delta_bytes": format_delta_bytes, "delta_pct": _pct}
_FORMAT.update({f"delta_{n}": _signed for n in ("keys", "results")})


def _summary_pairs(comparison: Comparison) -> list[tuple[str, str]]:
    s = comparison.summary
    app = s.app_new if s.app_old == s.app_new else f"{s.app_old} -> {s.app_new}"
    pairs = [("app", app), ("time between scans", format_duration(s.elapsed)),
             ("keys", f"{format_count(s.keys_old)} -> {format_count(s.keys_new)} "
                      f"({_signed(s.delta_keys)})"),
             ("memory", f"{format_size(s.bytes_old)} -> {format_size(s.bytes_new)} "
                        f"({format_delta_bytes(s.delta_bytes)})"),
             ("results", f"{format_count(s.results_old)} -> {format_count(s.results_new)}: "
                         f"{s.new_results:,} new, {s.removed_results:,} gone, "
                         f"{s.changed_state:,} changed state")]
    return pairs + [("note", note) for note in s.notes]


def _tables(comparison: Comparison) -> list[tuple[str, pd.DataFrame]]:
    return [("By key kind", comparison.by_kind), ("By task", comparison.by_task),
            ("By state", comparison.by_state)]


def comparison_text(comparison: Comparison, *, max_rows: int = 10) -> str:
    """The plain-text view of a comparison (its ``__repr__``)."""
    parts = ["<Comparison", kv_text(_summary_pairs(comparison))]
    parts += [f"{title}:\n{frame_text(frame, max_rows=max_rows, formatters=_FORMAT)}"
              for title, frame in _tables(comparison)]
    return "\n".join(parts) + ">"


def comparison_html(comparison: Comparison, *, max_rows: int = 20) -> str:
    """The rich view of a comparison: totals, then the three delta tables."""
    sections = [h.section(title, h.frame_table(frame, max_rows=max_rows, formatters=_FORMAT))
                for title, frame in _tables(comparison)]
    return h.root("Comparison of two scans", h.kv_table(_summary_pairs(comparison)), *sections)
