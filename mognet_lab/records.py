"""Turn one key's raw replies into rows of the snapshot frames (pure).

Every key yields a ``keys`` row; keys of a known kind also yield a row in
their own frame, with an ``error`` cell when they could not be fully read.
"""

from __future__ import annotations

import json
from typing import Any

from .decode import ResultDecoder, decode_children, decode_json_hash, decode_value, flatten
from .keys import KIND_CHILDREN, KIND_METADATA, KIND_RESULT, KIND_STATE, KIND_VALUE
from .raw import KeyReply
from .settings import ScanSettings

__all__ = ["Rows", "Collector", "SET_SIZES"]

# A private frame: members per children set, joined onto results.
SET_SIZES = "_set_sizes"


class Rows:
    """Column lists for each frame, filled one record at a time."""

    def __init__(self) -> None:
        self.frames: dict[str, dict[str, list[Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, frame: str, record: dict[str, Any]) -> None:
        columns = self.frames.setdefault(frame, {})
        count = self.counts.get(frame, 0)
        for name, value in record.items():
            column = columns.get(name)
            if column is None:
                # A column first seen late (metadata fields) is NA for earlier rows.
                column = columns[name] = [None] * count
            column.append(value)
        self.counts[frame] = count + 1
        if len(record) != len(columns):
            for column in columns.values():
                if len(column) == count:
                    column.append(None)


def _ttl_s(pttl_ms: int | None) -> float | None:
    return pttl_ms / 1000 if pttl_ms is not None and pttl_ms >= 0 else None


class Collector:
    """Adds key replies to :class:`Rows`, one scan's decoders and settings at hand."""

    def __init__(self, settings: ScanSettings) -> None:
        self.rows = Rows()
        self.settings = settings
        self._results = ResultDecoder()

    def add(self, reply: KeyReply) -> None:
        """Add ``reply`` to the keys frame and to its kind's frame."""
        kind, owner = reply.parsed
        ttl_s = _ttl_s(reply.pttl_ms)
        key = reply.key.decode("utf-8", "backslashreplace")
        rows = self.rows
        rows.add("keys", {"key": key, "kind": kind, "result_id": owner,
                          "redis_type": reply.redis_type, "memory_bytes": reply.memory_bytes,
                          "ttl_s": ttl_s, "error": reply.error})
        common = {"ttl_s": ttl_s, "memory_bytes": reply.memory_bytes}
        if kind == KIND_RESULT:
            record = {"result_id": owner} if reply.data is None else \
                self._results.decode(owner, reply.data)
            rows.add("results", {**record, **common,
                                 "error": _join(reply.error, record.get("error"))})
        elif kind == KIND_VALUE:
            self._add_value(reply, owner, common)
        elif kind == KIND_CHILDREN:
            _collect_children(reply, owner, rows)
        elif kind == KIND_METADATA:
            _collect_fields(rows, "metadata", {"result_id": owner}, reply, common)
        elif kind == KIND_STATE:
            _collect_fields(rows, "states", {"request_id": owner}, reply, common)

    def _add_value(self, reply: KeyReply, owner: str | None, common: dict[str, Any]) -> None:
        settings = self.settings
        record = {"result_id": owner} if reply.data is None else decode_value(
            owner, reply.data, decompress_cap=settings.decompress_cap,
            head_bytes=settings.head_bytes)
        self.rows.add("values", {**record, **common, "redis_encoding": reply.redis_encoding,
                                 "error": _join(reply.error, record.get("error"))})


def _collect_children(reply: KeyReply, parent: str | None, rows: Rows) -> None:
    if reply.data is None:
        rows.add("children", {"parent_id": parent, "child_id": None,
                              "error": reply.error or "members not read"})
        return
    child_ids, problems = decode_children(reply.data)
    for child in child_ids:
        rows.add("children", {"parent_id": parent, "child_id": child, "error": None})
    for problem in problems:
        rows.add("children", {"parent_id": parent, "child_id": None, "error": problem})
    # children_count is SCARD's answer: every member, readable or not.
    rows.add(SET_SIZES, {"result_id": parent, "member_count": reply.member_count})


def _collect_fields(rows: Rows, frame: str, ident: dict[str, Any], reply: KeyReply,
                    common: dict[str, Any]) -> None:
    if reply.data is None:
        rows.add(frame, {**ident, **common, "field_count": None, "error": reply.error})
        return
    fields, error = decode_json_hash(reply.data)
    record = {**ident, "field_count": len(fields), **common, "error": error}
    if frame == "metadata":
        flat = flatten(fields)
        record.update({(f"meta.{k}" if k in record else k): v for k, v in flat.items()})
    else:
        record["fields"] = json.dumps(fields, sort_keys=True, default=str)
    rows.add(frame, record)


def _join(*notes: str | None) -> str | None:
    present = [note for note in notes if note]
    return "; ".join(present) if present else None
