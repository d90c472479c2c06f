"""One result as ``mognet tasks get`` shows it, from a snapshot's frames.

Everything shown comes from the snapshot: the result row, its metadata, its
keys' sizes and TTLs, its value's summary and its children. The value itself
is read only on request (:meth:`ResultView.value`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import bad_option
from ..schemas import METADATA
from .cells import column_unit, format_cell, is_missing
from .html import render_html
from .model import Fact, Page, Section, table
from .text import render_text
from .tree import children_tree, gather_children

if TYPE_CHECKING:
    from ..display.value import ValueView
    from ..lab import Lab
    from ..snapshot import Snapshot

__all__ = ["MIN_PREFIX", "ResultView", "find_result"]

# A shorter prefix would too often match several results of a large app.
MIN_PREFIX = 8
# results column -> label, in the order `mognet tasks get` shows them.
FIELDS = {
    "result_id": "id", "name": "name", "state": "state", "request_kwargs_repr": "arguments",
    "number_of_starts": "starts", "number_of_stops": "stops",
    "unexpected_retries": "unexpected retries", "parent_id": "parent", "created": "created",
    "started": "started", "finished": "finished", "queue_time": "time in queue",
    "duration": "runtime", "node_id": "node", "children_count": "children",
    "value_status": "value status", "ttl_s": "TTL", "total_memory_bytes": "memory (all keys)",
    "extra_fields": "extra fields", "error": "error",
}
_KEY_COLUMNS = ["key", "kind", "redis_type", "memory_bytes", "ttl_s", "error"]
VALUE_FIELDS = {
    "value_type": "type", "encoding": "encoding", "stored_bytes": "stored",
    "raw_bytes": "uncompressed", "compression_ratio": "compression ratio",
    "exception_name": "exception", "exception_message": "message", "ttl_s": "TTL",
    "memory_bytes": "memory", "error": "error",
}


def _normalise(result_id: object) -> str:
    if isinstance(result_id, uuid.UUID):
        return str(result_id)
    if not isinstance(result_id, str) or not result_id.strip():
        raise bad_option("result_id", result_id, "a result id (or a unique prefix of it) as str")
    return result_id.strip().lower()


def find_result(snapshot: Snapshot, result_id: str | uuid.UUID) -> pd.Series:
    """The ``results`` row of ``result_id``, or of the one result it is a prefix of.

    Raises
    ------
    KeyError
        No result has this id, the prefix is shorter than :data:`MIN_PREFIX`,
        or it matches several results (they are named).
    """
    wanted, results = _normalise(result_id), snapshot.results
    ids = results["result_id"]
    exact = (ids == wanted).fillna(False).to_numpy(dtype=bool)
    if exact.any():
        return results[exact].iloc[0]
    if len(wanted) >= MIN_PREFIX:
        matches = ids.str.startswith(wanted).fillna(False).to_numpy(dtype=bool)
        if matches.sum() == 1:
            return results[matches].iloc[0]
        if matches.sum() > 1:
            found = ", ".join(ids[matches].head(5).tolist())
            raise KeyError(f"{int(matches.sum())} results start with {wanted!r} "
                           f"({found}...): give more characters of the id.")
    raise KeyError(_not_found(snapshot, wanted))


def _not_found(snapshot: Snapshot, wanted: str) -> str:
    where = f"the snapshot of app {snapshot.app!r} ({len(snapshot.results):,} results)"
    if len(wanted) < MIN_PREFIX:
        return (f"No result {wanted!r} in {where}; a prefix must have at least "
                f"{MIN_PREFIX} characters.")
    keys = snapshot.keys
    orphan = int((keys["result_id"] == wanted).fillna(False).sum())
    if orphan:
        return (f"Result {wanted!r} has {orphan} keys but no result hash in {where}: "
                "see snapshot.keys[snapshot.keys.result_id == ...].")
    partial = "" if snapshot.complete else " The scan was partial (limit): it may exist."
    return f"No result {wanted!r} in {where}.{partial}"


def _plain(value: Any) -> Any:
    return None if is_missing(value) else value


class ResultView:
    """One result of a snapshot: fields, metadata, keys, value summary, children.

    Parameters
    ----------
    snapshot
        The snapshot to read from.
    result_id
        The result's id, or a unique prefix of at least 8 characters.

    Attributes
    ----------
    result_id : str
    fields : dict
        ``results`` column -> value (NA as None), in ``mognet tasks get`` order.
    metadata : dict
        The result's ``/metadata`` fields (empty when it has none).
    keys : pandas.DataFrame
        Its keys with kind, type, memory and TTL.
    value_summary : dict or None
        Its ``values`` row (type, sizes, exception), None without a value key.
    """

    def __init__(self, snapshot: Snapshot, result_id: str | uuid.UUID) -> None:
        row = find_result(snapshot, result_id)
        self._snapshot = snapshot
        self.result_id: str = str(row["result_id"])
        self.fields: dict[str, Any] = {c: _plain(row.get(c)) for c in FIELDS}
        self.metadata: dict[str, Any] = self._metadata()
        keys = snapshot.keys
        self.keys: pd.DataFrame = keys.loc[(keys["result_id"] == self.result_id).fillna(False)
                                           .to_numpy(dtype=bool), _KEY_COLUMNS
                                           ].reset_index(drop=True)
        self.value_summary: dict[str, Any] | None = self._value_summary()

    def _metadata(self) -> dict[str, Any]:
        frame = self._snapshot.metadata
        rows = frame[(frame["result_id"] == self.result_id).fillna(False).to_numpy(dtype=bool)]
        if rows.empty:
            return {}
        row = rows.iloc[0]
        return {str(c): row[c] for c in frame.columns
                if c not in METADATA and not is_missing(row[c])}

    def _value_summary(self) -> dict[str, Any] | None:
        frame = self._snapshot.values
        rows = frame[(frame["result_id"] == self.result_id).fillna(False).to_numpy(dtype=bool)]
        if rows.empty:
            return None
        row = rows.iloc[0]
        return {c: _plain(row[c]) for c in frame.columns if c != "result_id"}

    @property
    def children_ids(self) -> list[str]:
        """Ids of the direct children (from the ``children`` frame), oldest first."""
        return self._ordered(gather_children(self._snapshot.children, self.result_id, 0)
                             ).get(self.result_id, [])

    def _ordered(self, adjacency: dict[str, list[str]]) -> dict[str, list[str]]:
        created = self._lookup(adjacency)["created"]

        def order(kid: str) -> tuple[bool, Any, str]:
            when = created.get(kid)
            return (is_missing(when), 0 if is_missing(when) else when.value, kid)
        return {parent: sorted(kids, key=order) for parent, kids in adjacency.items()}

    def _lookup(self, adjacency: dict[str, list[str]]) -> pd.DataFrame:
        ids = {self.result_id, *adjacency, *(k for kids in adjacency.values() for k in kids)}
        results = self._snapshot.results
        rows = results[results["result_id"].isin(list(ids)).fillna(False).to_numpy(dtype=bool)]
        return rows.drop_duplicates("result_id").set_index("result_id")[
            ["name", "state", "created"]]

    def children_tree(self, *, max_depth: int = 3, max_width: int = 20) -> str:
        """The result and its descendants as a text tree.

        Parameters
        ----------
        max_depth
            Levels of descendants shown; deeper ones are counted (``... N more``).
        max_width
            Children shown per result; the others are counted.
        """
        depth = max_depth if isinstance(max_depth, int) and max_depth >= 0 else 0
        adjacency = self._ordered(gather_children(self._snapshot.children, self.result_id,
                                                  depth))
        info = self._lookup(adjacency)

        def label(result_id: str) -> str:
            if result_id not in info.index:
                return f"{result_id}  (no result hash)"
            row = info.loc[result_id]
            return f"{result_id}  {format_cell(row['name'])}  {format_cell(row['state'])}"

        return children_tree(self.result_id, adjacency, label, max_depth=max_depth,
                             max_width=max_width)

    def value(self, lab: Lab, *, max_bytes: int = 1_000_000) -> ValueView:
        """Read and decode this result's stored value now (see :meth:`mognet_lab.Lab.value`)."""
        return lab.value(self.result_id, max_bytes=max_bytes)

    # -- rendering -------------------------------------------------------------
    def _field_facts(self) -> tuple[Fact, ...]:
        return tuple(Fact(label, self.fields[col], column_unit(col))
                     for col, label in FIELDS.items()
                     if col not in ("extra_fields", "error") or self.fields[col] is not None)

    def _value_facts(self) -> tuple[Fact, ...]:
        summary = self.value_summary or {}
        return tuple(Fact(label, summary[col], column_unit(col))
                     for col, label in VALUE_FIELDS.items() if summary.get(col) is not None)

    def _keys_shown(self) -> pd.DataFrame:
        return self.keys if self.keys["error"].notna().any() else self.keys.drop(columns="error")

    def page(self) -> Page:
        """What the repr and the rich display show: fields, metadata, keys, value, children."""
        metadata = tuple(Fact(name, format_cell(value)) for name, value in self.metadata.items())
        sections = (
            Section("metadata", "Metadata", facts=metadata,
                    text=() if metadata else ("No metadata.",)),
            Section("keys", "Keys", tables=(table("keys", "", self._keys_shown(), 20),)),
            Section("value", "Value", facts=self._value_facts(), text=(
                () if self.value_summary else ("No value key.",)) + (
                "view.value(lab) reads and decodes the value itself (never unpickled).",)),
            Section("children", "Children", blocks=(self.children_tree(),)))
        return Page(f"Result {self.result_id} of app {self._snapshot.app!r}",
                    facts=self._field_facts(), sections=sections)

    def __repr__(self) -> str:
        return render_text(self.page())

    def _repr_html_(self) -> str:
        return render_html(self.page())
