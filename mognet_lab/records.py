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
from .raw import KindBatch
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

    def add_batch(self, batches: Sequence[KindBatch]) -> None:
        """Add every key of ``batches`` to the keys frame and to its kind's frame."""
        for batch in batches:
            self._decode(batch)
        for name, columns in self._batch.items():
            frame = self.frames.get(name)
            if frame is None:
                frame = self.frames[name] = new_frame(name)
            frame.append(columns.release(), columns.length)
        self._batch.clear()
        self.keys_read += sum(len(batch) for batch in batches)

    def _decode(self, batch: KindBatch) -> None:
        ttls = [pttl / 1000 if pttl is not None and pttl >= 0 else None
                for pttl in batch.pttl_ms]
        self.columns("keys").extend({
            "key": batch.keys,  # bytes: the frame builder decodes them
            "kind": [batch.kind] * len(batch),
            "result_id": batch.owners,
            "redis_type": batch.redis_types,
            "memory_bytes": batch.memory_bytes,
            "ttl_s": ttls,
            "error": batch.errors,
        }, len(batch))
        kind = batch.kind
        if kind == KIND_RESULT:
            self._add_results(batch, ttls)
        elif kind == KIND_VALUE:
            self._add_values(batch, ttls)
        elif kind == KIND_CHILDREN:
            for parent, members, count, error in zip(batch.owners, batch.data,
                                                     batch.member_counts, batch.errors):
                self._add_children(parent, members, count, error)
        elif kind in (KIND_METADATA, KIND_STATE):
            for row in zip(batch.owners, batch.data, ttls, batch.memory_bytes, batch.errors):
                self._add_fields(kind, *row)

    def _add_results(self, batch: KindBatch, ttls: list[float | None]) -> None:
        fast = [i for i, data in enumerate(batch.data) if data.__class__ is tuple]
        everything: tuple[list[Any], ...] = (batch.owners, batch.data, ttls, batch.memory_bytes)
        rows = everything if len(fast) == len(batch) else \
            tuple([column[i] for i in fast] for column in everything)
        if fast:
            columns = self._results.decode_rows([owner or "" for owner in rows[0]], rows[1])
            columns["ttl_s"], columns["memory_bytes"] = list(rows[2]), list(rows[3])
            self.columns("results").extend(columns, len(fast))
        if len(fast) < len(batch):
            chosen = set(fast)
            for i in (i for i in range(len(batch)) if i not in chosen):
                self._add_result_mapping(batch.owners[i] or "", batch.data[i], ttls[i],
                                         batch.memory_bytes[i], batch.errors[i])

    def _add_result_mapping(self, owner: str, data: Any, ttl: float | None,
                            memory: int | None, error: str | None) -> None:
        record = {"result_id": owner} if data is None else \
            self._results.decode_mapping(owner, data)
        self.columns("results").add({**record, "ttl_s": ttl, "memory_bytes": memory,
                                     "error": _join(error, record.get("error"))})

    def _add_values(self, batch: KindBatch, ttls: list[float | None]) -> None:
        settings = self.settings
        columns = decode_values([owner or "" for owner in batch.owners], batch.data,
                                decompress_cap=settings.decompress_cap,
                                head_bytes=settings.head_bytes)
        columns["ttl_s"], columns["memory_bytes"] = ttls, batch.memory_bytes
        columns["redis_encoding"] = batch.redis_encodings
        columns["error"] = [_join(error, note) if error else note
                            for error, note in zip(batch.errors, columns["error"])]
        self.columns("values").extend(columns, len(batch))

    def _add_children(self, parent: str | None, members: Any, member_count: int | None,
                      error: str | None) -> None:
        rows = self.columns("children")
        if members is None:
            rows.add({"parent_id": parent, "child_id": None,
                      "error": error or "members not read"})
            return
        child_ids, problems = decode_children(members)
        count = len(child_ids) + len(problems)
        rows.extend({"parent_id": [parent] * count,
                     "child_id": [*child_ids, *([None] * len(problems))],
                     "error": [*([None] * len(child_ids)), *problems]}, count)
        # children_count is SCARD's answer: every member, readable or not.
        self.columns(SET_SIZES).add({"result_id": parent, "member_count": member_count})

    def _add_fields(self, kind: str, owner: str | None, data: Any, ttl: float | None,
                    memory: int | None, error: str | None) -> None:
        frame = "metadata" if kind == KIND_METADATA else "states"
        ident = {"result_id" if frame == "metadata" else "request_id": owner}
        common = {"ttl_s": ttl, "memory_bytes": memory}
        if data is None:
            self.columns(frame).add({**ident, "field_count": None, **common, "error": error})
            return
        fields, problem = decode_json_hash(data)
        record = {**ident, "field_count": len(fields), **common, "error": problem}
        if frame == "metadata":
            flat = flatten(fields)
            record.update({(f"meta.{k}" if k in record else k): v for k, v in flat.items()})
        else:
            record["fields"] = json.dumps(fields, sort_keys=True, default=str)
        self.columns(frame).add(record)


def _join(*notes: str | None) -> str | None:
    present = [note for note in notes if note]
    return "; ".join(present) if present else None
