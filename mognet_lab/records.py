"""Turn batches of raw key replies into frame columns (pure).

Every key yields a ``keys`` row; keys of a known kind also yield a row in
their own frame, with an ``error`` cell when they could not be fully read.
Result hashes are decoded a column at a time, the rest a row at a time.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from .chunks import ChunkedFrame
from .decode import (
    ResultDecoder,
    decode_children,
    decode_json_hash,
    flatten,
)
from .decode.value_batch import decode_values
from .format import TIME_FIELDS
from .keys import KIND_CHILDREN, KIND_METADATA, KIND_RESULT, KIND_STATE, KIND_VALUE
from .raw import KeyReply
from .schemas import INT, STRING, UTC_TIME, as_dtype
from .settings import ScanSettings

__all__ = ["Columns", "Collector", "SET_SIZES", "new_frame", "parse_result_times"]

# A private frame: members per children set, joined onto results.
SET_SIZES = "_set_sizes"


class Columns:
    """Column lists of one frame; columns first seen late are NA before."""

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = {}
        self.length = 0
        self._shape: tuple[str, ...] = ()

    def add(self, record: dict[str, Any]) -> None:
        shape = tuple(record)
        if shape != self._shape:
            self._widen(shape)
        data = self.data
        for name, value in record.items():
            data[name].append(value)
        self.length += 1
        if len(shape) != len(data):
            self._pad()

    def release(self) -> dict[str, list[Any]]:
        """Hand the column lists over and forget them."""
        data, self.data, self._shape = self.data, {}, ()
        return data

    def extend(self, columns: dict[str, list[Any]], length: int) -> None:
        self._widen(tuple(columns))
        for name, values in columns.items():
            self.data[name].extend(values)
        self.length += length
        self._pad()

    def _widen(self, shape: tuple[str, ...]) -> None:
        for name in shape:
            if name not in self.data:
                self.data[name] = [None] * self.length
        self._shape = shape

    def _pad(self) -> None:
        for values in self.data.values():
            if len(values) < self.length:
                values.extend([None] * (self.length - len(values)))


def parse_result_times(columns: dict[str, list[Any]]) -> None:
    """Parse a batch's result timestamps (ISO text) in place; note those that do not parse.

    The text goes as soon as it is parsed: only the batch's own strings live.
    """
    length = len(columns["result_id"]) if "result_id" in columns else 0
    errors = columns.setdefault("error", [None] * length)
    for name in TIME_FIELDS:
        given = columns.get(name)
        if given is None:
            continue
        stamps = as_dtype(given, UTC_TIME).array.asi8.copy()
        for index in [i for i, text in enumerate(given) if text is not None]:
            if stamps[index] == _NAT:
                note = f"field {name!r} is not an ISO-8601 timestamp"
                errors[index] = note if errors[index] is None else f"{errors[index]}; {note}"
        columns[name] = stamps  # type: ignore[assignment]


_NAT = -(2**63)
_SET_SIZES_SCHEMA = {"result_id": STRING, "member_count": INT}


def new_frame(name: str) -> ChunkedFrame:
    """An empty :class:`ChunkedFrame` for one of the scan's frames."""
    if name == SET_SIZES:
        return ChunkedFrame(name, schema=_SET_SIZES_SCHEMA)
    return ChunkedFrame(name, prepare=parse_result_times if name == "results" else None)


def _ttl_s(pttl_ms: int | None) -> float | None:
    return pttl_ms / 1000 if pttl_ms is not None and pttl_ms >= 0 else None


class Collector:
    """Adds batches of key replies to per-frame :class:`~mognet_lab.chunks.ChunkedFrame`.

    Each batch is decoded into :class:`Columns` of its own, which are converted
    to typed chunks at the end of the batch: Python objects live for one batch.
    """

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self.frames: dict[str, ChunkedFrame] = {}
        self._batch: dict[str, Columns] = {}
        self._results = ResultDecoder()
        self.keys_read = 0

    def columns(self, frame: str) -> Columns:
        found = self._batch.get(frame)
        if found is None:
            found = self._batch[frame] = Columns()
        return found

    def add_batch(self, replies: Sequence[KeyReply]) -> None:
        """Add every reply to the keys frame and to its kind's frame."""
        self._decode(replies)
        for name, columns in self._batch.items():
            frame = self.frames.get(name)
            if frame is None:
                frame = self.frames[name] = new_frame(name)
            frame.append(columns.release(), columns.length)
        self._batch.clear()
        self.keys_read += len(replies)

    def _decode(self, replies: Sequence[KeyReply]) -> None:
        ttls = [_ttl_s(r.pttl_ms) for r in replies]
        self.columns("keys").extend({
            "key": [r.key.decode("utf-8", "backslashreplace") for r in replies],
            "kind": [r.parsed.kind for r in replies],
            "result_id": [r.parsed.owner_id for r in replies],
            "redis_type": [r.redis_type for r in replies],
            "memory_bytes": [r.memory_bytes for r in replies],
            "ttl_s": ttls,
            "error": [r.error for r in replies],
        }, len(replies))
        fast = [(r, ttl) for r, ttl in zip(replies, ttls)
                if r.parsed.kind == KIND_RESULT and isinstance(r.data, tuple)]
        if fast:
            self._add_result_rows(fast)
        values = [(r, ttl) for r, ttl in zip(replies, ttls) if r.parsed.kind == KIND_VALUE]
        if values:
            self._add_values(values)
        for reply, ttl in zip(replies, ttls):
            kind = reply.parsed.kind
            if kind == KIND_RESULT and not isinstance(reply.data, tuple):
                self._add_result_mapping(reply, ttl)
            elif kind == KIND_CHILDREN:
                self._add_children(reply)
            elif kind in (KIND_METADATA, KIND_STATE):
                self._add_fields(reply, ttl)

    def _add_result_rows(self, fast: list[tuple[KeyReply, float | None]]) -> None:
        columns = self._results.decode_rows([r.parsed.owner_id or "" for r, _ in fast],
                                            [r.data for r, _ in fast])
        columns["ttl_s"] = [ttl for _, ttl in fast]
        columns["memory_bytes"] = [r.memory_bytes for r, _ in fast]
        self.columns("results").extend(columns, len(fast))

    def _add_result_mapping(self, reply: KeyReply, ttl: float | None) -> None:
        owner = reply.parsed.owner_id or ""
        record = {"result_id": owner} if reply.data is None else \
            self._results.decode_mapping(owner, reply.data)
        self.columns("results").add({**record, "ttl_s": ttl, "memory_bytes": reply.memory_bytes,
                                     "error": _join(reply.error, record.get("error"))})

    def _add_values(self, values: list[tuple[KeyReply, float | None]]) -> None:
        settings = self.settings
        columns = decode_values([r.parsed.owner_id or "" for r, _ in values],
                                [r.data for r, _ in values],
                                decompress_cap=settings.decompress_cap,
                                head_bytes=settings.head_bytes)
        columns["ttl_s"] = [ttl for _, ttl in values]
        columns["memory_bytes"] = [r.memory_bytes for r, _ in values]
        columns["redis_encoding"] = [r.redis_encoding for r, _ in values]
        columns["error"] = [_join(r.error, note) if r.error else note
                            for (r, _), note in zip(values, columns["error"])]
        self.columns("values").extend(columns, len(values))

    def _add_children(self, reply: KeyReply) -> None:
        parent, rows = reply.parsed.owner_id, self.columns("children")
        if reply.data is None:
            rows.add({"parent_id": parent, "child_id": None,
                      "error": reply.error or "members not read"})
            return
        child_ids, problems = decode_children(reply.data)
        count = len(child_ids) + len(problems)
        rows.extend({"parent_id": [parent] * count,
                     "child_id": [*child_ids, *([None] * len(problems))],
                     "error": [*([None] * len(child_ids)), *problems]}, count)
        # children_count is SCARD's answer: every member, readable or not.
        self.columns(SET_SIZES).add({"result_id": parent, "member_count": reply.member_count})

    def _add_fields(self, reply: KeyReply, ttl: float | None) -> None:
        frame = "metadata" if reply.parsed.kind == KIND_METADATA else "states"
        ident = {"result_id" if frame == "metadata" else "request_id": reply.parsed.owner_id}
        common = {"ttl_s": ttl, "memory_bytes": reply.memory_bytes}
        if reply.data is None:
            self.columns(frame).add({**ident, "field_count": None, **common,
                                     "error": reply.error})
            return
        fields, error = decode_json_hash(reply.data)
        record = {**ident, "field_count": len(fields), **common, "error": error}
        if frame == "metadata":
            flat = flatten(fields)
            record.update({(f"meta.{k}" if k in record else k): v for k, v in flat.items()})
        else:
            record["fields"] = json.dumps(fields, sort_keys=True, default=str)
        self.columns(frame).add(record)


def _join(*notes: str | None) -> str | None:
    present = [note for note in notes if note]
    return "; ".join(present) if present else None
