"""A plain-text summary of a Snapshot, for terminals (presentation only)."""

from __future__ import annotations

import textwrap

import pandas as pd

from .snapshot import Snapshot
from .units import format_bytes

__all__ = ["summary_text"]

def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False) if len(frame) else "  (none)"


def _by_state(snapshot: Snapshot) -> pd.DataFrame:
    results = snapshot.results
    grouped = results.groupby("state", observed=True).agg(
        results=("result_id", "size"), memory=("total_memory_bytes", "sum"))
    grouped = grouped.sort_values("results", ascending=False).reset_index()
    grouped["memory"] = grouped["memory"].map(format_bytes)
    return grouped


def _by_kind(snapshot: Snapshot) -> pd.DataFrame:
    keys = snapshot.keys
    total = keys["memory_bytes"].sum()
    grouped = keys.groupby("kind", observed=True).agg(
        keys=("key", "size"), memory=("memory_bytes", "sum"),
        no_ttl=("ttl_s", lambda ttl: int(ttl.isna().sum())))
    grouped = grouped.sort_values("memory", ascending=False).reset_index()
    grouped["share"] = (grouped["memory"] / total).map(lambda s: f"{s:.0%}") if total else "-"
    grouped["memory"] = grouped["memory"].map(format_bytes)
    return grouped


def _without_ttl(snapshot: Snapshot) -> pd.DataFrame:
    keys = snapshot.keys[snapshot.keys["ttl_s"].isna()]
    grouped = keys.groupby("kind", observed=True).agg(
        keys=("key", "size"), memory=("memory_bytes", "sum")).reset_index()
    grouped["memory"] = grouped["memory"].map(format_bytes)
    return grouped


def _findings_text(snapshot: Snapshot, count: int) -> str:
    from .analysis import findings

    found = findings(snapshot)
    if not len(found):
        return "\nTop findings\n  none: nothing to act on"
    lines = [f"\nTop findings ({min(count, len(found))} of {len(found)})"]
    for row in found.head(count).itertuples():
        lines.append(f"  [{row.severity}] {row.title}")
        lines.append(textwrap.fill(row.measured, width=100, initial_indent="      ",
                                   subsequent_indent="      "))
        lines.append(textwrap.fill("-> " + row.advice, width=100, initial_indent="      ",
                                   subsequent_indent="         "))
    return "\n".join(lines)


def summary_text(snapshot: Snapshot, *, findings: int = 5) -> str:
    """Results by state, memory by key kind, keys without TTL and the top findings."""
    p = snapshot.provenance
    keys = snapshot.keys
    errors = int(keys["error"].notna().sum())
    head = [f"Mognet app {p.app!r} at {p.url}",
            f"scanned {p.scanned_at:%Y-%m-%d %H:%M:%S} UTC in {p.duration_s:.1f} s: "
            f"{len(keys)} keys, {format_bytes(keys['memory_bytes'].sum())}, "
            f"{len(snapshot.results)} results"
            + ("" if p.complete else " (partial: --limit reached)")
            + (f", {errors} keys with read errors" if errors else ""),
            *[f"warning: {text}" for text in p.warnings]]
    sections = [("Results by state", _by_state(snapshot)),
                ("Memory by key kind", _by_kind(snapshot)),
                ("Keys without TTL (they never expire)", _without_ttl(snapshot))]
    body = [f"\n{title}\n{_table(frame)}" for title, frame in sections]
    if findings:
        body.append(_findings_text(snapshot, findings))
    return "\n".join(head + body)
