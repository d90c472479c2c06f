"""Decode children sets, metadata hashes and state hashes (pure, tolerant)."""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterable, Mapping

from .common import Problems, decode_json_field, decode_text

__all__ = ["decode_children", "decode_json_hash", "flatten"]


def decode_children(members: Iterable[bytes]) -> tuple[list[str], list[str]]:
    """``(child_ids, problems)`` of a children set's raw 16-byte members."""
    child_ids: list[str] = []
    bad: list[str] = []
    for member in members:
        if len(member) == 16:
            child_ids.append(str(uuid.UUID(bytes=member)))
        else:
            bad.append(f"member of {len(member)} bytes (expected 16): {member[:24]!r}")
    return child_ids, bad


def decode_json_hash(fields: Mapping[bytes, bytes]) -> tuple[dict[str, Any], str | None]:
    """Field name -> decoded JSON value; undecodable values are kept as text."""
    problems = Problems()
    decoded: dict[str, Any] = {}
    for raw_name, raw_value in fields.items():
        name = decode_text(raw_name, "a field name", problems)
        ok, value = decode_json_field(name, raw_value, problems)
        decoded[name] = value if ok else raw_value.decode("utf-8", "replace")
    return decoded, problems.text()


def flatten(fields: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become ``a.b`` columns; lists stay as JSON text."""
    flat: dict[str, Any] = {}
    for name, value in fields.items():
        column = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{column}."))
        elif isinstance(value, (list, dict)):
            flat[column] = json.dumps(value)
        else:
            flat[column] = value
    return flat
