"""Decode Mognet result hashes (``{app}.mognet.result.{uuid}``) column by column.

Result hashes arrive either as Mognet's fields in a fixed order (the common
case, decoded a column at a time) or as a full field mapping (when a hash
holds fields Mognet does not write). Both give the same columns. Timestamps
are returned as ISO text and parsed, vectorised, when the frame is built.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Mapping, Sequence

from ..format import READY_STATES, RESULT_FIELDS, RESULT_STATES, TIME_FIELDS
from .common import Problems, decode_json_field, decode_text

__all__ = ["RESULT_FIELDS", "RESULT_STATES", "READY_STATES", "TIME_FIELDS", "ResultDecoder"]

_INT_FIELDS = ("number_of_starts", "number_of_stops")
_OUTPUT = ("result_id", *RESULT_FIELDS[1:], "extra_fields", "error")
_CACHE_LIMIT = 50_000
_UNIQUE_TEXT = frozenset({"request_kwargs_repr"})
# A JSON string json.loads reads as exactly its inner text (ASCII: no UTF-8 checks).
_PLAIN_STRING = re.compile(rb'"[\x20\x21\x23-\x5b\x5d-\x7e]*"')


class ResultDecoder:
    """Decodes result hashes; remembers decoded field values seen before.

    Names, states, node ids and counters repeat across thousands of results,
    so each distinct raw value is parsed once per scan.
    """

    def __init__(self) -> None:
        # One cache per field: raw bytes -> (value, note).
        self._caches: dict[str, dict[bytes | None, tuple[Any, str | None]]] = {
            name: {} for name in RESULT_FIELDS}

    def decode_rows(self, ids: Sequence[str], rows: Sequence[Sequence[bytes | None]]
                    ) -> dict[str, list[Any]]:
        """Columns for results given as raw values in :data:`RESULT_FIELDS` order."""
        notes: list[list[str]] = [[] for _ in ids]
        columns: dict[str, list[Any]] = {"result_id": list(ids)}
        raw_columns = list(zip(*rows)) if rows else [() for _ in RESULT_FIELDS]
        for name, raw_column in zip(RESULT_FIELDS, raw_columns):
            if name == "id":
                _check_ids(ids, raw_column, notes)
                continue
            if name in TIME_FIELDS:
                decoded = [_timestamp(name, raw) for raw in raw_column]
            elif name in _UNIQUE_TEXT:
                # Unique per result: a cache would only churn.
                plain = _PLAIN_STRING.fullmatch
                decoded = [(raw[1:-1].decode(), None) if raw is not None and plain(raw) else
                           _decode_field(name, raw) for raw in raw_column]
            else:
                cache = self._caches[name]
                decoded = [cache[raw] if raw in cache else self._remember(name, raw)
                           for raw in raw_column]
            columns[name] = [value for value, _ in decoded]
            for index, (_, note) in enumerate(decoded):
                if note:
                    notes[index].append(note)
        columns["extra_fields"] = [None] * len(ids)
        columns["error"] = ["; ".join(n) if n else None for n in notes]
        return columns

    def decode_mapping(self, result_id: str, fields: Mapping[bytes, bytes]) -> dict[str, Any]:
        """One result given as a full field mapping (it may hold unknown fields)."""
        problems, extra = Problems(), {}
        raw = [fields.get(name.encode()) for name in RESULT_FIELDS]
        columns = self.decode_rows([result_id], [raw])
        record = {name: column[0] for name, column in columns.items()}
        known = {name.encode() for name in RESULT_FIELDS}
        for raw_name, raw_value in fields.items():
            if raw_name not in known:
                name = decode_text(raw_name, "a field name", problems)
                ok, value = decode_json_field(name, raw_value, problems)
                extra[name] = value if ok else raw_value.decode("utf-8", "replace")
        record["extra_fields"] = json.dumps(extra, sort_keys=True) if extra else None
        record["error"] = "; ".join(n for n in (record["error"], problems.text()) if n) or None
        return record

    def _remember(self, name: str, raw: bytes | None) -> tuple[Any, str | None]:
        cache = self._caches[name]
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()  # bounded: unique values (kwargs reprs) never pile up
        cache[raw] = decoded = _decode_field(name, raw)
        return decoded


def _decode_field(name: str, raw: bytes | None) -> tuple[Any, str | None]:
    if raw is None:
        # Absent fields read as Mognet's defaults (a hash may hold only `id`).
        return _DEFAULTS.get(name), None
    problems = Problems()
    ok, value = decode_json_field(name, raw, problems)
    if ok:
        if name == "state":
            value = _state(value, problems)
        elif name == "parent_id":
            value = _uuid_text(name, value, problems)
        elif name in _INT_FIELDS:
            value = _count(name, value, problems)
        else:
            value = _text(name, value, problems)
    return value, problems.text()


_DEFAULTS = {"state": "PENDING", "number_of_starts": 0, "number_of_stops": 0}


def _timestamp(name: str, raw: bytes | None) -> tuple[str | None, str | None]:
    # Mognet's timestamps are plain JSON strings or null: skip json.loads for them.
    if raw is None or raw == b"null":
        return None, None
    if raw[:1] == b'"' and raw[-1:] == b'"' and b"\\" not in raw:
        return raw[1:-1].decode("utf-8", "replace"), None
    problems = Problems()
    ok, value = decode_json_field(name, raw, problems)
    if ok and value is not None and not isinstance(value, str):
        problems.add(f"field {name!r} is not a timestamp: {value!r:.40}")
        value = None
    return value, problems.text()


def _check_ids(ids: Sequence[str], raw_ids: Sequence[bytes | None], notes: list[list[str]]
               ) -> None:
    for index, (result_id, raw) in enumerate(zip(ids, raw_ids)):
        if raw is None:
            notes[index].append("no 'id' field")
        elif raw != b'"' + result_id.encode() + b'"':
            notes[index].append(f"'id' field {raw[:50]!r} differs from the key's id")


def _state(value: Any, problems: Problems) -> str | None:
    if value is None:
        return "PENDING"  # Mognet reads a null state as PENDING
    if value not in RESULT_STATES:
        problems.add(f"unknown state {value!r:.40}")
    return value if isinstance(value, str) else json.dumps(value)


def _uuid_text(name: str, value: Any, problems: Problems) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        problems.add(f"field {name!r} is not a UUID: {value!r:.40}")
        return None


def _text(name: str, value: Any, problems: Problems) -> str | None:
    if value is None or isinstance(value, str):
        return value
    problems.add(f"field {name!r} is not a string: {value!r:.40}")
    return json.dumps(value)


def _count(name: str, value: Any, problems: Problems) -> int | None:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.add(f"field {name!r} is not a count: {value!r:.40}")
        return None
    return value
