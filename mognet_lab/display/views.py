"""Text and HTML views of a Lab, a Snapshot, its server and a findings table.

Presentation only: every number comes from the snapshot's frames or the
findings frame as they are; nothing is read from Redis here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..schemas import FRAME_NAMES, VALUE_STATUSES
from ..urls import censor_url
from . import html as h
from .text import (
    MISSING,
    format_count,
    format_duration,
    format_size,
    format_time,
    is_missing,
    kv_text,
)

if TYPE_CHECKING:
    from ..lab import Lab
    from ..snapshot import Snapshot

__all__ = ["ServerInfo", "findings_html", "lab_html", "snapshot_html", "snapshot_text"]

_BYTES = {"memory": format_size}


def lab_html(lab: Lab) -> str:
    """HTML of a :class:`~mognet_lab.Lab`: app, censored URL and nodes."""
    nodes = [node.label for node in lab.nodes]
    return h.root(f"Mognet lab: app {lab.app!r}",
                  h.kv_table([("app", lab.app), ("url", censor_url(lab.url)),
                              ("nodes", f"{len(nodes)}: " + ", ".join(nodes))]),
                  h.note("lab.scan() reads the app into a Snapshot; "
                         "lab.value(result_id) reads one stored value."))


def _state_counts(snapshot: Snapshot) -> pd.DataFrame:
    grouped = snapshot.results.groupby("state", observed=True).agg(
        results=("result_id", "size"), memory=("total_memory_bytes", "sum"))
    return grouped.sort_values("results", ascending=False).reset_index()


def _status_counts(snapshot: Snapshot) -> pd.DataFrame:
    counts = snapshot.results["value_status"].value_counts()
    counts = counts.reindex([s for s in VALUE_STATUSES if counts.get(s, 0)], fill_value=0)
    return pd.DataFrame({"value_status": counts.index.astype(str), "results": counts.to_numpy()})


def _kind_counts(snapshot: Snapshot) -> pd.DataFrame:
    keys = snapshot.keys
    grouped = keys.groupby("kind", observed=True).agg(
        keys=("key", "size"), memory=("memory_bytes", "sum"),
        no_ttl=("ttl_s", lambda ttl: int(ttl.isna().sum())))
    return grouped.sort_values("memory", ascending=False).reset_index()


def _errors(snapshot: Snapshot) -> dict[str, int]:
    """Rows with something unreadable, per frame (only frames that have some)."""
    counts = {name: int(snapshot.frames[name]["error"].notna().sum()) for name in FRAME_NAMES
              if "error" in snapshot.frames[name].columns}
    return {name: n for name, n in counts.items() if n}


def _error_text(errors: dict[str, int]) -> str:
    total = sum(errors.values())
    if not total:
        return "none"
    return f"{total:,} rows (" + ", ".join(f"{k} {n:,}" for k, n in errors.items()) + \
        "): see the 'error' columns"


def _overview(snapshot: Snapshot) -> list[tuple[str, str]]:
    p, keys = snapshot.provenance, snapshot.keys
    partial = "complete" if p.complete else \
        f"PARTIAL: stopped after {p.keys_read:,} keys (limit); totals undercount"
    return [("app", p.app), ("url", censor_url(p.url)),
            ("scanned at", format_time(p.scanned_at)),
            ("scan took", format_duration(p.duration_s)), ("scan", partial),
            ("keys", format_count(len(keys))),
            ("memory", format_size(keys["memory_bytes"].sum())),
            ("results", format_count(len(snapshot.results))),
            ("errors", _error_text(_errors(snapshot))),
            *[("warning", text) for text in p.warnings]]


def _inline(frame: pd.DataFrame, label: str, count: str) -> str:
    return ", ".join(f"{row[label]} {row[count]:,}" for _, row in frame.iterrows()) or "none"


def snapshot_text(snapshot: Snapshot) -> str:
    """The plain-text view of a Snapshot (its ``__repr__``)."""
    sizes = ", ".join(f"{name}={len(snapshot.frames[name]):,}" for name in FRAME_NAMES
                      if name != "server")
    lines = [*_overview(snapshot),
             ("by state", _inline(_state_counts(snapshot), "state", "results")),
             ("values", _inline(_status_counts(snapshot), "value_status", "results")),
             ("frames", sizes)]
    return f"<Snapshot of Mognet app {snapshot.app!r}\n{kv_text(lines)}>"


def snapshot_html(snapshot: Snapshot) -> str:
    """The rich view of a Snapshot: overview, results by state, value statuses, key kinds."""
    kinds = _kind_counts(snapshot)
    return h.root(
        f"Snapshot of Mognet app {snapshot.app!r}",
        h.kv_table(_overview(snapshot)),
        h.section("Results by state", h.frame_table(_state_counts(snapshot), formatters=_BYTES)),
        h.section("Values", h.frame_table(_status_counts(snapshot))),
        h.section("Keys by kind", h.frame_table(kinds, formatters=_BYTES)),
        h.note("Frames: snapshot.results, .values, .keys, .children, .metadata, .states, "
               ".server. One result: snapshot.result(id). Server: snapshot.server_info()."))


def _limit(value: Any) -> str:
    return "0 (no limit)" if value == 0 else format_size(value)


def _timeout(value: Any) -> str:
    return "0 (idle clients are never closed)" if value == 0 else f"{int(value)} s"


def _cell(row: pd.Series, column: str, fmt: Any = format_count) -> str:
    value = row.get(column)
    return MISSING if is_missing(value) else fmt(value)


def _server_fields(row: pd.Series) -> list[tuple[str, str]]:
    clients = f"{_cell(row, 'connected_clients')} of {_cell(row, 'maxclients')} max"
    listpack = (f"{_cell(row, 'hash_max_listpack_entries')} entries, "
                f"{_cell(row, 'hash_max_listpack_value')} bytes per value")
    fields = [
        ("version", _cell(row, "redis_version", str)),
        ("used memory", _cell(row, "used_memory", format_size)),
        ("peak memory", _cell(row, "used_memory_peak", format_size)),
        ("maxmemory", _cell(row, "maxmemory", _limit)),
        ("maxmemory-policy", _cell(row, "maxmemory_policy", str)),
        ("fragmentation ratio", _cell(row, "mem_fragmentation_ratio", lambda v: f"{v:.2f}")),
        ("evicted keys", _cell(row, "evicted_keys")),
        ("expired keys", _cell(row, "expired_keys")),
        ("clients", clients), ("timeout", _cell(row, "timeout", _timeout)),
        ("hash listpack limits", listpack), ("dbsize (keys)", _cell(row, "dbsize"))]
    if not is_missing(row.get("unknown")):
        fields.append(("not known", str(row["unknown"])))
    return fields


class ServerInfo:
    """The Redis server(s) a snapshot was read from: memory, limits, policy, clients.

    Parameters
    ----------
    snapshot
        The snapshot whose ``server`` frame is shown (one row per node).
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.frame = snapshot.server
        self.app = snapshot.app

    def fields(self) -> list[tuple[str, list[str]]]:
        """``(label, [text per node])`` for every field shown."""
        per_node = [_server_fields(row) for _, row in self.frame.iterrows()]
        labels = list(dict.fromkeys(label for fields in per_node for label, _ in fields))
        found = [dict(fields) for fields in per_node]
        return [(label, [f.get(label, MISSING) for f in found]) for label in labels]

    def _nodes(self) -> list[str]:
        return [str(node) if not is_missing(node) else f"node {i + 1}"
                for i, node in enumerate(self.frame["node"].tolist())]

    def __repr__(self) -> str:
        if self.frame.empty:
            return "<ServerInfo: no server information was read>"
        blocks = [f"{censor_url(node)}\n" + kv_text((label, texts[i])
                                                    for label, texts in self.fields())
                  for i, node in enumerate(self._nodes())]
        return "<ServerInfo " + "\n".join(blocks) + ">"

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return h.root("Redis server", h.note("No server information was read."))
        columns = {"field": [label for label, _ in self.fields()]}
        for i, node in enumerate(self._nodes()):
            columns[censor_url(node)] = [texts[i] for _, texts in self.fields()]
        return h.root(f"Redis server of app {self.app!r}",
                      h.frame_table(pd.DataFrame(columns), max_rows=100))


_FINDING_COLUMNS = ("severity", "code", "title", "measured", "keys", "bytes", "advice")
_SEVERITY_TONE = {"critical": "critical", "warning": "warning", "info": "info"}


def _severity_badge(value: Any) -> str:
    text = "unknown" if is_missing(value) else str(value)
    return h.badge(text, _SEVERITY_TONE.get(text, "neutral"))


def findings_html(frame: pd.DataFrame, *, max_rows: int = 50) -> str:
    """A findings table (``mognet_lab.analysis.findings``) with severity badges.

    Parameters
    ----------
    frame
        Columns ``severity``, ``code``, ``title``, ``measured``, ``keys``,
        ``bytes`` and ``advice``; missing ones are left out.
    max_rows
        Rows shown at most; a note counts the others.
    """
    shown = frame[[c for c in _FINDING_COLUMNS if c in frame.columns]]
    table = h.frame_table(shown, max_rows=max_rows,
                          formatters={"bytes": format_size, "keys": format_count},
                          markup={"severity": _severity_badge},
                          empty="No findings: nothing needs attention.")
    return h.root(f"Findings ({len(frame):,})", table)
