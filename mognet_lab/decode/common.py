"""Helpers shared by the pure decoders: JSON fields, timestamps, error notes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

__all__ = ["Problems", "decode_text", "decode_json_field", "json_text_field", "parse_utc"]


class Problems:
    """Collects what could not be read in one key; joined into its ``error`` cell."""

    __slots__ = ("_notes", "fatal")

    def __init__(self) -> None:
        self._notes: list[str] = []
        # Set when the problem means Mognet itself could not read the data.
        self.fatal = False

    def add(self, note: str, *, fatal: bool = False) -> None:
        self._notes.append(note)
        self.fatal = self.fatal or fatal

    def text(self) -> str | None:
        return "; ".join(self._notes) if self._notes else None


def decode_text(raw: bytes, what: str, problems: Problems) -> str:
    """UTF-8 text of ``raw``; undecodable bytes are replaced and noted."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add(f"{what} is not valid UTF-8")
        return raw.decode("utf-8", "replace")


def decode_json_field(name: str, raw: bytes, problems: Problems) -> tuple[bool, Any]:
    """``(ok, value)`` of one JSON-encoded hash field; never raises."""
    text = decode_text(raw, f"field {name!r}", problems)
    try:
        return True, json.loads(text)
    except ValueError:
        problems.add(f"field {name!r} is not JSON: {text[:40]!r}")
        return False, None


def parse_utc(name: str, value: Any, problems: Problems) -> datetime | None:
    """A timestamp field as an aware UTC datetime, or None (noted if malformed)."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(f"field {name!r} is not a timestamp: {value!r:.40}")
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        problems.add(f"field {name!r} is not an ISO-8601 timestamp: {value[:40]!r}")
        return None
    if parsed.tzinfo is None:
        # Mognet always writes UTC; a naive value from another writer is read as UTC.
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_COMMON_TEXT = {b'"gzip"': "gzip", b"null": None, b'"application/json"': "application/json"}


def json_text_field(fields: Mapping[bytes, bytes], name: bytes, problems: Problems) -> str | None:
    """A hash field holding a JSON string or null (``"gzip"``, ``null``); other JSON is kept
    as its text and noted."""
    raw = fields.get(name)
    if raw is None:
        return None
    if raw in _COMMON_TEXT:
        return _COMMON_TEXT[raw]
    ok, value = decode_json_field(name.decode(), raw, problems)
    if ok and (value is None or isinstance(value, str)):
        return value
    text = raw.decode("utf-8", "replace")
    if ok:
        problems.add(f"field {name.decode()!r} is not a string: {text[:40]!r}")
    return text
