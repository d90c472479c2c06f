"""Helpers shared by the pure decoders: JSON fields, timestamps, error notes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

__all__ = ["MAX_JSON_DEPTH", "Problems", "decode_text", "decode_json_field", "json_text_field",
           "parse_json", "parse_utc"]

# Deeper JSON is refused: Mognet writes a few levels at most, and every later
# step (flattening metadata, json.dumps, repr, Parquet) recurses once per level.
MAX_JSON_DEPTH = 100


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


def parse_json(text: str | bytes) -> tuple[bool, Any, str | None]:
    """``(ok, value, why_not)`` of one JSON document read from Redis; never raises.

    Every decoder parses JSON through here, so one place decides what a
    document may be: any parser failure (syntax, a number too long to convert,
    nesting that exhausts the parser's recursion) and any document nested more
    than :data:`MAX_JSON_DEPTH` levels is refused with a reason.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        return False, None, f"nested more than {MAX_JSON_DEPTH} levels deep"
    except UnicodeDecodeError:
        return False, None, "not valid UTF-8"
    except ValueError as exc:  # JSONDecodeError, or an integer past Python's digit limit
        return False, None, "not JSON" if isinstance(exc, json.JSONDecodeError) else \
            "a number too long to read"
    if _deeper_than(text, value, MAX_JSON_DEPTH):
        return False, None, f"nested more than {MAX_JSON_DEPTH} levels deep"
    return True, value, None


def _deeper_than(text: str | bytes, value: Any, limit: int) -> bool:
    if not isinstance(value, (list, dict)):
        return False
    opened = text.count("[") + text.count("{") if isinstance(text, str) else \
        text.count(b"[") + text.count(b"{")
    if opened <= limit:
        return False  # the common case: too few brackets to be that deep
    # An explicit stack: measuring depth must not recurse either.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (list, dict)))
    return False


def decode_json_field(name: str, raw: bytes, problems: Problems) -> tuple[bool, Any]:
    """``(ok, value)`` of one JSON-encoded hash field; never raises."""
    text = decode_text(raw, f"field {name!r}", problems)
    ok, value, why = parse_json(text)
    if not ok:
        problems.add(f"field {name!r} is {why}: {text[:40]!r}")
    return ok, value


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
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59-23:59 is past year 9999 in UTC
        problems.add(f"field {name!r} is out of range in UTC: {value[:40]!r}")
        return None


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
