"""Keys of a dump -> :class:`~mognet_lab.raw.KindBatch` columns, as the live reader makes them.

The live reader (:mod:`mognet_lab.reader.fetch`) applies the byte bounds of
:class:`~mognet_lab.settings.ScanSettings` as it reads: values past
``max_fetch_bytes`` arrive as :class:`~mognet_lab.raw.Clipped`, hashes past
``max_hash_fields`` or ``max_key_bytes`` and fields past ``max_field_bytes``
become error cells, sets past ``max_members_per_call`` keep at most
``max_edges_per_parent`` members. Here the same bounds give the same cells
from the dump's entries, with the same wording, so that a dump and a live
scan of the same server build equal frames. Memory and encodings come from
:class:`~mognet_lab.offline.memory_model.MemoryModel`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ..format import RESULT_FIELDS
from ..keys import (
    KIND_CHILDREN,
    KIND_METADATA,
    KIND_RESULT,
    KIND_STATE,
    KIND_VALUE,
    group_by_kind,
)
from ..raw import Clipped, KindBatch
from ..reader.plan import too_big, too_many_fields  # the live reader's wording
from ..settings import ScanSettings
from .dump import Entry
from .memory_model import MemoryModel

__all__ = ["BatchMaker"]

_EXPECTED = {KIND_RESULT: "hash", KIND_VALUE: "hash", KIND_CHILDREN: "set",
             KIND_METADATA: "hash", KIND_STATE: "hash"}
_RESULT_NAMES = tuple(name.encode() for name in RESULT_FIELDS)
_KWARGS = _RESULT_NAMES[-1]
_VALUE_FIELDS = (b"contents", b"encoding", b"content_type")
_GONE: Any = object()  # a key the live reader would take as vanished


class BatchMaker:
    """Gathers a dump's keys of ``app`` into batches, one :class:`KindBatch` per kind.

    Parameters
    ----------
    ctime_ms
        When the dump was written: TTLs count from it, and keys already
        expired by then are left out (the server would not have shown them).
    """

    def __init__(self, app: str, settings: ScanSettings, model: MemoryModel,
                 ctime_ms: int) -> None:
        self.app, self.settings, self.model, self.ctime_ms = app, settings, model, ctime_ms
        self._pending: dict[bytes, Entry] = {}
        self._readers: dict[str, Callable[[Any, int], Any]] = {
            KIND_RESULT: self._result, KIND_VALUE: self._value,
            KIND_CHILDREN: self._children, KIND_METADATA: self._fields,
            KIND_STATE: self._fields}

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, entry: Entry) -> bool:
        """Add one key ``(name, type, data, expiry_ms)``; False if it was left out
        (expired when the dump was written)."""
        expiry = entry[3]
        if expiry is not None and expiry <= self.ctime_ms:
            return False
        self._pending[entry[0]] = entry
        return True

    def take(self) -> list[KindBatch]:
        """The keys gathered so far, one :class:`KindBatch` per kind (as the walk groups
        a batch of SCAN's keys)."""
        pending, self._pending = self._pending, {}
        return [self._batch(kind, keys, owners, [pending[key] for key in keys])
                for kind, (keys, owners) in group_by_kind(self.app, pending).items()]

    def _batch(self, kind: str, keys: list[bytes], owners: list[str | None],
               entries: list[Entry]) -> KindBatch:
        model, ctime = self.model, self.ctime_ms
        sizes = [model.entry_bytes(key, rtype, data, expires=expiry is not None)
                 for key, rtype, data, expiry in entries]
        expected = _EXPECTED.get(kind)
        read = self._readers.get(kind)
        cells: list[Any] = []
        for (_, rtype, data, _), size in zip(entries, sizes):
            if expected is None:
                cells.append((None, None, None))
            elif rtype != expected:
                cells.append((None, f"expected a {expected} for a {kind} key, found a "
                                    f"{rtype}", None))
            else:
                found = read(data, size) if read is not None else None
                cells.append(_GONE if found is None else (*found, len(data)))
        if any(cell is _GONE for cell in cells):  # keys the live reader would not list
            kept = [cell is not _GONE for cell in cells]
            keys, owners, entries, sizes, cells = (
                [item for item, keep in zip(column, kept) if keep]
                for column in (keys, owners, entries, sizes, cells))
        memory: list[int | None] = list(sizes)
        return KindBatch(
            kind=kind, keys=keys, owners=owners,
            pttl_ms=[-1 if entry[3] is None else entry[3] - ctime for entry in entries],
            memory_bytes=memory, member_counts=[cell[2] for cell in cells],
            redis_types=[entry[1] for entry in entries], data=[cell[0] for cell in cells],
            errors=[cell[1] for cell in cells],
            redis_encodings=[model.encoding(entry[1], entry[2]) for entry in entries]
            if kind == KIND_VALUE else [])

    # -- one reader per kind: (data, error) as the live reader hands them on, or None
    # where the live reader would not list the key at all ---------------------------
    def _result(self, fields: Mapping[bytes, bytes], memory: int) -> Any:
        settings = self.settings
        kwargs = fields.get(_KWARGS)
        row = tuple(fields.get(name) for name in _RESULT_NAMES)
        found = len(row) - row.count(None)
        if kwargs is not None and len(kwargs) > settings.max_field_bytes:
            error = (f"field 'request_kwargs_repr' of {len(kwargs)} bytes, more than "
                     f"max_field_bytes={settings.max_field_bytes}: not read")
            if len(fields) > found:
                error = f"{error}; fields Mognet does not write: not read"
            return (*row[:-1], None), error
        if memory > settings.max_key_bytes:
            return None, too_big("result hash", memory, settings)
        if not found:
            return None  # no field of Mognet's: the live reader takes it as gone
        if len(fields) > found:  # fields Mognet does not write: the whole hash
            if len(fields) > settings.max_hash_fields:
                return None, too_many_fields(len(fields), settings)
            return dict(fields), None
        return row, None

    def _value(self, fields: Mapping[bytes, bytes], memory: int) -> Any:
        settings = self.settings
        if len(fields) > settings.max_hash_fields:
            return None, too_many_fields(len(fields), settings)
        contents = fields.get(b"contents")
        lengths = [len(fields.get(name) or b"") for name in _VALUE_FIELDS]
        if contents and len(fields) == sum(length > 0 for length in lengths):
            longest = max(lengths[1], lengths[2])
            if longest > settings.max_field_bytes:
                name = "encoding" if lengths[1] >= lengths[2] else "content_type"
                return None, (f"field {name!r} of {longest} bytes, more than "
                              f"max_field_bytes={settings.max_field_bytes}: not read")
            kept = {name: fields[name] for name in _VALUE_FIELDS if name in fields}
            kept[b"contents"] = self._clip(contents)
            return kept, None
        return self._value_by_name(fields)

    def _value_by_name(self, fields: Mapping[bytes, bytes]) -> Any:
        """Other fields too: each read within ``max_field_bytes``, ``contents`` clipped."""
        limit = self.settings.max_field_bytes
        kept = {name: value for name, value in fields.items()
                if name != b"contents" and len(value) <= limit}
        error = None
        skipped = sorted(name.decode("utf-8", "replace") for name, value in fields.items()
                         if name != b"contents" and len(value) > limit)
        if skipped:
            error = f"fields {skipped[:5]} longer than max_field_bytes={limit}: not read"
        contents = fields.get(b"contents")
        if contents:
            kept[b"contents"] = self._clip(contents)
        return kept, error

    def _clip(self, contents: bytes) -> Any:
        settings = self.settings
        if len(contents) <= settings.max_fetch_bytes:
            return contents
        return Clipped(len(contents), contents[:settings.head_bytes], contents[-4:])

    def _children(self, members: list[bytes], memory: int) -> Any:
        settings = self.settings
        if len(members) <= settings.max_members_per_call:
            return list(members), None
        kept = list(dict.fromkeys(members))[:settings.max_edges_per_parent]
        error = None
        if len(kept) < len(members):
            error = (f"set has {len(members)} members, more than max_edges_per_parent="
                     f"{settings.max_edges_per_parent}: {len(kept)} of them kept")
        return kept, error

    def _fields(self, fields: Mapping[bytes, bytes], memory: int) -> Any:
        settings = self.settings
        if len(fields) > settings.max_hash_fields:
            return None, too_many_fields(len(fields), settings)
        if memory > settings.max_key_bytes:
            return None, too_big("hash", memory, settings)
        return dict(fields), None
