"""The Redis server(s) a snapshot was read from, as a rich view (``snapshot.server_info()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..urls import censor_url
from .cells import MISSING, format_count, format_limit, format_size, is_missing
from .html import fragment, note, table_html
from .model import table
from .text import kv_text

if TYPE_CHECKING:
    from ..snapshot import Snapshot

__all__ = ["ServerInfo"]


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
        ("maxmemory", _cell(row, "maxmemory", format_limit)),
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
        return [censor_url(str(node)) if not is_missing(node) else f"node {i + 1}"
                for i, node in enumerate(self.frame["node"].tolist())]

    def __repr__(self) -> str:
        if self.frame.empty:
            return "<ServerInfo: no server information was read>"
        blocks = [f"{node}\n" + kv_text((label, texts[i]) for label, texts in self.fields())
                  for i, node in enumerate(self._nodes())]
        return "<ServerInfo " + "\n".join(blocks) + ">"

    def _repr_html_(self) -> str:
        if self.frame.empty:
            return fragment("<h1>Redis server</h1>" + note("No server information was read."))
        columns = {"field": [label for label, _ in self.fields()]}
        for i, node in enumerate(self._nodes()):
            columns[node] = [texts[i] for _, texts in self.fields()]
        title = f"Redis server of app {self.app!r}"
        return fragment(table_html(table("server", title, pd.DataFrame(columns), None)))
