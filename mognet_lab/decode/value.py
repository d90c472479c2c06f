"""Decode a Mognet value hash (``.../value``) into a record, never unpickling.

Only a capped head of the uncompressed JSON is parsed (for ``value_type`` and
an exception's name and message); sizes come from :mod:`.gzipsize`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..format import EXCEPTION_INFO_TYPE, NOT_READY_NAME
from ..raw import Clipped, NotRead
from .common import Problems, decode_text, json_text_field, parse_json
from .gzipsize import measure_gzip

__all__ = ["EXCEPTION_INFO_TYPE", "NOT_READY_NAME", "decode_value"]

_KNOWN_FIELDS = {b"contents", b"encoding", b"content_type"}
_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'
_VALUE_TYPE = re.compile(rb'"value_type"\s*:\s*' + _JSON_STRING.encode())
_EXC_NAME = re.compile(rb'"raw_value"\s*:\s*\{\s*"name"\s*:\s*' + _JSON_STRING.encode())
_EXC_MESSAGE = re.compile(rb'"message"\s*:\s*"((?:[^"\\]|\\.)*)')
MESSAGE_CHARS = 500


def decode_value(
    result_id: str, fields: Mapping[bytes, bytes], *, decompress_cap: int, head_bytes: int
) -> dict[str, Any]:
    """Turn HGETALL of a value hash into a ``values`` record (never raises)."""
    problems = Problems()
    contents = fields.get(b"contents")
    record: dict[str, Any] = {"result_id": result_id}
    record["encoding"] = json_text_field(fields, b"encoding", problems)
    record["content_type"] = json_text_field(fields, b"content_type", problems)
    if not fields.keys() <= _KNOWN_FIELDS:
        extra = sorted(k.decode("utf-8", "replace") for k in fields if k not in _KNOWN_FIELDS)
        problems.add(f"unexpected fields {extra}")
    if contents is None:
        problems.add("no 'contents' field", fatal=True)
        return _finish(record, None, None, None, b"", problems)
    record["stored_bytes"] = contents.size if isinstance(contents, tuple) else len(contents)
    if isinstance(contents, NotRead):
        problems.add(contents.reason, fatal=True)
        return _finish(record, None, None, None, b"", problems)
    raw_bytes, source, head = _measure(contents, record["encoding"], problems,
                                       decompress_cap, head_bytes)
    if record["content_type"] != "application/json":
        problems.add(f"unknown content_type {record['content_type']!r:.40}: contents not parsed",
                     fatal=True)
        head = b""
    return _finish(record, raw_bytes, source, record["stored_bytes"], head, problems)


def _measure(contents: bytes | Clipped, encoding: str | None, problems: Problems,
             cap: int, head_bytes: int) -> tuple[int | None, str | None, bytes]:
    clipped = contents if isinstance(contents, Clipped) else None
    data: bytes = clipped.head if clipped is not None else contents  # type: ignore[assignment]
    if encoding is None:
        return (clipped.size if clipped else len(data)), "plain", data[:head_bytes]
    if encoding != "gzip":
        problems.add(f"unknown encoding {encoding!r:.40}: raw size unknown", fatal=True)
        return None, None, b""
    size = measure_gzip(data, cap=cap, head_bytes=head_bytes,
                        stored_size=clipped.size if clipped else None,
                        trailer=clipped.tail if clipped else None)
    if size.error:
        # Only a size too large to be sure of leaves the stream readable.
        problems.add(size.error, fatal="size unknown" not in size.error)
    return size.raw_bytes, size.source, size.head


def _finish(record: dict[str, Any], raw_bytes: int | None, source: str | None,
            stored: int | None, head: bytes, problems: Problems) -> dict[str, Any]:
    record.setdefault("stored_bytes", stored)
    record["raw_bytes"] = raw_bytes
    record["raw_bytes_source"] = source
    record["compression_ratio"] = raw_bytes / stored if raw_bytes is not None and stored else None
    record.update(_describe_head(head, complete=raw_bytes is not None and len(head) == raw_bytes,
                                 problems=problems))
    record["readable"] = record["value_type"] is not None and not problems.fatal
    record["error"] = problems.text()
    return record


def _describe_head(head: bytes, *, complete: bool, problems: Problems) -> dict[str, Any]:
    """value_type and exception name/message from the start of the JSON document."""
    if not head:
        return {"value_type": None, "is_exception": None, "exception_name": None,
                "exception_message": None}
    if complete:
        return _from_document(head, problems)
    # A prefix may end inside a multi-byte character: check all but its tail.
    decode_text(head[:-4], "contents", problems)
    return _from_prefix(head, problems)


def _from_document(document: bytes, problems: Problems) -> dict[str, Any]:
    ok, parsed, why = parse_json(document)
    if why == "not valid UTF-8":
        problems.add("contents is not valid UTF-8", fatal=True)
        ok, parsed, why = parse_json(document.decode("utf-8", "replace"))
    if not ok:
        problems.add("contents are not JSON" if why == "not JSON" else f"contents are {why}",
                     fatal=True)
        return _from_prefix(document, Problems())
    if not isinstance(parsed, dict) or not isinstance(parsed.get("value_type"), (str, type(None))):
        problems.add("contents are not a Mognet value holder", fatal=True)
        return {"value_type": None, "is_exception": None, "exception_name": None,
                "exception_message": None}
    value_type = parsed.get("value_type")
    raw = parsed.get("raw_value")
    is_exception = value_type == EXCEPTION_INFO_TYPE
    info = raw if is_exception and isinstance(raw, dict) else {}
    return {"value_type": value_type, "is_exception": is_exception,
            "exception_name": _short(info.get("name")),
            "exception_message": _short(info.get("message"), MESSAGE_CHARS)}


def _from_prefix(head: bytes, problems: Problems) -> dict[str, Any]:
    """Large documents: read the leading fields with patterns instead of a full parse."""
    match = _VALUE_TYPE.search(head)
    if match is None:
        problems.add("no value_type in the first bytes of contents", fatal=True)
        return {"value_type": None, "is_exception": None, "exception_name": None,
                "exception_message": None}
    value_type = _unescape(match[1])
    is_exception = value_type == EXCEPTION_INFO_TYPE
    name = _EXC_NAME.search(head) if is_exception else None
    message = _EXC_MESSAGE.search(head) if is_exception else None
    return {"value_type": value_type, "is_exception": is_exception,
            "exception_name": _unescape(name[1]) if name else None,
            "exception_message": _short(_unescape(message[1]), MESSAGE_CHARS) if message else None}


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    ok, value, _ = parse_json(f'"{text}"')
    # A string cut at the head's end may end inside an escape sequence.
    return str(value) if ok else text


def _short(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
