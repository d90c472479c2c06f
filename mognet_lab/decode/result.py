"""Decode a Mognet result hash (``{app}.mognet.result.{uuid}``) into a record."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Mapping

from .common import Problems, decode_json_field, decode_text, parse_utc

__all__ = ["RESULT_FIELDS", "RESULT_STATES", "READY_STATES", "ResultDecoder"]

RESULT_STATES = ("PENDING", "RUNNING", "SUSPENDED", "SUCCESS", "FAILURE", "REVOKED", "INVALID")
READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED", "INVALID"})
_TIME_FIELDS = ("created", "started", "finished")
_INT_FIELDS = ("number_of_starts", "number_of_stops")
_TEXT_FIELDS = ("name", "node_id", "request_kwargs_repr")
RESULT_FIELDS = ("id", "state", "parent_id", *_TEXT_FIELDS, *_INT_FIELDS, *_TIME_FIELDS)
_FIELD_NAMES = {name.encode(): name for name in RESULT_FIELDS}
_CACHE_LIMIT = 50_000


class ResultDecoder:
    """Decodes result hashes; remembers decoded field values seen before.

    Names, states, node ids and counters repeat across thousands of results,
    so each distinct raw value is parsed once per scan.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes], tuple[Any, str | None]] = {}

    def decode(self, result_id: str, fields: Mapping[bytes, bytes]) -> dict[str, Any]:
        """Turn HGETALL of a result hash into a ``results`` record.

        Never raises: a field that cannot be read becomes NA and is described
        in the record's ``error``; fields Mognet does not write are kept, as
        JSON text, in ``extra_fields``.
        """
        problems = Problems()
        record: dict[str, Any] = {"result_id": result_id, "state": "PENDING",
                                  "number_of_starts": 0, "number_of_stops": 0}
        extra: dict[str, Any] = {}
        for raw_name, raw_value in fields.items():
            name = _FIELD_NAMES.get(raw_name)
            if name is None:
                self._keep_extra(raw_name, raw_value, extra, problems)
            elif name in _TIME_FIELDS:
                record[name] = _timestamp(name, raw_value, problems)
            elif name == "id":
                _check_id(result_id, raw_value, problems)
            else:
                value, note = self._field(name, raw_value)
                record[name] = value
                if note:
                    problems.add(note)
        if b"id" not in fields:
            problems.add("no 'id' field")
        record["extra_fields"] = json.dumps(extra, sort_keys=True) if extra else None
        record["error"] = problems.text()
        return record

    def _field(self, name: str, raw: bytes) -> tuple[Any, str | None]:
        cached = self._cache.get((name, raw))
        if cached is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[(name, raw)] = _decode_field(name, raw)
        return cached

    @staticmethod
    def _keep_extra(raw_name: bytes, raw_value: bytes, extra: dict[str, Any],
                    problems: Problems) -> None:
        name = decode_text(raw_name, "a field name", problems)
        ok, value = decode_json_field(name, raw_value, problems)
        extra[name] = value if ok else raw_value.decode("utf-8", "replace")


def _decode_field(name: str, raw: bytes) -> tuple[Any, str | None]:
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


def _timestamp(name: str, raw: bytes, problems: Problems) -> datetime | None:
    # Mognet's timestamps are plain JSON strings or null: skip json.loads for them.
    if raw == b"null":
        return None
    if raw[:1] == b'"' and raw[-1:] == b'"' and b"\\" not in raw:
        text = raw[1:-1].decode("utf-8", "replace")
        return parse_utc(name, text, problems)
    ok, value = decode_json_field(name, raw, problems)
    return parse_utc(name, value, problems) if ok else None


def _check_id(result_id: str, raw: bytes, problems: Problems) -> None:
    if raw != b'"' + result_id.encode() + b'"':
        problems.add(f"'id' field {raw[:50]!r} differs from the key's id")


def _state(value: Any, problems: Problems) -> str | None:
    if value is None:
        return "PENDING"  # Mognet reads a missing/null state as PENDING
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
