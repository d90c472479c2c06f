"""Decode a Mognet result hash (``{app}.mognet.result.{uuid}``) into a record."""

from __future__ import annotations

import json
import uuid
from typing import Any, Mapping

from .common import Problems, decode_json_field, decode_text, parse_utc

__all__ = ["RESULT_FIELDS", "RESULT_STATES", "READY_STATES", "decode_result"]

RESULT_STATES = ("PENDING", "RUNNING", "SUSPENDED", "SUCCESS", "FAILURE", "REVOKED", "INVALID")
READY_STATES = frozenset({"SUCCESS", "FAILURE", "REVOKED", "INVALID"})
_TIME_FIELDS = ("created", "started", "finished")
_INT_FIELDS = ("number_of_starts", "number_of_stops")
_TEXT_FIELDS = ("name", "node_id", "request_kwargs_repr")
RESULT_FIELDS = ("id", "state", "parent_id", *_TEXT_FIELDS, *_INT_FIELDS, *_TIME_FIELDS)


def decode_result(result_id: str, fields: Mapping[bytes, bytes]) -> dict[str, Any]:
    """Turn HGETALL of a result hash into a ``results`` record.

    Never raises: a field that cannot be read becomes NA and is described in
    the record's ``error``; fields Mognet does not write are kept, as JSON
    text, in ``extra_fields``.
    """
    problems = Problems()
    decoded: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for raw_name, raw_value in fields.items():
        name = decode_text(raw_name, "a field name", problems)
        ok, value = decode_json_field(name, raw_value, problems)
        if name in RESULT_FIELDS:
            decoded[name] = value if ok else None
        else:
            extra[name] = value if ok else decode_text(raw_value, name, Problems())
    record: dict[str, Any] = {"result_id": result_id}
    _check_id(result_id, decoded, problems)
    record["state"] = _state(decoded.get("state"), problems)
    record["parent_id"] = _uuid_text("parent_id", decoded.get("parent_id"), problems)
    for name in _TEXT_FIELDS:
        record[name] = _text(name, decoded.get(name), problems)
    for name in _INT_FIELDS:
        record[name] = _count(name, decoded.get(name), problems)
    for name in _TIME_FIELDS:
        record[name] = parse_utc(name, decoded.get(name), problems)
    record["extra_fields"] = json.dumps(extra, sort_keys=True) if extra else None
    record["error"] = problems.text()
    return record


def _check_id(result_id: str, decoded: Mapping[str, Any], problems: Problems) -> None:
    if "id" not in decoded:
        problems.add("no 'id' field")
    elif decoded["id"] != result_id:
        problems.add(f"'id' field {decoded['id']!r:.50} differs from the key's id")


def _state(value: Any, problems: Problems) -> str | None:
    if value is None:
        # A hash holding only `id` (get_or_create before the row was written)
        # has no state; Mognet reads that as PENDING.
        return "PENDING"
    if value not in RESULT_STATES:
        problems.add(f"unknown state {value!r:.40}")
        return str(value)
    return str(value)


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
